"""The billing run: set-based SQL that turns services and usage into invoices.

A run is for one **billing date**: it bills every customer whose billing day
(their own, or `PATRON_BILLING_DAY`) is that date's day. The period is the
month that starts on the billing date; the cut-off for usage and one-off
items is the day before it (billed in arrears). The run works through the
customers in chunks of ids; each chunk is one transaction that

1. inserts the lines it owes (monthly services for the period, prorated by
   day, plus the unbilled days of a service that started in the previous
   period after it was billed; one-off items and usage charges up to the
   cut-off), honouring every billing flag of the customer's status;
2. gathers each customer's uninvoiced lines (carried ones included) into one
   invoice when they reach the minimum invoice, numbered from the gapless
   sequence with one `INSERT … SELECT`;
3. attaches the lines and posts the invoices to the ledger.

Every step selects only what is not billed yet, and the schema refuses a
second line for the same service and period, so a repeated, resumed or
raced run bills nothing twice; a chunk that fails leaves nothing behind.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from patron.billing import rating
from patron.billing.models import BillingRun, Invoice
from patron.catalogue.models import TaxRate
from patron.core import money_sql
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.core.models import Sequence
from patron.core.money import parse_amount, to_money
from patron.ledger.models import Kind
from patron.ledger.services import ledger_post_selected

CHUNK = 2000
ANALYZE_EVERY = 25  # chunks between fresh statistics on PostgreSQL
SAMPLE = 10


class DryRun(Exception):
    """Raised at the end of a preview to roll everything back."""


@dataclass(frozen=True)
class Plan:
    billing_date: datetime.date
    period_start: datetime.date
    period_end: datetime.date
    previous_start: datetime.date
    cutoff_date: datetime.date
    minimum: Decimal

    @property
    def day(self) -> int:
        return self.billing_date.day


@dataclass
class Outcome:
    customers: int = 0
    invoices: int = 0
    lines: int = 0
    failures: list = field(default_factory=list)


def add_months(day: datetime.date, months: int) -> datetime.date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def default_billing_day() -> int:
    return int(getattr(settings, "PATRON_BILLING_DAY", 1) or 1)


def minimum_invoice() -> Decimal:
    text = str(getattr(settings, "PATRON_MINIMUM_INVOICE", "0") or "0")
    return parse_amount(text, label="PATRON_MINIMUM_INVOICE", allow_negative=False)


def plan_for(billing_date: datetime.date, cutoff_date: datetime.date | None = None) -> Plan:
    if not 1 <= billing_date.day <= 28:
        raise ValidationError(
            {
                "billing_date": "Billing days are the 1st to the 28th, so every month has one; "
                f"{billing_date:%d %b %Y} is the {billing_date.day}th."
            }
        )
    cutoff = cutoff_date or billing_date - datetime.timedelta(days=1)
    if cutoff > add_months(billing_date, 1):
        raise ValidationError({"cutoff_date": "The cut-off cannot be after the period billed."})
    return Plan(
        billing_date=billing_date,
        period_start=billing_date,
        period_end=add_months(billing_date, 1) - datetime.timedelta(days=1),
        previous_start=add_months(billing_date, -1),
        cutoff_date=cutoff,
        minimum=minimum_invoice(),
    )


# --- SQL helpers for the two databases ---------------------------------------------


def _pg() -> bool:
    return connection.vendor == "postgresql"


def _date(value: datetime.date) -> str:
    return f"DATE '{value.isoformat()}'" if _pg() else f"'{value.isoformat()}'"


def _greatest(a: str, b: str) -> str:
    return f"GREATEST({a}, {b})" if _pg() else f"MAX({a}, {b})"


def _least(a: str, b: str) -> str:
    return f"LEAST({a}, {b})" if _pg() else f"MIN({a}, {b})"


def _days(last: str, first: str) -> str:
    """Days from `first` to `last`, both included."""
    if _pg():
        return f"(({last}) - ({first}) + 1)"
    return f"(CAST(julianday({last}) - julianday({first}) AS INTEGER) + 1)"


def _number(prefix_param: str, seq: str, digits: int) -> str:
    if _pg():
        return (
            f"{prefix_param} || CASE WHEN length(CAST({seq} AS TEXT)) >= {digits} "
            f"THEN CAST({seq} AS TEXT) ELSE lpad(CAST({seq} AS TEXT), {digits}, '0') END"
        )
    return f"{prefix_param} || printf('%0{digits}d', {seq})"


def _eligible(plan: Plan, lo: int, hi: int) -> str:
    """Customers of this billing date in the chunk: never archived or CRM-only ones."""
    return (
        f"c.id BETWEEN {int(lo)} AND {int(hi)} AND c.archived = FALSE AND st.crm_only = FALSE "
        f"AND COALESCE(c.billing_day, {default_billing_day()}) = {plan.day}"
    )


# A status lets fixed charges (services, items) and usage be billed (ORG-9); a final
# bill may ignore the billable flag.
FIXED_OK = (
    "(st.billable OR (st.final_invoice AND st.final_ignore_billable_status)) "
    "AND st.can_have_fixed_charges"
)
USAGE_OK = (
    "(st.billable OR (st.final_invoice AND st.final_calls_ignore_billable_status)) "
    "AND st.can_have_calls"
)

LINE_COLUMNS = (
    "invoice_id, customer_id, run_id, kind, customer_service_id, service_id, "
    "usage_charge_id, inventory_type_id, description, period_start, period_end, quantity, "
    "unit_price, discount_percent, tax_rate, net, tax, gross, credits_id"
)


def _insert_lines(run_id: int, kind: str, select: str) -> str:
    """INSERT of lines from `select`, which yields customer_id, cs_id, service_id,
    usage_id, inventory_type_id, description, d_from, d_to, quantity, unit_price,
    rate, amount (minor units), rate_bp and inc (prices include tax)."""
    net, tax, gross = rating.sql_split("x.amount", "x.rate_bp", "x.inc")
    f = money_sql.sql_from_minor
    return (
        f"INSERT INTO billing_invoiceline ({LINE_COLUMNS}) "
        f"SELECT NULL, x.customer_id, {int(run_id)}, '{kind}', x.cs_id, x.service_id, "
        f"x.usage_id, x.inventory_type_id, x.description, x.d_from, x.d_to, x.quantity, "
        f"x.unit_price, 0, x.rate, {f(net)}, {f(tax)}, {f(gross)}, NULL FROM ({select}) x"
    )


def _recurring_select(plan: Plan, lo: int, hi: int, start, end, *, started_within: bool) -> str:
    ps, pe = _date(start), _date(end)
    d_from = _greatest("cs.start_date", ps)
    d_to = _least(f"COALESCE(cs.end_date, {pe})", pe)
    price = "COALESCE(cs.price_override, sv.price)"
    amount = rating.sql_half_up_div(
        f"{money_sql.sql_minor(price)} * cs.quantity * {_days(d_to, d_from)}", _days(pe, ps)
    )
    return (
        "SELECT cs.customer_id, cs.id AS cs_id, sv.id AS service_id, "
        "CAST(NULL AS BIGINT) AS usage_id, "
        f"sv.inventory_type_id, sv.name AS description, {d_from} AS d_from, {d_to} AS d_to, "
        f"cs.quantity, {price} AS unit_price, tr.rate, {amount} AS amount, "
        f"{money_sql.sql_int('ROUND(tr.rate * 100)')} AS rate_bp, sv.price_includes_tax AS inc "
        "FROM subscriptions_customerservice cs "
        "JOIN catalogue_service sv ON sv.id = cs.service_id "
        "JOIN catalogue_taxrate tr ON tr.id = sv.tax_rate_id "
        "JOIN customers_customer c ON c.id = cs.customer_id "
        "JOIN statuses_status st ON st.id = c.status_id "
        f"WHERE {_eligible(plan, lo, hi)} AND {FIXED_OK} AND sv.kind = 'monthly' "
        f"AND cs.start_date <= {pe} AND (cs.end_date IS NULL OR cs.end_date >= {ps}) "
        "AND (cs.status = 'active' OR (cs.status = 'ended' AND cs.end_date IS NOT NULL)) "
        + (f"AND cs.start_date >= {ps} " if started_within else "")
        + "AND NOT EXISTS (SELECT 1 FROM billing_invoiceline l WHERE l.customer_service_id = "
        f"cs.id AND l.kind = 'recurring' AND l.period_start <= {pe} AND l.period_end >= {ps})"
    )


def _one_off_select(plan: Plan, lo: int, hi: int) -> str:
    price = "COALESCE(cs.price_override, sv.price)"
    return (
        "SELECT cs.customer_id, cs.id AS cs_id, sv.id AS service_id, "
        "CAST(NULL AS BIGINT) AS usage_id, "
        f"sv.inventory_type_id, sv.name AS description, cs.start_date AS d_from, "
        f"cs.start_date AS d_to, cs.quantity, {price} AS unit_price, tr.rate, "
        f"{money_sql.sql_minor(price)} * cs.quantity AS amount, "
        f"{money_sql.sql_int('ROUND(tr.rate * 100)')} AS rate_bp, sv.price_includes_tax AS inc "
        "FROM subscriptions_customerservice cs "
        "JOIN catalogue_service sv ON sv.id = cs.service_id "
        "JOIN catalogue_taxrate tr ON tr.id = sv.tax_rate_id "
        "JOIN customers_customer c ON c.id = cs.customer_id "
        "JOIN statuses_status st ON st.id = c.status_id "
        f"WHERE {_eligible(plan, lo, hi)} AND {FIXED_OK} AND sv.kind = 'one_off' "
        "AND cs.status <> 'suspended' "
        f"AND (cs.start_date <= {_date(plan.cutoff_date)} "
        "OR (st.final_invoice AND st.final_ignore_cutoff_date)) "
        "AND NOT EXISTS (SELECT 1 FROM billing_invoiceline l WHERE l.customer_service_id = "
        "cs.id AND l.kind = 'one_off')"
    )


def _usage_select(plan: Plan, lo: int, hi: int) -> str:
    default = TaxRate.objects.filter(is_default=True, archived=False).values_list("pk", flat=True)
    default_id = next(iter(default), None)
    includes = "TRUE" if getattr(settings, "PATRON_PRICES_INCLUDE_TAX", False) else "FALSE"
    rate_join = (
        f"LEFT JOIN catalogue_taxrate tr ON tr.id = COALESCE(sv.tax_rate_id, {int(default_id)})"
        if default_id
        else "LEFT JOIN catalogue_taxrate tr ON tr.id = sv.tax_rate_id"
    )
    return (
        "SELECT u.customer_id, CAST(NULL AS BIGINT) AS cs_id, u.service_id, u.id AS usage_id, "
        "sv.inventory_type_id, u.description, u.date AS d_from, u.date AS d_to, "
        "1 AS quantity, u.amount AS unit_price, COALESCE(tr.rate, 0) AS rate, "
        f"{money_sql.sql_minor('u.amount')} AS amount, "
        f"{money_sql.sql_int('ROUND(COALESCE(tr.rate, 0) * 100)')} AS rate_bp, "
        f"COALESCE(sv.price_includes_tax, {includes}) AS inc "
        "FROM billing_usagecharge u "
        "JOIN customers_customer c ON c.id = u.customer_id "
        "JOIN statuses_status st ON st.id = c.status_id "
        "LEFT JOIN catalogue_service sv ON sv.id = u.service_id "
        f"{rate_join} "
        f"WHERE {_eligible(plan, lo, hi)} AND {USAGE_OK} "
        f"AND (u.date <= {_date(plan.cutoff_date)} "
        "OR (st.final_invoice AND st.final_calls_ignore_cutoff_date)) "
        "AND NOT EXISTS (SELECT 1 FROM billing_invoiceline l WHERE l.usage_charge_id = u.id)"
    )


def _insert_invoices(run: BillingRun, plan: Plan, lo: int, hi: int, label: str) -> int:
    """One invoice per customer of the chunk whose uninvoiced lines reach the minimum,
    numbered from the gapless sequence (locked until the chunk commits)."""
    m = money_sql.sql_minor
    minimum = rating.to_minor(plan.minimum)
    digits = int(getattr(settings, "PATRON_INVOICE_DIGITS", 6))
    prefix = getattr(settings, "PATRON_INVOICE_PREFIX", "INV-")
    terms = int(getattr(settings, "PATRON_PAYMENT_TERMS_DAYS", 14))
    due = plan.billing_date + datetime.timedelta(days=terms)
    Sequence.objects.get_or_create(name="invoice")
    base = Sequence.objects.select_for_update().get(name="invoice").value
    seq = f"({int(base)} + t.position)"
    f = money_sql.sql_from_minor
    totals = (
        f"SELECT l.customer_id, SUM({m('l.net')}) AS net_m, SUM({m('l.tax')}) AS tax_m, "
        f"SUM({m('l.gross')}) AS gross_m, MIN(l.period_start) AS p_from, "
        "MAX(l.period_end) AS p_to "
        "FROM billing_invoiceline l WHERE l.invoice_id IS NULL "
        f"AND l.customer_id BETWEEN {int(lo)} AND {int(hi)} GROUP BY l.customer_id"
    )
    ranked = (
        "SELECT s.*, st.override_invoice_message AS message, st.final_invoice AS final, "
        "ROW_NUMBER() OVER (ORDER BY s.customer_id) AS position "
        f"FROM ({totals}) s JOIN customers_customer c ON c.id = s.customer_id "
        "JOIN statuses_status st ON st.id = c.status_id "
        f"WHERE {_eligible(plan, lo, hi)} AND s.gross_m > 0 "
        f"AND (s.gross_m >= {minimum} OR st.ignore_invoice_thresholds OR st.final_invoice) "
        "AND NOT EXISTS (SELECT 1 FROM billing_invoice i WHERE i.run_id = "
        f"{int(run.pk)} AND i.customer_id = s.customer_id)"
    )
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO billing_invoice (kind, number, sequence_number, customer_id, run_id, "
            "issue_date, due_date, period_start, period_end, net, tax, gross, amount_paid, "
            "message, is_final, imported, salesperson_id, corrects_id, reason, issued_at, "
            "issued_by_label) "
            f"SELECT 'invoice', {_number('%s', seq, digits)}, {seq}, t.customer_id, "
            f"{int(run.pk)}, %s, %s, t.p_from, t.p_to, {f('t.net_m')}, {f('t.tax_m')}, "
            f"{f('t.gross_m')}, 0, t.message, t.final, FALSE, NULL, NULL, '', %s, %s "
            f"FROM ({ranked}) t",
            [prefix, plan.billing_date, due, now, label[:200]],
        )
        count = cursor.rowcount
    if count:
        Sequence.objects.filter(name="invoice").update(value=base + count)
    return count


def _attach_lines(run: BillingRun, lo: int, hi: int) -> None:
    """The chunk's uninvoiced lines onto their customer's new invoice of this run."""
    invoices = (
        f"billing_invoice i WHERE i.run_id = {int(run.pk)} "
        f"AND i.customer_id BETWEEN {int(lo)} AND {int(hi)}"
    )
    with connection.cursor() as cursor:
        if _pg():
            cursor.execute(
                f"UPDATE billing_invoiceline AS l SET invoice_id = i.id FROM {invoices} "
                f"AND l.customer_id = i.customer_id AND l.invoice_id IS NULL "
                f"AND l.customer_id BETWEEN {int(lo)} AND {int(hi)}"
            )
            return
        cursor.execute(
            "UPDATE billing_invoiceline SET invoice_id = (SELECT i.id FROM "
            f"{invoices} AND i.customer_id = billing_invoiceline.customer_id) "
            f"WHERE invoice_id IS NULL AND customer_id BETWEEN {int(lo)} AND {int(hi)} "
            f"AND customer_id IN (SELECT i.customer_id FROM {invoices})"
        )


def _analyze() -> None:
    """Fresh statistics for the billing tables once a run has written to them, so the
    planner sees the new run's invoices and uncarried lines as they are (PostgreSQL;
    SQLite plans from its indexes alone)."""
    if _pg():
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE billing_invoice, billing_invoiceline")


# Apps that act on a chunk's new invoices in its transaction (payments applies held
# credit to them) register `hook(run, lo, hi, actor)` from their ready(): billing imports
# none of them.
AFTER_CHUNK: list = []


def bill_chunk(run: BillingRun, plan: Plan, lo: int, hi: int, *, actor: Actor) -> tuple[int, int]:
    """Bill the customers with ids lo..hi; (lines, invoices) written. Call inside a
    transaction: everything of the chunk commits or rolls back together."""
    # Two workers on the same run (a resumed job beside a slow one) take turns per chunk.
    BillingRun.objects.select_for_update().filter(pk=run.pk).values_list("pk").first()
    before = Invoice.objects.filter(run=run).order_by("-id").values_list("id", flat=True).first()
    statements = [
        _insert_lines(
            run.pk,
            "recurring",
            _recurring_select(
                plan, lo, hi, plan.period_start, plan.period_end, started_within=False
            ),
        ),
        _insert_lines(run.pk, "one_off", _one_off_select(plan, lo, hi)),
        _insert_lines(run.pk, "usage", _usage_select(plan, lo, hi)),
    ]
    if BillingRun.objects.filter(billing_date=plan.previous_start).exists():
        # The previous period was billed: a service that started in it afterwards is
        # charged for those days now (before Patron's first run there is nothing to catch up).
        previous_end = plan.period_start - datetime.timedelta(days=1)
        select = _recurring_select(
            plan, lo, hi, plan.previous_start, previous_end, started_within=True
        )
        statements.append(_insert_lines(run.pk, "recurring", select))
    lines = 0
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql)
            lines += max(cursor.rowcount, 0)
    invoices = _insert_invoices(run, plan, lo, hi, actor.label)
    if invoices:
        _attach_lines(run, lo, hi)
        # The chunk's new invoices, one per customer, posted in one set of statements.
        ledger_post_selected(
            actor=actor,
            kind=Kind.INVOICE,
            select_sql=(
                "SELECT i.customer_id, i.gross AS amount, i.issue_date AS effective_date, "
                "'Invoice ' || i.number AS description, i.id AS source_id "
                f"FROM billing_invoice i WHERE i.run_id = {int(run.pk)} "
                f"AND i.customer_id BETWEEN {int(lo)} AND {int(hi)} AND i.id > {int(before or 0)}"
            ),
            source_model=Invoice,
        )
        for hook in AFTER_CHUNK:
            hook(run, lo, hi, actor)
    return lines, invoices


# --- Whole runs ----------------------------------------------------------------------


def check_may_run(actor: Actor) -> None:
    if not actor.has_perm("billing.run_billing"):
        raise PermissionDenied("Your role does not allow you to run billing.")
    user = actor.user
    if user is not None and getattr(user, "has_customer_restriction", False):
        raise PermissionDenied(
            "A billing run bills the whole installation, and you see only some customers' "
            "groups; ask an Owner or Administrator to run it."
        )


def _bounds(plan: Plan) -> tuple[int, int] | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT MIN(c.id), MAX(c.id) FROM customers_customer c "
            "JOIN statuses_status st ON st.id = c.status_id "
            f"WHERE {_eligible(plan, -1, 2**62)}"
        )
        lo, hi = cursor.fetchone()
    return None if lo is None else (int(lo), int(hi))


def _ranges(plan: Plan):
    bounds = _bounds(plan)
    if bounds is None:
        return []
    lo, hi = bounds
    return [(start, min(start + CHUNK - 1, hi)) for start in range(lo, hi + 1, CHUNK)]


def summarise(run: BillingRun, plan: Plan) -> dict:
    """Counts and totals of a run: invoiced, carried below the minimum, skipped and why."""
    m = money_sql.sql_minor
    eligible = _eligible(plan, -1, 2**62)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*), COALESCE(SUM({m('net')}), 0), COALESCE(SUM({m('tax')}), 0), "
            f"COALESCE(SUM({m('gross')}), 0) FROM billing_invoice WHERE run_id = {int(run.pk)}"
        )
        invoices, net, tax, gross = cursor.fetchone()
        cursor.execute(
            # Carried: customers with uninvoiced lines, found once as a set (a correlated
            # EXISTS per customer made PostgreSQL scan the uninvoiced lines each time).
            "SELECT COUNT(*), "
            f"SUM(CASE WHEN NOT ({FIXED_OK}) AND NOT ({USAGE_OK}) THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN p.customer_id IS NOT NULL THEN 1 ELSE 0 END) "
            "FROM customers_customer c JOIN statuses_status st ON st.id = c.status_id "
            "LEFT JOIN (SELECT DISTINCT customer_id FROM billing_invoiceline "
            "WHERE invoice_id IS NULL) p ON p.customer_id = c.id "
            f"WHERE {eligible} AND NOT EXISTS (SELECT 1 FROM billing_invoice i "
            f"WHERE i.run_id = {int(run.pk)} AND i.customer_id = c.id)"
        )
        not_invoiced, not_billable, carried = cursor.fetchone()
        cursor.execute(
            f"SELECT COALESCE(SUM({m('l.gross')}), 0) FROM billing_invoiceline l "
            "JOIN customers_customer c ON c.id = l.customer_id "
            "JOIN statuses_status st ON st.id = c.status_id "
            f"WHERE {eligible} AND l.invoice_id IS NULL"
        )
        (carried_gross,) = cursor.fetchone()

    def money(minor) -> str:
        return str(to_money(Decimal(int(minor)) / money_sql.scale()))

    not_billable, carried = int(not_billable or 0), int(carried or 0)
    return {
        "invoices": int(invoices),
        "customers_billed": int(invoices),
        "net": money(net),
        "tax": money(tax),
        "gross": money(gross),
        "skipped_not_billable": not_billable,
        "carried_below_minimum": carried,
        "carried_gross": money(carried_gross),
        "nothing_to_bill": max(int(not_invoiced) - not_billable - carried, 0),
    }


def run_message(plan: Plan, summary: dict) -> str:
    from patron.core.money import format_money

    parts = [
        f"{summary['invoices']:,} invoice{'s' if summary['invoices'] != 1 else ''}",
        f"{format_money(Decimal(summary['net']))} net",
        f"{format_money(Decimal(summary['gross']))} with tax",
    ]
    skipped = []
    if summary["carried_below_minimum"]:
        skipped.append(f"{summary['carried_below_minimum']:,} below the minimum (carried)")
    if summary["skipped_not_billable"]:
        skipped.append(f"{summary['skipped_not_billable']:,} not billable by status")
    if summary["nothing_to_bill"]:
        skipped.append(f"{summary['nothing_to_bill']:,} with nothing to bill")
    text = f"Billing for {plan.billing_date:%d %b %Y}: " + ", ".join(parts)
    return text + (f"; skipped: {', '.join(skipped)}." if skipped else ".")


def _start(actor: Actor, plan: Plan, job=None) -> BillingRun:
    run = BillingRun.objects.select_for_update().filter(billing_date=plan.billing_date).first()
    if run is not None and run.state == BillingRun.State.DONE:
        raise ValidationError(
            {
                "billing_date": f"Billing for {plan.billing_date:%d %b %Y} was run on "
                f"{timezone.localtime(run.finished_at):%d %b %Y %H:%M} by "
                f"{run.started_by_label or 'Patron'} ({run.invoice_count:,} invoices); "
                "nothing is billed twice."
            }
        )
    if run is None:
        try:
            with transaction.atomic():
                run = _create_run(actor, plan, job)
        except IntegrityError:
            raise ValidationError(
                {
                    "billing_date": f"Billing for {plan.billing_date:%d %b %Y} has just been "
                    "started by someone else; watch it on the Billing page."
                }
            ) from None
    else:
        # A run that stopped part-way is resumed with the plan it started with.
        BillingRun.objects.filter(pk=run.pk).update(state=BillingRun.State.RUNNING, job=job)
        run.refresh_from_db()
    return run


def _create_run(actor: Actor, plan: Plan, job) -> BillingRun:
    return BillingRun.objects.create(
        billing_date=plan.billing_date,
        period_start=plan.period_start,
        period_end=plan.period_end,
        cutoff_date=plan.cutoff_date,
        started_by=actor.user if actor.user is not None and actor.user.pk else None,
        started_by_label=actor.label[:200],
        job=job,
    )


def billing_run(
    *,
    actor: Actor,
    billing_date: datetime.date,
    cutoff_date: datetime.date | None = None,
    context=None,
    dry_run: bool = False,
) -> tuple[BillingRun, dict]:
    """Bill `billing_date`; (run, summary). Commits chunk by chunk unless `dry_run`,
    which runs everything in one transaction and rolls it back (the preview)."""
    check_may_run(actor)
    plan = plan_for(billing_date, cutoff_date)
    job = getattr(context, "job", None)
    if dry_run:
        return _preview(actor, plan)
    with transaction.atomic():
        run = _start(actor, plan, job)
    plan = plan_for(run.billing_date, run.cutoff_date)
    ranges = _ranges(plan)
    done = 0
    for lo, hi in ranges:
        if context is not None:
            context.check_cancelled()
        with transaction.atomic():
            bill_chunk(run, plan, lo, hi, actor=actor)
            done += 1
            if context is not None:
                context.progress(done, len(ranges))
        if done == 1 or done % ANALYZE_EVERY == 0:
            _analyze()
    summary = summarise(run, plan)
    BillingRun.objects.filter(pk=run.pk).update(
        state=BillingRun.State.DONE,
        finished_at=timezone.now(),
        customers_billed=summary["customers_billed"],
        invoice_count=summary["invoices"],
        net_total=Decimal(summary["net"]),
        tax_total=Decimal(summary["tax"]),
        gross_total=Decimal(summary["gross"]),
        summary=summary,
    )
    run.refresh_from_db()
    return run, summary


def _preview(actor: Actor, plan: Plan) -> tuple[None, dict]:
    result: dict = {}
    try:
        with transaction.atomic():
            run = _start(actor, plan)
            for lo, hi in _ranges(plan):
                bill_chunk(run, plan, lo, hi, actor=actor)
            result = summarise(run, plan)
            result["sample"] = [
                {
                    "customer_id": inv.customer_id,
                    "customer": str(inv.customer),
                    "account_number": inv.customer.account_number,
                    "net": str(inv.net),
                    "tax": str(inv.tax),
                    "gross": str(inv.gross),
                    "lines": [
                        {
                            "description": line.description,
                            "net": str(line.net),
                            "period_start": str(line.period_start or ""),
                            "period_end": str(line.period_end or ""),
                        }
                        for line in inv.lines.all()
                    ],
                }
                for inv in Invoice.objects.filter(run=run)
                .select_related("customer")
                .prefetch_related("lines")
                .order_by("customer_id")[:SAMPLE]
            ]
            raise DryRun
    except DryRun:
        pass
    result["message"] = "Preview: " + run_message(plan, result)
    result["billing_date"] = plan.billing_date.isoformat()
    result["period_start"] = plan.period_start.isoformat()
    result["period_end"] = plan.period_end.isoformat()
    result["cutoff_date"] = plan.cutoff_date.isoformat()
    return None, result
