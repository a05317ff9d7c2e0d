"""Payments: record, refund and reverse (BIL-3, BIL-4); the allocation rules live here.

**Allocation order** (docs/payments.md): a payment goes to the payer's open invoices
(an invoice, not a credit note, with `gross > amount_paid`) oldest first: by
`issue_date`, then by invoice id (the order Patron issued them), so two invoices of the
same day are always taken in the same order. A group payment takes the open invoices
of all its members (those the actor may act on) in that one order, across members.
Chosen invoices (`invoices=`) are taken in the same order among themselves. Whatever
is left is credit: `Payment.unallocated`.

**Ledger**: a customer's payment posts one PAYMENT entry of the whole amount (so its
credit is a negative balance at once); a group payment posts one PAYMENT entry per
member for the member's share, and its rest stays on the group payment until the
billing run applies it to members' next invoices (`patron.payments.credit`).

Refunds and reversals are new `Payment` rows (`kind` refund / reversal, `reverses` the
payment) with negative allocations for the invoices they reopen; nothing is edited but
the running `unallocated` of the payment and `amount_paid` of its invoices.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Max, Q, Sum
from django.utils import timezone

from patron.billing.models import Invoice
from patron.core import audit
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.core.money import format_money, parse_amount, to_money
from patron.core.services import require_perm
from patron.customers.models import Customer, GroupMembership
from patron.groups.models import Group
from patron.ledger.models import Kind, LedgerEntry
from patron.ledger.services import Posting, ledger_post_many, ledger_post_selected
from patron.payments.models import Payment, PaymentAllocation, PaymentMethod

ZERO = Decimal("0")


@dataclass
class PlannedLine:
    """One invoice the payment would pay (or pays), with what it takes."""

    invoice_id: int
    number: str
    customer_id: int
    issue_date: datetime.date
    due_date: datetime.date
    gross: Decimal
    outstanding: Decimal
    amount: Decimal
    from_member_credit: bool = False
    customer_name: str = ""

    @property
    def left(self) -> Decimal:
        return self.outstanding - self.amount


@dataclass
class Plan:
    """How a payment will be allocated, invoice by invoice (the preview, and the record)."""

    amount: Decimal
    lines: list[PlannedLine] = field(default_factory=list)
    credit_lines: list[tuple[int, PlannedLine]] = field(default_factory=list)  # (payment, line)
    members: int = 0
    members_left_out: int = 0
    open_total: Decimal = ZERO
    customers: dict[int, str] = field(default_factory=dict)

    @property
    def allocated(self) -> Decimal:
        return sum((line.amount for line in self.lines), ZERO)

    @property
    def unallocated(self) -> Decimal:
        return self.amount - self.allocated

    @property
    def credit_applied(self) -> Decimal:
        return sum((line.amount for _, line in self.credit_lines), ZERO)

    def shares(self) -> dict[int, Decimal]:
        """Each customer's part of the payment (the ledger entry per member)."""
        out: dict[int, Decimal] = defaultdict(lambda: ZERO)
        for line in self.lines:
            out[line.customer_id] += line.amount
        return dict(out)


# --- checks --------------------------------------------------------------------------


def clean_amount(value, *, label: str = "Amount") -> Decimal:
    """A positive amount in the currency's decimals; zero, negative or 45.505 refused."""
    try:
        amount = parse_amount(value, label=label, allow_negative=False)
    except ValidationError as exc:
        raise ValidationError({"amount": exc.messages}) from None
    if amount <= 0:
        raise ValidationError({"amount": f"{label}: a payment of zero moves nothing."})
    return amount


def _check_method(method) -> PaymentMethod:
    if isinstance(method, str):
        found = PaymentMethod.objects.filter(name__iexact=method.strip()).first()
        if found is None:
            raise ValidationError({"method": f"“{method}” is not a payment method."})
        method = found
    if method is None:
        raise ValidationError({"method": "Choose how the money was paid."})
    if not method.active:
        raise ValidationError({"method": f"“{method}” is no longer offered."})
    return method


def check_payment_group(group: Group) -> None:
    if not group.payment_group:
        raise ValidationError(
            {
                "group": f"“{group}” is not a payment group, so payments cannot be taken for "
                "it; tick “Payment group” on the group first."
            }
        )


def members_of(actor: Actor, group: Group) -> tuple[list[int], int]:
    """(ids of the members the actor may act on, how many members it leaves out)."""
    all_ids = GroupMembership.objects.filter(group=group).values_list("customer_id", flat=True)
    total = all_ids.count()
    if actor.user is None or not getattr(actor.user, "has_customer_restriction", False):
        return sorted(all_ids), 0
    reach = Customer.objects.restrict(actor, "change").filter(
        pk__in=GroupMembership.objects.filter(group=group).values("customer_id")
    )
    ids = sorted(reach.values_list("pk", flat=True))
    return ids, total - len(ids)


def _open_invoices(customer_ids, invoice_ids=None, *, lock: bool) -> list[Invoice]:
    qs = Invoice.objects.filter(kind=Invoice.Kind.INVOICE, customer_id__in=customer_ids)
    if invoice_ids is not None:
        qs = qs.filter(pk__in=invoice_ids)
    qs = qs.only("id", "number", "customer_id", "issue_date", "due_date", "gross", "amount_paid")
    if lock and connection.vendor == "postgresql":
        # Locked in id order (one order for every payment: no deadlock), sorted below.
        qs = qs.select_for_update().order_by("id")
    rows = [i for i in qs if i.gross > i.amount_paid]
    rows.sort(key=lambda i: (i.issue_date, i.pk))
    return rows


def _take(invoices: list[Invoice], amount: Decimal, *, from_credit=False) -> list[PlannedLine]:
    lines = []
    for invoice in invoices:
        if amount <= 0:
            break
        outstanding = invoice.gross - invoice.amount_paid
        if outstanding <= 0:
            continue
        take = min(outstanding, amount)
        lines.append(
            PlannedLine(
                invoice_id=invoice.pk,
                number=invoice.number,
                customer_id=invoice.customer_id,
                issue_date=invoice.issue_date,
                due_date=invoice.due_date,
                gross=invoice.gross,
                outstanding=outstanding,
                amount=take,
                from_member_credit=from_credit,
            )
        )
        invoice.amount_paid += take  # so a later take sees what is left
        amount -= take
    return lines


def _held_credits(customer_ids, *, lock: bool) -> list[Payment]:
    qs = Payment.objects.filter(
        kind=Payment.Kind.PAYMENT, customer_id__in=customer_ids, unallocated__gt=0
    ).order_by("received_date", "id")
    if lock and connection.vendor == "postgresql":
        qs = qs.select_for_update()
    return list(qs)


def _plan(
    actor: Actor,
    *,
    customer: Customer | None,
    group: Group | None,
    amount: Decimal,
    invoice_ids=None,
    lock: bool,
) -> Plan:
    plan = Plan(amount=amount)
    if customer is not None:
        ids = [customer.pk]
        plan.members = 1
    else:
        ids, plan.members_left_out = members_of(actor, group)
        plan.members = len(ids)
    invoices = _open_invoices(ids, invoice_ids, lock=lock)
    if invoice_ids is not None:
        wanted = {int(i) for i in invoice_ids}
        missing = wanted - {i.pk for i in invoices}
        if missing:
            raise ValidationError(
                {
                    "invoices": f"{len(missing)} of the chosen invoices are not open invoices "
                    "of this payer (paid already, a credit note, or someone else's)."
                }
            )
    plan.open_total = sum((i.gross - i.amount_paid for i in invoices), ZERO)
    if group is not None and group.apply_member_credits:
        # Members' own held credit pays their own invoices first (the group's setting).
        by_customer = defaultdict(list)
        for invoice in invoices:
            by_customer[invoice.customer_id].append(invoice)
        for credit in _held_credits(ids, lock=lock):
            for line in _take(
                by_customer.get(credit.customer_id, []), credit.unallocated, from_credit=True
            ):
                plan.credit_lines.append((credit.pk, line))
    plan.lines = _take(invoices, amount)
    # Names for what a preview shows (its first 200 lines).
    shown = [*plan.lines[:200], *(line for _, line in plan.credit_lines[:200])]
    names = {line.customer_id for line in shown}
    plan.customers = dict(Customer.objects.filter(pk__in=names).values_list("pk", "name"))
    for line in shown:
        line.customer_name = plan.customers.get(line.customer_id, "")
    return plan


def _payer(actor: Actor, customer, group) -> None:
    if (customer is None) == (group is None):
        raise ValidationError({"customer": "A payment has one payer: a customer or a group."})
    if customer is not None:
        if not Customer.objects.restrict(actor, "change").filter(pk=customer.pk).exists():
            raise PermissionDenied("You may not take payments for this customer.")
    else:
        check_payment_group(group)


def payment_preview(*, actor: Actor, customer=None, group=None, amount, invoices=None) -> Plan:
    """How the payment would be allocated, invoice by invoice; writes nothing."""
    require_perm(actor, Payment, "add")
    _payer(actor, customer, group)
    amount = clean_amount(amount)
    return _plan(
        actor,
        customer=customer,
        group=group,
        amount=amount,
        invoice_ids=_ids(invoices),
        lock=False,
    )


def _ids(invoices):
    if invoices is None:
        return None
    return [getattr(i, "pk", i) for i in invoices]


def add_paid(deltas: dict[int, Decimal]) -> None:
    """Add each delta to its invoice's `amount_paid` (the only field that changes on an
    issued invoice): the rows locked in id order, then one UPDATE per 5,000 invoices
    (PostgreSQL: `UPDATE … FROM (VALUES …)`, linear however many; SQLite: bulk_update).
    Refuses, with nothing moved, an invoice paid below zero or beyond its total."""
    deltas = {k: v for k, v in deltas.items() if v}
    if not deltas:
        return
    ids = sorted(deltas)
    pg = connection.vendor == "postgresql"
    for start in range(0, len(ids), 5000):
        chunk = ids[start : start + 5000]
        qs = Invoice.objects.filter(pk__in=chunk).only("id", "number", "amount_paid", "gross")
        if pg:
            qs = qs.select_for_update().order_by("id")
        changed = []
        for invoice in qs:
            invoice.amount_paid = to_money(invoice.amount_paid + deltas[invoice.pk])
            if invoice.amount_paid < 0 or invoice.amount_paid > invoice.gross:
                raise ValidationError(
                    {
                        "amount": f"Invoice {invoice.number} would be paid beyond its total; "
                        "nothing moved."
                    }
                )
            changed.append(invoice)
        if not pg:
            Invoice.objects.bulk_update(changed, ["amount_paid"], batch_size=1000)
            continue
        values = ", ".join(["(%s, %s::numeric)"] * len(changed))
        params = [x for invoice in changed for x in (invoice.pk, invoice.amount_paid)]
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE billing_invoice AS i SET amount_paid = v.paid "
                f"FROM (VALUES {values}) AS v(id, paid) WHERE i.id = v.id",
                params,
            )


def _deltas(allocations) -> dict[int, Decimal]:
    out: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for allocation in allocations:
        out[allocation.invoice_id] += allocation.amount
    return dict(out)


def _describe(method, reference: str) -> str:
    return f"{method} payment" + (f", {reference}" if reference else "")


def payment_record(
    *,
    actor: Actor,
    customer: Customer | None = None,
    group: Group | None = None,
    amount,
    method,
    received_date: datetime.date | None = None,
    reference: str = "",
    note: str = "",
    invoices=None,
) -> Payment:
    """Record money received and allocate it (module docstring); one transaction."""
    require_perm(actor, Payment, "add")
    _payer(actor, customer, group)
    amount = clean_amount(amount)
    method = _check_method(method)
    received_date = received_date or timezone.localdate()
    if received_date > timezone.localdate():
        raise ValidationError({"received_date": "A payment cannot be received in the future."})
    reference = (reference or "").strip()[:100]
    user = actor.user if actor.user is not None and actor.user.pk else None
    with transaction.atomic():
        if group is not None:
            group = Group.objects.select_for_update().get(pk=group.pk)
            check_payment_group(group)
        plan = _plan(
            actor,
            customer=customer,
            group=group,
            amount=amount,
            invoice_ids=_ids(invoices),
            lock=True,
        )
        if group is not None and plan.members == 0:
            raise ValidationError({"group": f"“{group}” has no members you may take payments for."})
        payment = Payment(
            kind=Payment.Kind.PAYMENT,
            customer=customer,
            group=group,
            method=method,
            amount=amount,
            unallocated=plan.unallocated,
            received_date=received_date,
            reference=reference,
            note=(note or "").strip(),
            actor_user=user,
            actor_label=actor.label[:200],
        )
        payment.save()
        allocations = [
            PaymentAllocation(
                payment=payment,
                invoice_id=line.invoice_id,
                customer_id=line.customer_id,
                amount=line.amount,
            )
            for line in plan.lines
        ]
        credit_ids = sorted({pid for pid, _ in plan.credit_lines})
        allocations += [
            PaymentAllocation(
                payment_id=pid,
                invoice_id=line.invoice_id,
                customer_id=line.customer_id,
                amount=line.amount,
            )
            for pid, line in plan.credit_lines
        ]
        PaymentAllocation.objects.bulk_create(allocations, batch_size=1000)
        if credit_ids:
            used = defaultdict(lambda: ZERO)
            for pid, line in plan.credit_lines:
                used[pid] += line.amount
            for credit in Payment.objects.filter(pk__in=credit_ids):
                credit.unallocated = to_money(credit.unallocated - used[credit.pk])
                credit.save(update_fields=["unallocated"])
        add_paid(_deltas(allocations))
        description = _describe(method, reference)
        if customer is not None:
            postings = [
                Posting(
                    customer_id=customer.pk,
                    kind=Kind.PAYMENT,
                    amount=-amount,
                    effective_date=received_date,
                    description=description,
                    source=payment,
                )
            ]
            ledger_post_many(actor=actor, postings=postings)
        elif plan.lines:
            # One entry per member for its share, set-based however many members.
            day_param = "CAST(%s AS DATE)" if connection.vendor == "postgresql" else "%s"
            ledger_post_selected(
                actor=actor,
                kind=Kind.PAYMENT,
                select_sql=(
                    "SELECT a.customer_id, -SUM(a.amount) AS amount, "
                    f"{day_param} AS effective_date, "
                    "CAST(%s AS VARCHAR(200)) AS description, a.payment_id AS source_id "
                    "FROM payments_paymentallocation a WHERE a.payment_id = %s "
                    "GROUP BY a.customer_id, a.payment_id"
                ),
                params=[received_date, f"{description} (group “{group}”)"[:200], payment.pk],
                source_model=Payment,
            )
        _record_events(actor, payment, plan, "payment_recorded")
    return payment


def _record_events(actor: Actor, payment: Payment, plan_or_shares, action: str, reason=""):
    verb = {
        "payment_recorded": "Recorded",
        "payment_refunded": "Refunded",
        "payment_reversed": "Reversed",
    }[action]
    if payment.customer_id:
        audit.record(
            actor=actor,
            action=action,
            obj=payment,
            customer=payment.customer,
            changes={"amount": [None, str(payment.amount)]},
            message=f"{verb} {payment.get_kind_display().lower()} of "
            f"{format_money(payment.amount)} ({payment.method})",
            reason=reason,
        )
        return
    shares = plan_or_shares.shares() if isinstance(plan_or_shares, Plan) else plan_or_shares
    events = [
        audit.build(
            actor=actor,
            action=action,
            obj=payment,
            customer=Customer(pk=cid),
            changes={"share": [None, str(share)]},
            message=f"{verb} {format_money(abs(share))} of the group “{payment.group}” "
            f"{payment.get_kind_display().lower()} of {format_money(payment.amount)}",
            reason=reason,
        )
        for cid, share in sorted(shares.items())
    ]
    events.append(
        audit.build(
            actor=actor,
            action=action,
            obj=payment,
            changes={"amount": [None, str(payment.amount)]},
            message=f"{verb} group {payment.get_kind_display().lower()} of "
            f"{format_money(payment.amount)} for “{payment.group}”",
            reason=reason,
        )
    )
    audit.record_many(events)


# --- refunds and reversals -----------------------------------------------------------


def can_refund(who) -> bool:
    return who is not None and who.has_perm("payments.refund_payment")


def refunded_total(payment: Payment) -> Decimal:
    total = payment.corrections.filter(kind=Payment.Kind.REFUND).aggregate(s=Sum("amount"))["s"]
    return to_money(total or 0)


def net_allocations(payment: Payment) -> list[tuple[int, int, Decimal]]:
    """(invoice, customer, amount) the payment still pays, after its refunds: newest
    allocation first (the order a refund takes them back)."""
    rows = (
        PaymentAllocation.objects.filter(Q(payment=payment) | Q(payment__reverses=payment))
        .values("invoice_id", "customer_id")
        .annotate(total=Sum("amount"), last=Max("id"))
        .order_by("-last")
    )
    out = []
    for row in rows:
        total = to_money(row["total"] or 0)
        if total > 0:
            out.append((row["invoice_id"], row["customer_id"], total))
    return out


def _locked(payment: Payment) -> Payment:
    Payment.objects.select_for_update().filter(pk=payment.pk).values_list("pk").first()
    locked = Payment.objects.select_related("customer", "group", "method").get(pk=payment.pk)
    if locked.kind != Payment.Kind.PAYMENT:
        raise ValidationError({"payment": "Only a payment can be refunded or reversed."})
    if locked.corrections.filter(kind=Payment.Kind.REVERSAL).exists():
        raise ValidationError({"payment": f"Payment #{locked.pk} has been reversed already."})
    return locked


def _correction(actor, payment, kind, amount, reason, method=None) -> Payment:
    user = actor.user if actor.user is not None and actor.user.pk else None
    row = Payment(
        kind=kind,
        customer_id=payment.customer_id,
        group_id=payment.group_id,
        method=method or payment.method,
        amount=amount,
        unallocated=0,
        received_date=timezone.localdate(),
        reference=payment.reference,
        note=reason,
        reverses=payment,
        actor_user=user,
        actor_label=actor.label[:200],
    )
    row.save()
    return row


def _reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": f"Say why the payment is {what}; it is kept with it."})
    return reason


def _payment_entry(payment: Payment, customer_id: int):
    from django.contrib.contenttypes.models import ContentType

    return (
        LedgerEntry.objects.filter(
            source_type=ContentType.objects.get_for_model(Payment),
            source_id=payment.pk,
            customer_id=customer_id,
            kind=Kind.PAYMENT,
        )
        .order_by("id")
        .first()
    )


def payment_refund(*, actor: Actor, payment: Payment, amount, reason: str, method=None) -> Payment:
    """Pay money back: never more than the payment less its earlier refunds. The refund
    takes the payment's held credit first, then reopens its invoices, newest first."""
    if not can_refund(actor):
        raise PermissionDenied("Your role does not allow you to refund payments.")
    amount = clean_amount(amount, label="Refund")
    reason = _reason(reason, "refunded")
    method = _check_method(method) if method is not None else None
    with transaction.atomic():
        payment = _locked(payment)
        _check_payer_reach(actor, payment)
        left = to_money(payment.amount - refunded_total(payment))
        if amount > left:
            raise ValidationError(
                {
                    "amount": f"At most {format_money(left)} can be refunded: the payment was "
                    f"{format_money(payment.amount)}"
                    + (
                        f" and {format_money(payment.amount - left)} has been refunded already."
                        if left != payment.amount
                        else "."
                    )
                }
            )
        refund = _correction(actor, payment, Payment.Kind.REFUND, amount, reason, method)
        from_credit = min(amount, payment.unallocated)
        rest = amount - from_credit
        undo = []
        for invoice_id, customer_id, paid in net_allocations(payment):
            if rest <= 0:
                break
            take = min(paid, rest)
            undo.append(
                PaymentAllocation(
                    payment=refund, invoice_id=invoice_id, customer_id=customer_id, amount=-take
                )
            )
            rest -= take
        PaymentAllocation.objects.bulk_create(undo, batch_size=1000)
        add_paid(_deltas(undo))
        payment.unallocated = to_money(payment.unallocated - from_credit)
        payment.save(update_fields=["unallocated"])
        shares = _shares(undo)
        if payment.customer_id:
            postings = [(payment.customer_id, amount)]
        else:
            postings = sorted((cid, -share) for cid, share in shares.items())
        ledger_post_many(
            actor=actor,
            postings=[
                Posting(
                    customer_id=cid,
                    kind=Kind.REFUND,
                    amount=value,
                    description=f"Refund of payment #{payment.pk}",
                    reason=reason,
                    source=refund,
                )
                for cid, value in postings
            ],
        )
        _record_events(
            actor,
            refund,
            dict(postings),
            "payment_refunded",
            reason,
        )
    return refund


def _shares(allocations) -> dict[int, Decimal]:
    out: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for allocation in allocations:
        out[allocation.customer_id] += allocation.amount
    return dict(out)


def _check_payer_reach(actor: Actor, payment: Payment) -> None:
    if payment.customer_id and not (
        Customer.objects.restrict(actor, "change").filter(pk=payment.customer_id).exists()
    ):
        raise PermissionDenied("You may not refund or reverse this customer's payments.")


def payment_reverse(*, actor: Actor, payment: Payment, reason: str) -> Payment:
    """A bounced cheque: undo what is left of the payment (its allocations and its held
    credit) with a reversal record and PAYMENT_REVERSAL entries; once per payment."""
    if not can_refund(actor):
        raise PermissionDenied("Your role does not allow you to reverse payments.")
    reason = _reason(reason, "reversed")
    with transaction.atomic():
        payment = _locked(payment)
        _check_payer_reach(actor, payment)
        left = to_money(payment.amount - refunded_total(payment))
        if left <= 0:
            raise ValidationError(
                {"payment": f"Payment #{payment.pk} has been refunded in full; nothing is left."}
            )
        reversal = _correction(actor, payment, Payment.Kind.REVERSAL, left, reason)
        undo = [
            PaymentAllocation(
                payment=reversal, invoice_id=invoice_id, customer_id=customer_id, amount=-paid
            )
            for invoice_id, customer_id, paid in net_allocations(payment)
        ]
        PaymentAllocation.objects.bulk_create(undo, batch_size=1000)
        add_paid(_deltas(undo))
        payment.unallocated = ZERO
        payment.save(update_fields=["unallocated"])
        if payment.customer_id:
            postings = [(payment.customer_id, left)]
        else:
            # What each member still has of the payment (allocations, less refunds).
            postings = sorted((cid, -share) for cid, share in _shares(undo).items())
        ledger_post_many(
            actor=actor,
            postings=[
                Posting(
                    customer_id=cid,
                    kind=Kind.PAYMENT_REVERSAL,
                    amount=value,
                    description=f"Reversal of payment #{payment.pk}",
                    reason=reason,
                    source=reversal,
                    reverses_id=getattr(_payment_entry(payment, cid), "pk", None)
                    if len(postings) < 50
                    else None,
                )
                for cid, value in postings
            ],
        )
        _record_events(actor, reversal, dict(postings), "payment_reversed", reason)
    return reversal


# --- groups and money (ORG-8) -------------------------------------------------------


def group_used_by_payments(group) -> str | None:
    """A group that paid is kept (archived or renamed, not deleted)."""
    count = Payment.objects.filter(group=group).count()
    if not count:
        return None
    return (
        f"“{group}” has {count} payment{'s' if count != 1 else ''} recorded for it, so money "
        "records depend on it: archive or rename it instead of deleting it."
    )


def group_statement(*, actor: Actor, group: Group, limit: int = 200) -> dict:
    """The group's statement: its members' open invoices (oldest first, the order a
    payment takes them), its payments with their allocations, the outstanding total and
    the credit held on the group."""
    ids, left_out = members_of(actor, group)
    invoices = Invoice.objects.filter(
        kind=Invoice.Kind.INVOICE, customer_id__in=ids
    ).select_related("customer")
    open_invoices = [i for i in invoices.order_by("issue_date", "id") if i.gross > i.amount_paid]
    payments = list(
        Payment.objects.filter(Q(group=group) | Q(reverses__group=group))
        .select_related("method")
        .order_by("-received_date", "-id")[:50]
    )
    held = Payment.objects.filter(group=group, kind=Payment.Kind.PAYMENT).aggregate(
        s=Sum("unallocated")
    )["s"]
    return {
        "members": len(ids),
        "members_left_out": left_out,
        "open_invoices": open_invoices[:limit],
        "open_count": len(open_invoices),
        "outstanding": to_money(sum((i.gross - i.amount_paid for i in open_invoices), ZERO)),
        "payments": payments,
        "credit_held": to_money(held or 0),
    }


# --- the methods list -----------------------------------------------------------------


def payment_method_create(*, actor: Actor, data: dict) -> PaymentMethod:
    from patron.core.services import simple_create

    return simple_create(actor=actor, model=PaymentMethod, data=data)


def payment_method_update(
    *, actor: Actor, method: PaymentMethod, data: dict, expected_version: int | None = None
) -> PaymentMethod:
    from patron.core.services import simple_update

    return simple_update(actor=actor, instance=method, data=data, expected_version=expected_version)
