"""Writes of billing besides the run: usage charges in, credit notes out.

Both are all-or-nothing: a file or request of usage charges with one bad row
adds nothing and names every bad row; a credit note is issued with its
ledger entry and its event in one transaction, or not at all.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_date

from patron.billing import rating
from patron.billing.models import BillingRun, Invoice, InvoiceLine, UsageCharge
from patron.billing.runs import default_billing_day
from patron.catalogue.models import Service
from patron.core import audit, money_sql
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.core.models import Sequence
from patron.core.money import format_money, parse_amount, to_money
from patron.customers.models import Customer
from patron.ledger.models import Kind
from patron.ledger.services import ledger_post

USAGE_FIELDS = (
    "customer",
    "account_number",
    "service",
    "date",
    "description",
    "quantity",
    "amount",
    "reference",
)


class UsageRowsError(ValidationError):
    """Rows of usage charges that cannot be added; `rows` lists each with its problems."""

    def __init__(self, rows: list[dict]):
        self.rows = rows
        super().__init__(
            {
                "rows": [
                    f"Row {r['row']}: " + "; ".join(f"{k}: {v}" for k, v in r.items() if k != "row")
                    for r in rows
                ]
            }
        )


@dataclass
class UsageResult:
    created: list = field(default_factory=list)
    duplicates: int = 0


def _closed_until(billing_day: int) -> datetime.date | None:
    """The last cut-off billed for customers of this billing day, if any."""
    return (
        BillingRun.objects.filter(state=BillingRun.State.DONE, billing_date__day=billing_day)
        .order_by("-cutoff_date")
        .values_list("cutoff_date", flat=True)
        .first()
    )


def _customers_named(rows: list[dict], visible) -> tuple[dict, dict]:
    """The customers the rows name, looked up in chunks (by id and by account number)."""
    ids = {str(r.get("customer")).strip() for r in rows if r.get("customer") not in (None, "")}
    numbers = {
        str(r.get("account_number")).strip()
        for r in rows
        if r.get("customer") in (None, "") and r.get("account_number")
    }
    by_id: dict[str, Customer] = {}
    by_number: dict[str, Customer] = {}
    wanted_ids = sorted(int(i) for i in ids if i.isdigit())
    for start in range(0, len(wanted_ids), 500):
        for customer in visible.filter(pk__in=wanted_ids[start : start + 500]):
            by_id[str(customer.pk)] = customer
    wanted_numbers = sorted(numbers)
    for start in range(0, len(wanted_numbers), 500):
        for customer in visible.filter(account_number__in=wanted_numbers[start : start + 500]):
            by_number[customer.account_number] = customer
    return by_id, by_number


def _row_customer(row: dict, by_id: dict, by_number: dict) -> Customer | str:
    key = row.get("customer")
    number = str(row.get("account_number") or "").strip()
    if key in (None, "") and not number:
        return "Name the customer: `customer` (its id) or `account_number`."
    customer = by_id.get(str(key).strip()) if key not in (None, "") else by_number.get(number)
    if customer is None:
        shown = key if key not in (None, "") else number
        return f"No customer “{shown}” (or it is outside your reach)."
    return customer


def usage_charges_add(*, actor: Actor, rows: list[dict]) -> UsageResult:
    """Add rated usage lines for the next billing run; every row or none.

    A row names its customer (`customer` id or `account_number`), a `date`, a
    `description` and an exact `amount` (no more decimals than the currency),
    optionally a usage-rated `service` (code or id), a `quantity` and a
    `reference`: a row whose reference the customer already has is a
    duplicate (counted, not added), so a resent file adds nothing.
    """
    if not actor.has_perm("billing.add_usagecharge"):
        raise PermissionDenied("Your role does not allow you to add usage charges.")
    if not rows:
        raise ValidationError({"rows": "Send at least one usage charge."})
    if len(rows) > 50_000:
        raise ValidationError({"rows": "Send at most 50,000 usage charges at once."})
    visible = Customer.objects.restrict(actor, "view")
    by_id, by_number = _customers_named([r for r in rows if isinstance(r, dict)], visible)
    services = {s.code.upper(): s for s in Service.objects.filter(kind=Service.Kind.USAGE)}
    services_by_id = {str(s.pk): s for s in services.values()}
    closed: dict[int, datetime.date | None] = {}
    errors: list[dict] = []
    charges: list[UsageCharge] = []
    seen: set[tuple[int, str]] = set()
    for number, row in enumerate(rows, start=1):
        problems: dict[str, str] = {}
        if not isinstance(row, dict):
            errors.append({"row": number, "fields": "Each usage charge is an object of fields."})
            continue
        unknown = sorted(set(row) - set(USAGE_FIELDS))
        if unknown:
            problems["fields"] = (
                f"Unknown field(s): {', '.join(unknown)}; known: {', '.join(USAGE_FIELDS)}."
            )
        customer = _row_customer(row, by_id, by_number)
        if isinstance(customer, str):
            problems["customer"] = customer
        raw_date = row.get("date")
        day = raw_date if isinstance(raw_date, datetime.date) else parse_date(str(raw_date or ""))
        if day is None:
            problems["date"] = f"“{raw_date or ''}” is not a date (YYYY-MM-DD)."
        description = str(row.get("description") or "").strip()
        if not description:
            problems["description"] = "Say what the charge is, e.g. “UK calls, November”."
        try:
            amount = parse_amount(row.get("amount"), label="Amount")
        except ValidationError as exc:
            problems["amount"] = "; ".join(exc.messages)
            amount = None
        except (TypeError, ValueError) as exc:
            problems["amount"] = str(exc)
            amount = None
        try:
            quantity = Decimal(
                str(row.get("quantity") if row.get("quantity") not in (None, "") else 1)
            )
            if quantity < 0:
                problems["quantity"] = "The quantity cannot be negative."
        except ArithmeticError:
            problems["quantity"] = f"“{row.get('quantity')}” is not a number."
            quantity = Decimal(1)
        service = None
        code = str(row.get("service") or "").strip()
        if code:
            service = services_by_id.get(code) or services.get(code.upper())
            if service is None:
                problems["service"] = f"No usage-rated service “{code}”."
        reference = str(row.get("reference") or "").strip()[:100]
        if not isinstance(customer, str) and day is not None:
            billing_day = customer.billing_day or default_billing_day()
            if billing_day not in closed:
                closed[billing_day] = _closed_until(billing_day)
            until = closed[billing_day]
            if until is not None and day <= until:
                problems["date"] = (
                    f"The period up to {until:%d %b %Y} has been billed for this customer; "
                    "date the charge after it, or credit or charge it another way."
                )
        if not isinstance(customer, str) and reference:
            key = (customer.pk, reference)
            if key in seen:
                problems["reference"] = f"Reference “{reference}” is twice in this request."
            seen.add(key)
        if problems:
            errors.append({"row": number, **problems})
            continue
        charges.append(
            UsageCharge(
                customer=customer,
                service=service,
                date=day,
                description=description[:200],
                quantity=quantity,
                amount=to_money(amount),
                reference=reference,
            )
        )
    if errors:
        raise UsageRowsError(errors)
    result = UsageResult()
    with transaction.atomic():
        existing = set()
        refs = [(c.customer_id, c.reference) for c in charges if c.reference]
        for start in range(0, len(refs), 500):
            chunk = refs[start : start + 500]
            existing.update(
                UsageCharge.objects.filter(
                    customer_id__in={c for c, _ in chunk}, reference__in={r for _, r in chunk}
                ).values_list("customer_id", "reference")
            )
        new = [
            c for c in charges if not c.reference or (c.customer_id, c.reference) not in existing
        ]
        result.duplicates = len(charges) - len(new)
        result.created = UsageCharge.objects.bulk_create(new, batch_size=1000)
        by_customer: dict[int, list[UsageCharge]] = {}
        for charge in result.created:
            by_customer.setdefault(charge.customer_id, []).append(charge)
        audit.record_many(
            [
                audit.build(
                    actor=actor,
                    action="usage_added",
                    obj=items[0].customer,
                    customer=items[0].customer,
                    changes={"usage_charges": [None, len(items)]},
                    message=(
                        f"{len(items)} usage charge{'s' if len(items) != 1 else ''} added, "
                        f"{format_money(sum((i.amount for i in items), Decimal(0)))}"
                    ),
                )
                for items in by_customer.values()
            ]
        )
    return result


def can_credit(who) -> bool:
    return bool(who) and who.has_perm("billing.issue_credit_note")


def invoice_credit(
    *, actor: Actor, invoice: Invoice, reason: str, line_ids: list[int] | None = None
) -> Invoice:
    """Issue a credit note for `invoice` (all its lines, or the chosen ones): negative
    lines that point at the lines they credit, its own gapless number, a ledger entry."""
    if not can_credit(actor):
        raise PermissionDenied("Your role does not allow you to issue credit notes.")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the invoice is credited; it is on the note."})
    with transaction.atomic():
        invoice = (
            Invoice.objects.restrict(actor, "view")
            .select_for_update()
            .filter(pk=invoice.pk)
            .first()
        )
        if invoice is None:
            raise PermissionDenied("You may not credit this invoice.")
        if invoice.is_credit_note:
            raise ValidationError({"invoice": "A credit note cannot itself be credited."})
        lines = list(invoice.lines.order_by("id"))
        if line_ids:
            wanted = {int(i) for i in line_ids}
            lines = [line for line in lines if line.pk in wanted]
            if len(lines) != len(wanted):
                raise ValidationError({"lines": "Choose lines of this invoice."})
        credited = set(
            InvoiceLine.objects.filter(credits__in=lines).values_list("credits_id", flat=True)
        )
        twice = [line.description for line in lines if line.pk in credited]
        if twice:
            raise ValidationError(
                {"lines": f"Already credited: {', '.join(twice)}. Nothing was issued."}
            )
        if not lines:
            raise ValidationError({"lines": "There is nothing left to credit on this invoice."})
        m = rating.to_minor
        s = Decimal(money_sql.scale())
        net = Decimal(sum(m(line.net) for line in lines)) / s
        tax = Decimal(sum(m(line.tax) for line in lines)) / s
        gross = Decimal(sum(m(line.gross) for line in lines)) / s
        sequence = Sequence.next_value("credit_note")
        digits = int(getattr(settings, "PATRON_INVOICE_DIGITS", 6))
        prefix = getattr(settings, "PATRON_CREDIT_NOTE_PREFIX", "CN-")
        today = timezone.localdate()
        note = Invoice(
            kind=Invoice.Kind.CREDIT_NOTE,
            number=f"{prefix}{sequence:0{digits}d}",
            sequence_number=sequence,
            customer_id=invoice.customer_id,
            issue_date=today,
            due_date=today,
            period_start=invoice.period_start,
            period_end=invoice.period_end,
            net=-net,
            tax=-tax,
            gross=-gross,
            corrects=invoice,
            reason=reason,
            issued_by_label=actor.label[:200],
        )
        note.save()
        InvoiceLine.objects.bulk_create(
            [
                InvoiceLine(
                    invoice=note,
                    customer_id=line.customer_id,
                    kind=InvoiceLine.Kind.CREDIT,
                    customer_service_id=None,
                    service_id=line.service_id,
                    inventory_type_id=line.inventory_type_id,
                    description=f"Credit: {line.description}"[:300],
                    period_start=line.period_start,
                    period_end=line.period_end,
                    quantity=line.quantity,
                    unit_price=-line.unit_price,
                    tax_rate=line.tax_rate,
                    net=-line.net,
                    tax=-line.tax,
                    gross=-line.gross,
                    credits=line,
                )
                for line in lines
            ]
        )
        ledger_post(
            actor=actor,
            customer=invoice.customer,
            kind=Kind.CREDIT_NOTE,
            amount=-to_money(gross),
            effective_date=today,
            description=f"Credit note {note.number} for {invoice.number}",
            reason=reason,
            source=note,
        )
        audit.record(
            actor=actor,
            action="credited",
            obj=invoice,
            customer=invoice.customer,
            changes={"credit_note": [None, note.number], "amount": [None, str(-gross)]},
            message=f"Credit note {note.number} for {invoice.number}: {format_money(-gross)}",
            reason=reason,
        )
    return note
