"""The benchmark's scratch data: N customers written with set-based SQL.

Every customer gets 5 of 200 tags, one group of the single-choice "Region"
set (a leaf under North, Midlands or South), 0-2 groups of the multi-choice
"Interests" set, one of 6 statuses, and 1 or 2 contacts with an email and a
mobile (half also a landline). Two extra "Interests" groups pick fixed
shares for the bulk operations: "Cohort A" is every 5th customer (20%),
"Cohort B" every 10th (10%). For the billing rows every customer has 1-3
monthly services (a broadband plan; a static IP for two in three; a second
line for one in three), all started before the bench's billing date, and
every 10th a usage charge dated before its cut-off.

Rows are made by INSERT … SELECT over a number series, a handful of
statements in all, so a million customers take seconds, not hours. The
search index's triggers are off during the load and the index is rebuilt
in one pass afterwards.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.db import connection, transaction

from patron.accounts.models import Role, User
from patron.billing.models import UsageCharge
from patron.billing.runs import add_months, default_billing_day
from patron.catalogue.models import InventoryType, Service, TaxRate
from patron.customers.models import Contact, Customer
from patron.groups.models import Group, GroupSet
from patron.groups.services import set_group_path
from patron.ops.defaults import ensure_defaults
from patron.search import index
from patron.statuses.models import Status
from patron.subscriptions.models import CustomerService
from patron.tags.models import Tag

FIRST = [
    "Ada",
    "Alan",
    "Amira",
    "Arjun",
    "Beth",
    "Bilal",
    "Carys",
    "Chen",
    "Chloe",
    "Dafydd",
    "Dev",
    "Eilidh",
    "Ella",
    "Emeka",
    "Ffion",
    "Finn",
    "Grace",
    "Hamza",
    "Harriet",
    "Ian",
    "Imogen",
    "Isla",
    "Jack",
    "Jamal",
    "Kai",
    "Keira",
    "Leo",
    "Lily",
    "Lucas",
    "Maya",
    "Mohammed",
    "Niamh",
    "Noah",
    "Olivia",
    "Oscar",
    "Priya",
    "Quinn",
    "Rhys",
    "Ruby",
    "Sam",
    "Sana",
    "Seren",
    "Tariq",
    "Theo",
    "Una",
    "Vera",
    "Will",
    "Xander",
    "Yasmin",
    "Zara",
    "Aled",
    "Bethan",
    "Conor",
    "Deepa",
    "Eamon",
    "Fatima",
    "Gethin",
    "Hana",
    "Idris",
    "Jade",
]
LAST = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Wright",
    "Robinson",
    "Thompson",
    "Evans",
    "Walker",
    "White",
    "Roberts",
    "Green",
    "Hall",
    "Thomas",
    "Clarke",
    "Jackson",
    "Wood",
    "Harris",
    "Edwards",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Hughes",
    "Moore",
    "Clark",
    "King",
    "Harrison",
    "Lewis",
    "Baker",
    "Lee",
    "Allen",
    "Morris",
    "Khan",
    "Scott",
    "Watson",
    "Davis",
    "Parker",
    "James",
    "Bennett",
    "Young",
    "Phillips",
    "Richardson",
    "Mitchell",
    "Bailey",
    "Carter",
    "Cook",
    "Singh",
    "Shaw",
    "Bell",
    "Collins",
    "Morgan",
    "Kelly",
    "Begum",
    "Miller",
    "Cox",
    "Hussain",
    "Marshall",
    "Simpson",
    "Price",
    "Anderson",
    "Adams",
    "Chapman",
    "Ali",
    "Ellis",
    "Lovelace",
    "Mason",
    "Stevens",
    "Webb",
    "Rogers",
    "Gray",
    "Pearson",
    "Hunt",
]
CITIES = [
    "Leeds",
    "York",
    "Bradford",
    "Sheffield",
    "Hull",
    "Manchester",
    "Liverpool",
    "Newcastle",
    "Durham",
    "Carlisle",
    "Birmingham",
    "Coventry",
    "Leicester",
    "Nottingham",
    "Derby",
    "Bristol",
    "Bath",
    "Exeter",
    "Plymouth",
    "Cardiff",
]
STREETS = [
    "High Street",
    "Station Road",
    "Church Lane",
    "Mill Lane",
    "Victoria Road",
    "Park Avenue",
    "Queen Street",
    "King's Road",
    "Green Lane",
    "Manor Way",
    "Chapel Street",
    "North Road",
    "Springfield Close",
    "The Crescent",
]
REGIONS = {
    "North": ["Yorkshire", "Tyneside", "Cumbria"],
    "Midlands": ["West Midlands", "East Midlands", "Lincolnshire"],
    "South": ["Bristol Area", "Devon", "South Wales"],
}
INTERESTS = ["Sports", "Gaming", "Music", "Travel"]
TAG_COUNT = 200
TAGS_PER_CUSTOMER = 5
STATUS_COUNT = 6


@dataclass
class BenchData:
    """What the loader made, for the operations to refer to."""

    customers: int
    owner: object = None
    tags: list = field(default_factory=list)
    statuses: list = field(default_factory=list)
    regions: dict = field(default_factory=dict)
    interests: list = field(default_factory=list)
    cohort_a: object = None
    cohort_b: object = None
    load_seconds: float = 0.0
    sql_seconds: float = 0.0
    # Billing: the catalogue (code -> Service), the date the bench bills, its load time.
    services: dict = field(default_factory=dict)
    billing_date: object = None
    billing_seconds: float = 0.0


def _is_pg() -> bool:
    return connection.vendor == "postgresql"


def _series(n: int) -> str:
    """`FROM …` clause giving integers g.i = 1..n."""
    if _is_pg():
        return f"generate_series(1, {int(n)}) AS g(i)"
    return (
        f"(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {int(n)}) "
        "SELECT i FROM s) AS g"
    )


def _padded(expr: str, width: int) -> str:
    if _is_pg():
        return f"lpad(CAST({expr} AS text), {width}, '0')"
    return f"printf('%0{width}d', {expr})"


def _days_ago(expr: str, kind: str) -> str:
    if _is_pg():
        base = "now()" if kind == "datetime" else "current_date"
        return f"({base} - ({expr}) * interval '1 day')" + ("::date" if kind == "date" else "")
    if kind == "date":
        return f"date('now', '-' || ({expr}) || ' days')"
    return f"strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || ({expr}) || ' days')"


def _now() -> str:
    return "now()" if _is_pg() else "strftime('%Y-%m-%d %H:%M:%f', 'now')"


def _pick(table: str, key: str) -> str:
    """The value numbered `key` in a lookup table: a scalar subquery on its primary key,
    which both databases answer with one index probe per row (a join on an expression
    can make SQLite loop over the lookup table instead)."""
    return f"(SELECT v FROM {table} WHERE k = {key})"


def _literal(value) -> str:
    """`value` as an SQL literal, for the few kinds of field default there are."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if value == {}:
        return "'{}'::jsonb" if _is_pg() else "'{}'"
    raise TypeError(value)


def _unnamed_columns(model, named: str) -> tuple[str, str]:
    """The NOT NULL columns of `model` that an INSERT naming `named` leaves out, with
    their field defaults: `(", col, ...", ", value, ...")` to append to it. A field
    Patron adds later (a blank text, a flag) then never stops the benchmark."""
    names = {name.strip() for name in named.split(",")}
    columns, values = [], []
    for model_field in model._meta.concrete_fields:
        if model_field.primary_key or model_field.null or model_field.column in names:
            continue
        try:
            # A text field without a default gets "" from Django, as the forms would save.
            value = _literal(model_field.get_default())
        except TypeError:
            raise RuntimeError(
                f"The benchmark cannot fill {model._meta.db_table}.{model_field.column}: "
                "name it in the INSERT in patron/ops/bench/data.py."
            ) from None
        columns.append(model_field.column)
        values.append(value)
    return "".join(f", {c}" for c in columns), "".join(f", {v}" for v in values)


def _execute(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


def _lookup_table(name: str, values: list) -> None:
    """A temporary table (k, v) numbering `values` from 0, for joins on `id % len`."""
    _execute(f"DROP TABLE IF EXISTS {name}")
    kind = "bigint" if values and isinstance(values[0], int) else "text"
    _execute(f"CREATE TEMPORARY TABLE {name} (k integer PRIMARY KEY, v {kind})")
    with connection.cursor() as cursor:
        cursor.executemany(f"INSERT INTO {name} (k, v) VALUES (%s, %s)", list(enumerate(values)))


def _reference_data(data: BenchData) -> None:
    """Owner, statuses, tags and groups, through the ORM (a few hundred rows)."""
    ensure_defaults()
    owner = User(username="bench-owner", role=Role.objects.get(name=Role.OWNER))
    owner.set_unusable_password()
    owner.save()
    data.owner = owner

    usable = list(
        Status.objects.filter(visible_in_backend=True)
        .exclude(availability=Status.Availability.HISTORICAL)
        .order_by("position", "id")
    )
    extra = 0
    while len(usable) < STATUS_COUNT:
        extra += 1
        usable.append(Status.objects.create(name=f"Bench status {extra}", position=900 + extra))
    data.statuses = usable[:STATUS_COUNT]

    Tag.objects.bulk_create([Tag(name=f"Tag {n:03d}") for n in range(1, TAG_COUNT + 1)])
    data.tags = list(Tag.objects.filter(name__startswith="Tag ").order_by("name"))

    def group(name, group_set, parent=None):
        g = Group.objects.create(name=name, group_set=group_set, parent=parent)
        set_group_path(g)
        return g

    region = GroupSet.objects.create(name="Bench Region", single_choice=True)
    interests = GroupSet.objects.create(name="Bench Interests", single_choice=False)
    for parent_name, children in REGIONS.items():
        parent = group(parent_name, region)
        data.regions[parent] = [group(child, region, parent) for child in children]
    data.interests = [group(name, interests) for name in INTERESTS]
    data.cohort_a = group("Cohort A", interests)
    data.cohort_b = group("Cohort B", interests)


def _load_rows(data: BenchData) -> None:
    n = data.customers
    _lookup_table("bench_first", FIRST)
    _lookup_table("bench_last", LAST)
    _lookup_table("bench_city", CITIES)
    _lookup_table("bench_street", STREETS)
    # Status mix: 60% the first status, the rest spread over the other five.
    mix = [data.statuses[1]] * 12 + [
        s for s in data.statuses for _ in range(2) if s != data.statuses[1]
    ][:8]
    _lookup_table("bench_status", [s.pk for s in mix])
    leaves = [leaf for children in data.regions.values() for leaf in children]
    _lookup_table("bench_region", [g.pk for g in leaves])
    _lookup_table("bench_tag", [t.pk for t in data.tags])
    json_empty = "'{}'::jsonb" if _is_pg() else "'{}'"
    now = _now()
    nf, nl, nc, ns = len(FIRST), len(LAST), len(CITIES), len(STREETS)

    first = _pick("bench_first", f"g.i % {nf}")
    last = _pick("bench_last", f"(g.i / {nf}) % {nl}")
    city = _pick("bench_city", f"(g.i * 7) % {nc}")
    customer_columns, customer_values = _unnamed_columns(
        Customer,
        "created, modified, version, account_number, name, kind, status_id, service_street, "
        "service_city, service_postcode, service_country, billing_same_as_service, "
        "billing_street, billing_city, billing_postcode, billing_country, notes, "
        "custom_fields, status_since, archived",
    )
    contact_columns, contact_values = _unnamed_columns(
        Contact,
        "created, modified, version, customer_id, name, title, email, phone, mobile, "
        "is_primary, email_opt_out, sms_opt_out",
    )
    _execute(f"""
        INSERT INTO customers_customer (
            created, modified, version, account_number, name, kind, status_id,
            service_street, service_city, service_postcode, service_country,
            billing_same_as_service, billing_street, billing_city, billing_postcode,
            billing_country, notes, custom_fields, status_since, archived{customer_columns})
        SELECT {_days_ago("g.i % 2000", "datetime")}, {now}, 1,
               'B' || {_padded("g.i", 8)},
               {first} || ' ' || {last},
               CASE WHEN g.i % 10 = 0 THEN 'company' ELSE 'person' END,
               {_pick("bench_status", "(g.i * 11) % 20")},
               CAST(g.i % 180 + 1 AS text) || ' ' || {_pick("bench_street", f"(g.i * 3) % {ns}")},
               {city},
               upper(substr({city}, 1, 2)) || CAST(g.i % 28 + 1 AS text) || ' '
                   || CAST(g.i % 9 + 1 AS text) || 'A'
                   || substr('BDEFGHJLNPQRSTUWXYZ', g.i % 19 + 1, 1),
               'GB', true, '', '', '', '', '', {json_empty},
               {_days_ago("g.i % 1500", "date")}, false{customer_values}
        FROM {_series(n)}
    """)
    # The primary contact is the account holder; every second account has a second person.
    mobile = "'+447' || " + _padded("(c.id * 7919) % 1000000000", 9)
    mobile2 = "'+447' || " + _padded("(c.id * 104729 + 17) % 1000000000", 9)
    landline = "'+44113' || " + _padded("c.id % 10000000", 7)
    second = _pick("bench_first", f"(c.id / 7) % {nf}")
    second_last = _pick("bench_last", f"(c.id / {nf}) % {nl}")
    _execute(f"""
        INSERT INTO customers_contact (
            created, modified, version, customer_id, name, title, email, phone, mobile,
            is_primary, email_opt_out, sms_opt_out{contact_columns})
        SELECT c.created, c.modified, 1, c.id, c.name, '',
               lower(replace(c.name, ' ', '.')) || CAST(c.id AS text) || '@example.net',
               CASE WHEN c.id % 2 = 1 THEN {landline} ELSE '' END,
               {mobile}, true, false, false{contact_values}
        FROM customers_customer c
    """)
    _execute(f"""
        INSERT INTO customers_contact (
            created, modified, version, customer_id, name, title, email, phone, mobile,
            is_primary, email_opt_out, sms_opt_out{contact_columns})
        SELECT c.created, c.modified, 1, c.id, {second} || ' ' || {second_last}, '',
               lower({second}) || '.' || CAST(c.id AS text) || '@mail.example.org', '',
               {mobile2}, false, false, false{contact_values}
        FROM customers_customer c
        WHERE c.id % 2 = 0
    """)
    for j in range(TAGS_PER_CUSTOMER):
        _execute(f"""
            INSERT INTO customers_customertag (customer_id, tag_id, created)
            SELECT c.id, {_pick("bench_tag", f"(c.id * 31 + {j * 41}) % {TAG_COUNT}")}, c.created
            FROM customers_customer c
        """)
    region_set = leaves[0].group_set_id
    _execute(f"""
        INSERT INTO customers_groupmembership
            (customer_id, group_id, group_set_id, exclusive, created)
        SELECT c.id, {_pick("bench_region", f"(c.id * 13) % {len(leaves)}")}, {region_set},
               true, c.created
        FROM customers_customer c
    """)
    interest_set = data.cohort_a.group_set_id
    _lookup_table("bench_interest", [g.pk for g in data.interests])
    memberships = [
        ("WHERE c.id % 3 = 0", _pick("bench_interest", "(c.id / 3) % 4")),
        (
            "WHERE c.id % 7 = 0 AND (c.id / 7) % 4 <> (c.id / 3) % 4",
            _pick("bench_interest", "(c.id / 7) % 4"),
        ),
        ("WHERE c.id % 5 = 0", str(data.cohort_a.pk)),
        ("WHERE c.id % 10 = 1", str(data.cohort_b.pk)),
    ]
    for where, group_id in memberships:
        _execute(f"""
            INSERT INTO customers_groupmembership
                (customer_id, group_id, group_set_id, exclusive, created)
            SELECT c.id, {group_id}, {interest_set}, false, c.created
            FROM customers_customer c {where}
        """)
    _execute(
        "UPDATE core_sequence SET value = (SELECT max(id) FROM customers_customer) "
        "WHERE name = 'customer'"
    )


# code, name, kind, price, inventory type
BENCH_SERVICES = [
    ("BFIBRE500", "Bench Fibre 500", "monthly", "45.00", "Broadband"),
    ("BFIBRE100", "Bench Fibre 100", "monthly", "30.00", "Broadband"),
    ("BSTATICIP", "Bench Static IP", "monthly", "10.00", "Broadband"),
    ("BCALLS", "Bench UK calls", "usage", "0.05", "Voice"),
]


def bench_billing_date(today) -> object:
    """The latest billing date up to today (day `PATRON_BILLING_DAY`): what the bench bills."""
    latest = today.replace(day=default_billing_day())
    return latest if latest <= today else add_months(latest, -1)


def _load_billing(data: BenchData) -> None:
    """A catalogue, 1-3 monthly services per customer and usage lines for a tenth.

    Customer `id % 3` = 0 has one service (Fibre 500 or 100 by id parity), 1 has
    a static IP too, 2 a second line as well; all started before the billing
    date. Every 10th customer has one usage charge dated before the cut-off.
    Three INSERT … SELECT for the services, one for the usage.
    """
    from datetime import date
    from decimal import Decimal

    from django.utils import timezone

    data.billing_date = bench_billing_date(timezone.localdate())
    rate = TaxRate.objects.create(name="Bench VAT", rate=Decimal("20.00"), is_default=True)
    types = {
        name: InventoryType.objects.create(name=f"Bench {name}") for name in ("Broadband", "Voice")
    }
    for code, name, kind, price, inventory in BENCH_SERVICES:
        data.services[code] = Service.objects.create(
            code=code,
            name=name,
            kind=kind,
            price=Decimal(price),
            unit="minute" if kind == "usage" else "",
            tax_rate=rate,
            inventory_type=types[inventory],
        )
    ids = {code: s.pk for code, s in data.services.items()}
    start = data.billing_date.toordinal()

    def day(offset: str) -> str:
        # A date `offset` days before the billing date, in each database's arithmetic.
        base = date.fromordinal(start).isoformat()
        if _is_pg():
            return f"(DATE '{base}' - CAST({offset} AS integer))"
        return f"date('{base}', '-' || ({offset}) || ' days')"

    named = (
        "created, modified, version, customer_id, service_id, quantity, price_override, "
        "start_date, end_date, status, note"
    )
    columns, values = _unnamed_columns(CustomerService, named)
    lines = [
        ("TRUE", f"CASE WHEN c.id % 2 = 0 THEN {ids['BFIBRE500']} ELSE {ids['BFIBRE100']} END"),
        ("c.id % 3 >= 1", str(ids["BSTATICIP"])),
        ("c.id % 3 = 2", str(ids["BFIBRE100"])),
    ]
    for where, service in lines:
        _execute(f"""
            INSERT INTO subscriptions_customerservice ({named}{columns})
            SELECT c.created, c.modified, 1, c.id, {service}, 1, NULL,
                   {day("c.id % 300 + 1")}, NULL, 'active', ''{values}
            FROM customers_customer c WHERE {where}
        """)
    named = (
        "created, modified, version, customer_id, service_id, date, description, quantity, "
        "amount, reference"
    )
    columns, values = _unnamed_columns(UsageCharge, named)
    _execute(f"""
        INSERT INTO billing_usagecharge ({named}{columns})
        SELECT c.created, c.modified, 1, c.id, {ids["BCALLS"]}, {day("c.id % 20 + 1")},
               'UK calls', c.id % 500 + 10, (c.id % 500 + 10) * 0.05,
               'bench-calls-' || CAST(c.id AS text){values}
        FROM customers_customer c WHERE c.id % 10 = 3
    """)


def load(customers: int) -> BenchData:
    """Fill the (empty, migrated) scratch database; the timings are kept on the result.

    Foreign-key checks are off while the rows go in (the loader writes only
    ids it has just read), which on a scratch database saves a check per row.
    """
    data = BenchData(customers=customers)
    started = time.perf_counter()
    pg = _is_pg()
    if pg:
        _execute("SET session_replication_role = replica")
    else:
        _execute("PRAGMA foreign_keys = OFF")
        _execute("PRAGMA synchronous = OFF")
        _execute("PRAGMA cache_size = -262144")
    try:
        with transaction.atomic():
            _reference_data(data)
            index.run("drop_triggers")
            sql_started = time.perf_counter()
            _load_rows(data)
            data.sql_seconds = time.perf_counter() - sql_started
            billing_started = time.perf_counter()
            _load_billing(data)
            data.billing_seconds = time.perf_counter() - billing_started
            index.run("rebuild")
            index.run("triggers")
    finally:
        if pg:
            _execute("SET session_replication_role = DEFAULT")
        else:
            _execute("PRAGMA foreign_keys = ON")
            _execute("PRAGMA synchronous = NORMAL")
    # A settled database has its visibility map set (autovacuum does it in time), which is
    # what lets PostgreSQL answer counts from index-only scans; VACUUM gets there at once.
    _execute("VACUUM ANALYZE" if pg else "ANALYZE")
    data.load_seconds = time.perf_counter() - started
    return data
