"""Bench rows for billing: the billing run, a long ledger page, a balance segment count.

Each runs Patron's own code path and, in the same run on the same data, the
hand-written SQL that does the same set-based work:

- **billing run**: `billing_run()` for the bench's billing date over the whole
  database (1-3 monthly services per customer, usage lines for a tenth:
  `data._load_billing`). The SQL side runs first, in a transaction that is
  rolled back (so both start from the same data): one INSERT … SELECT of the
  monthly lines and one of the usage lines (prorated by day, tax rounded
  half-up, every status billing flag the run honours), one of the invoices
  numbered from the gapless sequence, one UPDATE attaching the lines, one
  INSERT … SELECT of the ledger entries and one upsert of the balance rows.
  The two sides' counts and totals must agree, or the row fails. The month
  before is billed first (untimed) and the tables analysed, so the timed run
  is a month with history; on PostgreSQL the SQL side analyses the two
  billing tables once more after its inserts, because statistics that say
  "no lines without an invoice, no invoices of this run" make the planner
  loop over the run's invoices for every line (see docs/performance.md).
- **ledger page**: one customer with 5,000 entries; Patron is the page
  `/ledger/customer/<id>/` through the test client, SQL is what the page
  reads (customer, balance row, 50 newest entries with their user).
- **segment count** `balance>50 and status:Active`: the segment compiler's
  count beside a hand-written COUNT over the balance table joined to customers.

Targets (the billing issue): the billing run within 3× its SQL and under 15
minutes at 1,000,000 customers on PostgreSQL; the ledger page ≤ 100 ms; the
balance segment within 2× its SQL.
"""

from __future__ import annotations

import datetime
import time
import uuid
from decimal import Decimal

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.utils import timezone

from patron.billing.models import BillingRun, Invoice, InvoiceLine
from patron.billing.runs import add_months, billing_run
from patron.core.actor import Actor
from patron.core.money import minor_unit
from patron.ledger.models import Balance, LedgerEntry
from patron.ledger.services import Posting, ledger_post_many
from patron.ops.bench.data import _unnamed_columns
from patron.segments.language import quote_value, segment_queryset

LEDGER_ENTRIES = 5000


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _rows(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


def _count(sql: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def _d(day: datetime.date) -> str:
    return f"DATE '{day.isoformat()}'" if _pg() else f"'{day.isoformat()}'"


def _days(last: str, first: str) -> str:
    if _pg():
        return f"(({last}) - ({first}) + 1)"
    return f"(CAST(julianday({last}) - julianday({first}) AS INTEGER) + 1)"


def _minor(column: str) -> str:
    return f"CAST(ROUND({column} * {10 ** minor_unit()}) AS BIGINT)"


def _money(minor: str) -> str:
    kind = "NUMERIC" if _pg() else "REAL"
    return f"(CAST({minor} AS {kind}) / {10 ** minor_unit()})"


def _half_up_tax(net: str, rate_bp: str) -> str:
    """Tax in minor units on a net amount (≥ 0), rounded half-up: the documented rule."""
    return f"((2 * ({net}) * ({rate_bp}) + 10000) / 20000)"


# --- the billing run -------------------------------------------------------------------

LINES = (
    "invoice_id, customer_id, run_id, kind, customer_service_id, service_id, usage_charge_id, "
    "inventory_type_id, description, period_start, period_end, quantity, unit_price, "
    "discount_percent, tax_rate, net, tax, gross, credits_id"
)
FIXED_OK = (
    "(st.billable OR (st.final_invoice AND st.final_ignore_billable_status)) "
    "AND st.can_have_fixed_charges"
)
USAGE_OK = (
    "(st.billable OR (st.final_invoice AND st.final_calls_ignore_billable_status)) "
    "AND st.can_have_calls"
)


def _eligible(day: int) -> str:
    default = int(getattr(settings, "PATRON_BILLING_DAY", 1) or 1)
    return (
        "c.archived = FALSE AND st.crm_only = FALSE "
        f"AND COALESCE(c.billing_day, {default}) = {int(day)}"
    )


def _insert_lines(run_id: int, kind: str, select: str) -> str:
    """The lines of `select` (customer_id, cs_id, service_id, usage_id, inventory_type_id,
    description, d_from, d_to, quantity, unit_price, rate, net_m, rate_bp)."""
    tax = _half_up_tax("x.net_m", "x.rate_bp")
    return (
        f"INSERT INTO billing_invoiceline ({LINES}) "
        f"SELECT NULL, x.customer_id, {run_id}, '{kind}', x.cs_id, x.service_id, x.usage_id, "
        "x.inventory_type_id, x.description, x.d_from, x.d_to, x.quantity, x.unit_price, 0, "
        f"x.rate, {_money('x.net_m')}, {_money(tax)}, {_money(f'x.net_m + {tax}')}, NULL "
        f"FROM ({select}) x"
    )


def billing_sql(run: BillingRun, label: str) -> dict:
    """The whole run by hand, one statement per step over every customer; its counts."""
    start, end = run.period_start, run.period_end
    ps, pe, cutoff = _d(start), _d(end), _d(run.cutoff_date)
    greatest, least = ("GREATEST", "LEAST") if _pg() else ("MAX", "MIN")
    d_from = f"{greatest}(cs.start_date, {ps})"
    d_to = f"{least}(COALESCE(cs.end_date, {pe}), {pe})"
    price = "COALESCE(cs.price_override, sv.price)"
    full = _days(pe, ps)
    used = _days(d_to, d_from)
    # price × quantity × days used ÷ days in the period, rounded half-up, in minor units.
    net = f"((2 * {_minor(price)} * cs.quantity * {used} + {full}) / (2 * {full}))"
    rate_bp = "CAST(ROUND(tr.rate * 100) AS BIGINT)"
    recurring = (
        "SELECT cs.customer_id, cs.id AS cs_id, sv.id AS service_id, "
        "CAST(NULL AS BIGINT) AS usage_id, sv.inventory_type_id, sv.name AS description, "
        f"{d_from} AS d_from, {d_to} AS d_to, cs.quantity, {price} AS unit_price, tr.rate, "
        f"{net} AS net_m, {rate_bp} AS rate_bp "
        "FROM subscriptions_customerservice cs "
        "JOIN catalogue_service sv ON sv.id = cs.service_id "
        "JOIN catalogue_taxrate tr ON tr.id = sv.tax_rate_id "
        "JOIN customers_customer c ON c.id = cs.customer_id "
        "JOIN statuses_status st ON st.id = c.status_id "
        f"WHERE {_eligible(start.day)} AND {FIXED_OK} AND sv.kind = 'monthly' "
        f"AND cs.start_date <= {pe} AND (cs.end_date IS NULL OR cs.end_date >= {ps}) "
        "AND (cs.status = 'active' OR (cs.status = 'ended' AND cs.end_date IS NOT NULL)) "
        "AND NOT EXISTS (SELECT 1 FROM billing_invoiceline l WHERE l.customer_service_id = "
        f"cs.id AND l.kind = 'recurring' AND l.period_start <= {pe} AND l.period_end >= {ps})"
    )
    usage = (
        "SELECT u.customer_id, CAST(NULL AS BIGINT) AS cs_id, u.service_id, u.id AS usage_id, "
        "sv.inventory_type_id, u.description, u.date AS d_from, u.date AS d_to, "
        f"1 AS quantity, u.amount AS unit_price, tr.rate, {_minor('u.amount')} AS net_m, "
        f"{rate_bp} AS rate_bp "
        "FROM billing_usagecharge u "
        "JOIN customers_customer c ON c.id = u.customer_id "
        "JOIN statuses_status st ON st.id = c.status_id "
        "JOIN catalogue_service sv ON sv.id = u.service_id "
        "JOIN catalogue_taxrate tr ON tr.id = sv.tax_rate_id "
        f"WHERE {_eligible(start.day)} AND {USAGE_OK} AND (u.date <= {cutoff} "
        "OR (st.final_invoice AND st.final_calls_ignore_cutoff_date)) "
        "AND NOT EXISTS (SELECT 1 FROM billing_invoiceline l WHERE l.usage_charge_id = u.id)"
    )
    counts = {
        "lines": _count(_insert_lines(run.pk, "recurring", recurring))
        + _count(_insert_lines(run.pk, "usage", usage))
    }

    # Invoices: one per customer with uninvoiced lines, numbered from the locked sequence.
    lock = " FOR UPDATE" if _pg() else ""
    found = _rows(f"SELECT value FROM core_sequence WHERE name = 'invoice'{lock}")
    if not found:
        _count("INSERT INTO core_sequence (name, value) VALUES ('invoice', 0)")
    base = int(found[0][0]) if found else 0
    digits = int(getattr(settings, "PATRON_INVOICE_DIGITS", 6))
    prefix = getattr(settings, "PATRON_INVOICE_PREFIX", "INV-").replace("'", "''")
    terms = int(getattr(settings, "PATRON_PAYMENT_TERMS_DAYS", 14))
    seq = f"({base} + t.position)"
    if _pg():
        # lpad cuts a longer number down to `digits`: past 999,999 it would repeat numbers.
        text = f"CAST({seq} AS text)"
        number = (
            f"'{prefix}' || CASE WHEN length({text}) >= {digits} THEN {text} "
            f"ELSE lpad({text}, {digits}, '0') END"
        )
    else:
        number = f"'{prefix}' || printf('%0{digits}d', {seq})"
    m = _minor
    totals = (
        f"SELECT l.customer_id, SUM({m('l.net')}) AS net_m, SUM({m('l.tax')}) AS tax_m, "
        f"SUM({m('l.gross')}) AS gross_m, MIN(l.period_start) AS p_from, "
        "MAX(l.period_end) AS p_to FROM billing_invoiceline l WHERE l.invoice_id IS NULL "
        "GROUP BY l.customer_id"
    )
    ranked = (
        "SELECT s.*, st.override_invoice_message AS message, st.final_invoice AS final, "
        "ROW_NUMBER() OVER (ORDER BY s.customer_id) AS position "
        f"FROM ({totals}) s JOIN customers_customer c ON c.id = s.customer_id "
        "JOIN statuses_status st ON st.id = c.status_id "
        f"WHERE {_eligible(start.day)} AND s.gross_m > 0"
    )
    counts["invoices"] = _count(
        "INSERT INTO billing_invoice (kind, number, sequence_number, customer_id, run_id, "
        "issue_date, due_date, period_start, period_end, net, tax, gross, amount_paid, "
        "message, is_final, imported, salesperson_id, corrects_id, reason, issued_at, "
        "issued_by_label) "
        f"SELECT 'invoice', {number}, {seq}, t.customer_id, {run.pk}, %s, %s, t.p_from, "
        f"t.p_to, {_money('t.net_m')}, {_money('t.tax_m')}, {_money('t.gross_m')}, 0, "
        "t.message, t.final, FALSE, NULL, NULL, '', %s, %s "
        f"FROM ({ranked}) t",
        [start, start + datetime.timedelta(days=terms), timezone.now(), label],
    )
    _count(f"UPDATE core_sequence SET value = value + {counts['invoices']} WHERE name = 'invoice'")
    if _pg():
        # What a DBA does after a bulk insert: the planner then knows this run's invoices
        # and the lines without one are thousands of rows, not one (see the module's note).
        _count("ANALYZE billing_invoice, billing_invoiceline")
    _count(
        "UPDATE billing_invoiceline SET invoice_id = i.id FROM billing_invoice i "
        f"WHERE i.run_id = {run.pk} AND i.customer_id = billing_invoiceline.customer_id "
        "AND billing_invoiceline.invoice_id IS NULL"
    )

    # The ledger: an entry per invoice with its running balance, then the balance rows.
    batch = uuid.uuid4()
    fields = LedgerEntry._meta
    batch_value = fields.get_field("batch").get_db_prep_value(batch, connection)
    now = fields.get_field("posted_at").get_db_prep_value(timezone.now(), connection)
    source_type = ContentType.objects.get_for_model(Invoice).pk
    named = (
        "customer_id, book, kind, amount, running_balance, effective_date, posted_at, "
        "description, reason, actor_user_id, actor_label, batch, source_type_id, source_id, "
        "reverses_id"
    )
    columns, values = _unnamed_columns(LedgerEntry, named)
    counts["entries"] = _count(
        f"INSERT INTO ledger_ledgerentry ({named}{columns}) "
        "SELECT i.customer_id, 'money', 'invoice', i.gross, COALESCE(b.amount, 0) + i.gross, "
        "i.issue_date, %s, 'Invoice ' || i.number, '', NULL, %s, %s, "
        f"{source_type}, i.id, NULL{values} FROM billing_invoice i "
        "LEFT JOIN ledger_balance b ON b.customer_id = i.customer_id AND b.book = 'money' "
        f"WHERE i.run_id = {run.pk}",
        [now, label, batch_value],
    )
    _count(
        "INSERT INTO ledger_balance (customer_id, book, amount, entry_count, last_entry_id, "
        "last_posted_at) SELECT e.customer_id, 'money', e.amount, 1, e.id, e.posted_at "
        "FROM ledger_ledgerentry e WHERE e.batch = %s "
        "ON CONFLICT (customer_id, book) DO UPDATE SET "
        "amount = ledger_balance.amount + excluded.amount, "
        "entry_count = ledger_balance.entry_count + 1, "
        "last_entry_id = excluded.last_entry_id, last_posted_at = excluded.last_posted_at",
        [batch_value],
    )
    counts["gross"] = _rows(
        f"SELECT COALESCE(SUM({_minor('gross')}), 0) FROM billing_invoice WHERE run_id = {run.pk}"
    )[0][0]
    return counts


class StatementTimes:
    """`connection.execute_wrapper` that adds up the time of each kind of statement (its
    verb and table), to say where a run's time goes."""

    def __init__(self):
        self.ms: dict[str, float] = {}

    def __call__(self, execute, sql, params, many, context):
        words = sql.replace('"', "").split()
        verb = words[0].upper() if words else "?"
        table = next((w for w in words[1:6] if "_" in w and w.upper() != "TEMPORARY"), "")
        key = f"{verb} {table}".strip()
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.ms[key] = self.ms.get(key, 0.0) + (time.perf_counter() - started) * 1000

    def top(self, n: int = 4) -> str:
        ranked = sorted(self.ms.items(), key=lambda kv: -kv[1])[:n]
        return ", ".join(f"{key} {ms:,.0f} ms" for key, ms in ranked)


def bill_previous_month(bench) -> int:
    """Bill the month before the bench's date (untimed), then ANALYZE: the timed run is a
    month with history, as every run but an installation's first is, and both sides plan
    with statistics that know the billing tables hold rows. Its invoices."""
    previous = add_months(bench.data.billing_date, -1)
    run = BillingRun.objects.filter(billing_date=previous).first()
    if run is None:
        run, _summary = billing_run(actor=Actor(user=bench.owner), billing_date=previous)
        with connection.cursor() as cursor:
            if _pg():
                cursor.execute(
                    "ANALYZE billing_invoiceline, billing_invoice, billing_usagecharge, "
                    "ledger_ledgerentry, ledger_balance, subscriptions_customerservice"
                )
            else:
                cursor.execute("ANALYZE")
    return Invoice.objects.filter(run=run).count()


def run_billing(bench, Result, once, once_rolled_back) -> None:
    day = bench.data.billing_date
    actor = Actor(user=bench.owner)
    sql: dict = {}
    history = bill_previous_month(bench)
    entries_before = LedgerEntry.objects.filter(kind="invoice").count()

    def by_hand():
        run = BillingRun.objects.create(
            billing_date=day,
            period_start=day,
            period_end=add_months(day, 1) - datetime.timedelta(days=1),
            cutoff_date=day - datetime.timedelta(days=1),
            started_by_label="bench SQL",
        )
        sql.update(billing_sql(run, "bench SQL"))

    sql_times, patron_times = StatementTimes(), StatementTimes()
    with connection.execute_wrapper(sql_times):
        sql_ms = once_rolled_back(by_hand)
    result: dict = {}
    with connection.execute_wrapper(patron_times):
        patron_ms = once(lambda: result.update(run=billing_run(actor=actor, billing_date=day)[0]))
    run = result["run"]
    patron = {
        "lines": InvoiceLine.objects.filter(run=run).count(),
        "invoices": Invoice.objects.filter(run=run).count(),
        "entries": LedgerEntry.objects.filter(kind="invoice").count() - entries_before,
        "gross": int(
            _rows(
                f"SELECT COALESCE(SUM({_minor('gross')}), 0) FROM billing_invoice "
                f"WHERE run_id = {run.pk}"
            )[0][0]
        ),
    }
    if {k: int(v) for k, v in sql.items()} != patron:
        raise RuntimeError(f"the billing run wrote {patron}, the hand-written SQL {sql}")
    customers = bench.data.customers
    bench.add(
        Result(
            f"billing run ({customers:,} customers, {patron['invoices']:,} invoices, "
            f"{patron['lines']:,} lines)",
            patron_ms,
            sql_ms,
            f"billing_run() for {day:%d %b %Y}, committed chunk by chunk; SQL side is the "
            "hand-written INSERT … SELECT of the same lines, invoices (gapless numbers) and "
            "ledger entries plus the balance upsert, one statement each over the whole "
            "database, run first in a transaction rolled back. The month before was billed "
            f"first, untimed ({history:,} invoices), and the tables analysed. Targets: "
            "within 3× its SQL and under 15 minutes at 1,000,000 customers on PostgreSQL. "
            f"Where the time goes: Patron {patron_times.top()}; SQL {sql_times.top()}",
        )
    )


def ensure_billed(bench) -> None:
    """Balances for the balance rows when `--only` left out the billing run."""
    if not BillingRun.objects.filter(billing_date=bench.data.billing_date).exists():
        billing_run(actor=Actor(user=bench.owner), billing_date=bench.data.billing_date)


# --- the ledger page -------------------------------------------------------------------


def ledger_page(bench, Result, timed) -> None:
    customer_id = bench.data.customers // 4 + 1
    have = Balance.objects.filter(customer_id=customer_id, book="money").values_list(
        "entry_count", flat=True
    )
    missing = LEDGER_ENTRIES - (have.first() or 0)
    if missing > 0:
        today = timezone.localdate()
        ledger_post_many(
            actor=Actor.system_actor("patron bench"),
            postings=[
                Posting(
                    customer_id=customer_id,
                    kind="adjustment",
                    amount=Decimal("12.50") if n % 3 else Decimal("-20.00"),
                    effective_date=today - datetime.timedelta(days=(missing - n) // 10),
                    description=f"Bench adjustment {n}",
                    reason="benchmark",
                )
                for n in range(missing)
            ],
        )
    url = f"/ledger/customer/{customer_id}/"
    body = bench.get(url)
    if f"Bench adjustment {missing - 1}".encode() not in body:
        raise RuntimeError(f"{url} does not show the newest entry")

    def sql():
        _rows(
            "SELECT c.*, s.name FROM customers_customer c "
            f"JOIN statuses_status s ON s.id = c.status_id WHERE c.id = {customer_id}"
        )
        _rows(f"SELECT * FROM ledger_balance WHERE customer_id = {customer_id} AND book = 'money'")
        _rows(
            "SELECT e.*, u.username FROM ledger_ledgerentry e "
            "LEFT JOIN accounts_user u ON u.id = e.actor_user_id "
            f"WHERE e.customer_id = {customer_id} AND e.book = 'money' "
            "ORDER BY e.id DESC LIMIT 50"
        )

    count = Balance.objects.get(customer_id=customer_id, book="money").entry_count
    bench.add(
        Result(
            f"ledger page ({count:,} entries)",
            timed(lambda: bench.get(url)),
            timed(sql),
            f"GET {url} (first page of 50, newest first); SQL side is the customer, the "
            "balance row and the 50 newest entries; target ≤ 100 ms",
        )
    )


# --- the balance segment ---------------------------------------------------------------


def balance_segment(bench, Result, timed) -> None:
    ensure_billed(bench)
    text = f"balance>50 and status:{quote_value(bench.active.name)}"

    def patron():
        return segment_queryset(text, user=bench.owner).count()

    sql = (
        "SELECT count(*) FROM customers_customer c JOIN ledger_balance b "
        "ON b.customer_id = c.id AND b.book = 'money' "
        f"WHERE c.archived = false AND c.status_id = {bench.active.pk} AND b.amount > 50"
    )
    count = patron()
    expected = _rows(sql)[0][0]
    if count != expected:
        raise RuntimeError(f"balance segment count {count} differs from SQL {expected}")
    bench.add(
        Result(
            "segment count (balance>50 and status:Active)",
            timed(patron),
            timed(lambda: _rows(sql)),
            f"{count} customers: {text}; SQL side is a COUNT over the balance table joined "
            "to customers; target within 2× its SQL",
        )
    )
