"""The SQL that builds and maintains the customer search index.

One row per customer in `search_customer_text`: `text` holds the account
number, external reference, name, company name, service and billing address,
every contact's name and email and the values of the customer's text custom
fields (`custom_fields` keys whose definition has type "text"), one per line,
folded (lower case, accents removed: "Müller" is stored "muller", so
"Muller", "MÜLLER" and "müller" all find it); `phones` holds the digits of
every contact's phone, mobile and fax (E.164 without the "+", or the digits
of a number kept as written). Triggers on the customer and contact tables
keep the row current, whatever writes them (services, bulk jobs, imports,
raw SQL).

- PostgreSQL: a plain table with pg_trgm GIN indexes on both columns, so
  `LIKE '%fragment%'` is an index lookup; folded by `search_fold()`
  (`lower(unaccent())`), and the searched text by the same function.
  Inserts and deletes are handled by statement-level triggers (one set-based
  refresh per INSERT statement, so a bulk import pays once per batch); updates
  by row triggers that fire only when a searched column really changed.
- SQLite: an FTS5 virtual table with the trigram tokenizer, rowid = customer
  id, maintained by row triggers; folded by `patron_fold()`, a deterministic
  function Patron registers on each of its SQLite connections
  (`patron.search.index.fold`; SQLite 3.40's trigram tokenizer cannot remove
  diacritics itself). A customer written from a connection without it (the
  sqlite3 shell) fails with "no such function: patron_fold".

Migration 0003 runs these statements (0001 and 0002 ran earlier versions,
frozen in migrations/_sql_0001.py and _sql_0002.py); a later change needs a
new migration that drops and recreates what changed. A custom field's type
cannot change and a field cannot be deleted while customers hold values for
it, so the definitions a row was indexed with stay true.
"""

TABLE = "search_customer_text"

CUSTOMER_COLUMNS = (
    "account_number",
    "external_reference",
    "name",
    "company_name",
    "service_street",
    "service_city",
    "service_postcode",
    "billing_street",
    "billing_city",
    "billing_postcode",
)
# The customer columns whose change re-indexes the row: the text above, and the
# custom field values.
TRIGGER_COLUMNS = (*CUSTOMER_COLUMNS, "custom_fields")
CONTACT_COLUMNS = ("name", "email", "phone", "mobile", "fax", "customer_id")
PHONE_COLUMNS = ("phone", "mobile", "fax")
# What a number may hold besides digits: E.164's "+", and a number kept as written.
PHONE_PUNCTUATION = "+()-./ "

# --- PostgreSQL ---------------------------------------------------------------------------

PG_FIELDS = ", ".join(f"nullif(c.{col}, '')" for col in CUSTOMER_COLUMNS)
PG_PHONES = ", ".join(
    f"nullif(translate({col}, '{PHONE_PUNCTUATION}', ''), '')" for col in PHONE_COLUMNS
)
# The values of the customer's text custom fields, one per line. Braces doubled:
# the rows below are templates filled with str.format().
PG_CUSTOM_TEXT = """(
        SELECT string_agg(nullif(j.value, ''), E'\\n' ORDER BY j.key)
        FROM jsonb_each_text(CASE WHEN jsonb_typeof(c.custom_fields) = 'object'
                                  THEN c.custom_fields ELSE '{{}}'::jsonb END) j
        JOIN customfields_customfield f ON f.key = j.key AND f.field_type = 'text')"""
PG_ROWS = f"""
    SELECT c.id,
           search_fold(concat_ws(E'\\n', {PG_FIELDS}, k.names, {PG_CUSTOM_TEXT})),
           coalesce(k.phones, '')
    FROM customers_customer c
    LEFT JOIN (
        SELECT customer_id,
               string_agg(concat_ws(E'\\n', nullif(name, ''), nullif(email, '')), E'\\n') AS names,
               string_agg(concat_ws(' ', {PG_PHONES}), ' ') AS phones
        FROM customers_contact
        {{contact_where}}
        GROUP BY customer_id
    ) k ON k.customer_id = c.id
    {{customer_where}}
"""

_PG_ROWS_FOR_IDS = PG_ROWS.format(
    contact_where="WHERE customer_id = ANY(ids)", customer_where="WHERE c.id = ANY(ids)"
)

PG_CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS unaccent",
    # Lower case without accents; the index text and the searched text both pass here.
    """CREATE OR REPLACE FUNCTION search_fold(value text) RETURNS text
        LANGUAGE sql STABLE PARALLEL SAFE AS $$ SELECT lower(unaccent(value)) $$""",
    f"""CREATE TABLE IF NOT EXISTS {TABLE} (
        customer_id bigint PRIMARY KEY,
        text text NOT NULL DEFAULT '',
        phones text NOT NULL DEFAULT ''
    )""",
    f"CREATE INDEX IF NOT EXISTS search_text_trgm ON {TABLE} USING gin (text gin_trgm_ops)",
    f"CREATE INDEX IF NOT EXISTS search_phones_trgm ON {TABLE} USING gin (phones gin_trgm_ops)",
    f"""CREATE OR REPLACE FUNCTION search_refresh(ids bigint[]) RETURNS void
        LANGUAGE sql AS $$
        INSERT INTO {TABLE} (customer_id, text, phones) {_PG_ROWS_FOR_IDS}
        ON CONFLICT (customer_id) DO UPDATE SET text = EXCLUDED.text, phones = EXCLUDED.phones;
        DELETE FROM {TABLE} s WHERE s.customer_id = ANY(ids)
            AND NOT EXISTS (SELECT 1 FROM customers_customer c WHERE c.id = s.customer_id);
    $$""",
    """CREATE OR REPLACE FUNCTION search_customers_inserted() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN PERFORM search_refresh(ARRAY(SELECT id FROM new_rows)); RETURN NULL; END $$""",
    f"""CREATE OR REPLACE FUNCTION search_customers_deleted() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM {TABLE} s USING old_rows o WHERE s.customer_id = o.id;
            RETURN NULL;
        END $$""",
    """CREATE OR REPLACE FUNCTION search_customer_updated() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN PERFORM search_refresh(ARRAY[NEW.id]); RETURN NULL; END $$""",
    """CREATE OR REPLACE FUNCTION search_contacts_inserted() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM search_refresh(ARRAY(SELECT DISTINCT customer_id FROM new_rows));
            RETURN NULL;
        END $$""",
    """CREATE OR REPLACE FUNCTION search_contacts_deleted() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM search_refresh(ARRAY(SELECT DISTINCT customer_id FROM old_rows));
            RETURN NULL;
        END $$""",
    """CREATE OR REPLACE FUNCTION search_contact_updated() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM search_refresh(ARRAY[OLD.customer_id, NEW.customer_id]);
            RETURN NULL;
        END $$""",
]


def _changed(columns) -> str:
    return " OR ".join(f"OLD.{col} IS DISTINCT FROM NEW.{col}" for col in columns)


PG_TRIGGERS = [
    """CREATE TRIGGER search_customers_ins AFTER INSERT ON customers_customer
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
        EXECUTE FUNCTION search_customers_inserted()""",
    """CREATE TRIGGER search_customers_del AFTER DELETE ON customers_customer
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
        EXECUTE FUNCTION search_customers_deleted()""",
    f"""CREATE TRIGGER search_customer_upd AFTER UPDATE OF {", ".join(TRIGGER_COLUMNS)}
        ON customers_customer FOR EACH ROW WHEN ({_changed(TRIGGER_COLUMNS)})
        EXECUTE FUNCTION search_customer_updated()""",
    """CREATE TRIGGER search_contacts_ins AFTER INSERT ON customers_contact
        REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
        EXECUTE FUNCTION search_contacts_inserted()""",
    """CREATE TRIGGER search_contacts_del AFTER DELETE ON customers_contact
        REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT
        EXECUTE FUNCTION search_contacts_deleted()""",
    f"""CREATE TRIGGER search_contact_upd AFTER UPDATE OF {", ".join(CONTACT_COLUMNS)}
        ON customers_contact FOR EACH ROW WHEN ({_changed(CONTACT_COLUMNS)})
        EXECUTE FUNCTION search_contact_updated()""",
]
PG_TRIGGER_NAMES = [
    ("search_customers_ins", "customers_customer"),
    ("search_customers_del", "customers_customer"),
    ("search_customer_upd", "customers_customer"),
    ("search_contacts_ins", "customers_contact"),
    ("search_contacts_del", "customers_contact"),
    ("search_contact_upd", "customers_contact"),
]
PG_DROP_TRIGGERS = [f"DROP TRIGGER IF EXISTS {name} ON {table}" for name, table in PG_TRIGGER_NAMES]
PG_DROP = [
    *PG_DROP_TRIGGERS,
    f"DROP TABLE IF EXISTS {TABLE}",
    "DROP FUNCTION IF EXISTS search_refresh(bigint[])",
    "DROP FUNCTION IF EXISTS search_customers_inserted()",
    "DROP FUNCTION IF EXISTS search_customers_deleted()",
    "DROP FUNCTION IF EXISTS search_customer_updated()",
    "DROP FUNCTION IF EXISTS search_contacts_inserted()",
    "DROP FUNCTION IF EXISTS search_contacts_deleted()",
    "DROP FUNCTION IF EXISTS search_contact_updated()",
    "DROP FUNCTION IF EXISTS search_fold(text)",
]
PG_REBUILD = [
    # Building a trigram index over a million rows is much faster with room to sort in.
    "SET LOCAL maintenance_work_mem = '256MB'",
    f"TRUNCATE {TABLE}",
    "DROP INDEX IF EXISTS search_text_trgm",
    "DROP INDEX IF EXISTS search_phones_trgm",
    f"INSERT INTO {TABLE} (customer_id, text, phones) "
    + PG_ROWS.format(contact_where="", customer_where=""),
    f"CREATE INDEX IF NOT EXISTS search_text_trgm ON {TABLE} USING gin (text gin_trgm_ops)",
    f"CREATE INDEX IF NOT EXISTS search_phones_trgm ON {TABLE} USING gin (phones gin_trgm_ops)",
    f"ANALYZE {TABLE}",
]

# The rows of the customers whose ids are in the array parameter, for a bulk write that
# bypassed the triggers (the customer import): one set-based statement instead of a
# trigger per batch. The customer filter also keeps the contact scan to those customers.
PG_REFRESH = [
    f"INSERT INTO {TABLE} (customer_id, text, phones) "
    + PG_ROWS.format(
        contact_where="WHERE customer_id = ANY(%(ids)s::bigint[])",
        customer_where="WHERE c.id = ANY(%(ids)s::bigint[])",
    )
    + " ON CONFLICT (customer_id) DO UPDATE SET text = EXCLUDED.text, phones = EXCLUDED.phones"
]

# --- SQLite -------------------------------------------------------------------------------

SQLITE_TEXT = " || char(10) || ".join(f"coalesce(c.{col}, '')" for col in CUSTOMER_COLUMNS)


def _sqlite_digits(column: str) -> str:
    expression = column
    for char in PHONE_PUNCTUATION:
        expression = f"replace({expression}, '{char}', '')"
    return expression


SQLITE_PHONES = " || ' ' || ".join(_sqlite_digits(f"k.{col}") for col in PHONE_COLUMNS)
# The values of the customer's text custom fields, one per line (NULL when none).
SQLITE_CUSTOM_TEXT = """(
        SELECT group_concat(j.value, char(10))
        FROM json_each(coalesce(CASE WHEN json_valid(c.custom_fields) THEN
            CASE WHEN json_type(c.custom_fields) = 'object' THEN c.custom_fields END END, '{{}}')) j
        JOIN customfields_customfield f ON f.key = j.key AND f.field_type = 'text'
        WHERE j.type = 'text' AND j.value != '')"""
SQLITE_ROW = f"""
    SELECT c.id,
           patron_fold({SQLITE_TEXT} || coalesce(char(10) || (
               SELECT group_concat(k.name || char(10) || k.email, char(10))
               FROM customers_contact k WHERE k.customer_id = c.id), '')
               || coalesce(char(10) || {SQLITE_CUSTOM_TEXT}, '')),
           coalesce((
               SELECT group_concat({SQLITE_PHONES}, ' ')
               FROM customers_contact k WHERE k.customer_id = c.id), '')
    FROM customers_customer c WHERE c.id = {{id}};
"""


def _sqlite_refresh(expr: str) -> str:
    return f"DELETE FROM {TABLE} WHERE rowid = {expr};\n" + (
        f"INSERT INTO {TABLE} (rowid, text, phones) " + SQLITE_ROW.format(id=expr)
    )


SQLITE_CREATE = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5(text, phones, tokenize='trigram')",
]
SQLITE_TRIGGERS = [
    f"""CREATE TRIGGER search_customer_ins AFTER INSERT ON customers_customer BEGIN
        {_sqlite_refresh("NEW.id")}
    END""",
    f"""CREATE TRIGGER search_customer_upd AFTER UPDATE OF {", ".join(TRIGGER_COLUMNS)}
        ON customers_customer BEGIN
        {_sqlite_refresh("NEW.id")}
    END""",
    f"""CREATE TRIGGER search_customer_del AFTER DELETE ON customers_customer BEGIN
        DELETE FROM {TABLE} WHERE rowid = OLD.id;
    END""",
    f"""CREATE TRIGGER search_contact_ins AFTER INSERT ON customers_contact BEGIN
        {_sqlite_refresh("NEW.customer_id")}
    END""",
    f"""CREATE TRIGGER search_contact_upd AFTER UPDATE OF {", ".join(CONTACT_COLUMNS)}
        ON customers_contact BEGIN
        {_sqlite_refresh("OLD.customer_id")}
        {_sqlite_refresh("NEW.customer_id")}
    END""",
    f"""CREATE TRIGGER search_contact_del AFTER DELETE ON customers_contact BEGIN
        {_sqlite_refresh("OLD.customer_id")}
    END""",
]
SQLITE_DROP_TRIGGERS = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "search_customer_ins",
        "search_customer_upd",
        "search_customer_del",
        "search_contact_ins",
        "search_contact_upd",
        "search_contact_del",
    )
]
SQLITE_DROP = [*SQLITE_DROP_TRIGGERS, f"DROP TABLE IF EXISTS {TABLE}"]
SQLITE_ROWS = f"""
    SELECT c.id, patron_fold({SQLITE_TEXT} || coalesce(char(10) || k.names, '')
                             || coalesce(char(10) || {SQLITE_CUSTOM_TEXT}, '')),
           coalesce(k.phones, '')
    FROM customers_customer c
    LEFT JOIN (
        SELECT customer_id,
               group_concat(name || char(10) || email, char(10)) AS names,
               group_concat({SQLITE_PHONES.replace("k.", "")}, ' ') AS phones
        FROM customers_contact {{contact_where}} GROUP BY customer_id
    ) k ON k.customer_id = c.id
    {{customer_where}}"""
SQLITE_REBUILD = [
    f"DELETE FROM {TABLE}",
    f"INSERT INTO {TABLE} (rowid, text, phones) "
    + SQLITE_ROWS.format(contact_where="", customer_where=""),
]

# The same refresh on SQLite; the parameter is a JSON array of customer ids.
_SQLITE_IDS = "IN (SELECT value FROM json_each(%(ids)s))"
SQLITE_REFRESH = [
    f"DELETE FROM {TABLE} WHERE rowid {_SQLITE_IDS}",
    f"INSERT INTO {TABLE} (rowid, text, phones) "
    + SQLITE_ROWS.format(
        contact_where=f"WHERE customer_id {_SQLITE_IDS}", customer_where=f"WHERE c.id {_SQLITE_IDS}"
    ),
]


def statements(vendor: str, kind: str) -> list[str]:
    """The statements of one kind ("create", "triggers", "drop", "drop_triggers", "rebuild",
    "refresh")."""
    prefix = {"postgresql": "PG", "sqlite": "SQLITE"}.get(vendor)
    if prefix is None:
        return []
    return list(globals()[f"{prefix}_{kind.upper()}"])
