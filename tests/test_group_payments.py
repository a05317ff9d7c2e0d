"""Group payments (BIL-4): across members oldest first, the credits rule, the group's rest."""

import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum

from patron.billing.models import Invoice
from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.groups.services import group_delete
from patron.ledger.models import Kind, LedgerEntry
from patron.ledger.services import balance_of, balances_out_of_step
from patron.payments.models import PaymentAllocation
from patron.payments.services import (
    group_statement,
    payment_preview,
    payment_record,
    payment_refund,
    payment_reverse,
)
from tests.factories import GroupFactory, GroupSetFactory, user_with_role
from tests.payments_fixtures import DAY, cash, make_invoice, payment_group

pytestmark = pytest.mark.django_db

D = Decimal
LATER = DAY + datetime.timedelta(days=31)


def test_allocated_across_members_oldest_first_ties_by_invoice_id(actor):
    group, (a, b, c) = payment_group(members=3)
    b_old = make_invoice(actor, b, "40.00", DAY)
    a_old = make_invoice(actor, a, "25.00", DAY)  # same date as b's: b's has the lower id
    c_new = make_invoice(actor, c, "50.00", LATER)
    a_new = make_invoice(actor, a, "30.00", LATER)

    payment = payment_record(
        actor=actor, group=group, amount="100.00", method=cash(), received_date=LATER
    )
    rows = list(payment.allocations.order_by("id").values_list("invoice_id", "amount"))
    assert rows == [
        (b_old.pk, D("40.00")),
        (a_old.pk, D("25.00")),
        (c_new.pk, D("35.00")),
    ]
    assert a_new.pk not in [r[0] for r in rows]
    # Exact to the penny: the allocations are the payment.
    total = PaymentAllocation.objects.filter(payment=payment).aggregate(s=Sum("amount"))["s"]
    assert total == payment.amount and payment.unallocated == 0
    # One PAYMENT entry per member for its share; c's invoice part-paid.
    shares = dict(
        LedgerEntry.objects.filter(kind=Kind.PAYMENT).values_list("customer_id", "amount")
    )
    assert shares == {a.pk: D("-25.00"), b.pk: D("-40.00"), c.pk: D("-35.00")}
    c_new.refresh_from_db()
    assert c_new.payment_state == "part_paid"
    assert balance_of(c) == D("15.00")
    assert balances_out_of_step() == []


def test_a_group_that_is_not_a_payment_group_is_refused(actor):
    group = GroupFactory(name="Newsletter", group_set=GroupSetFactory(single_choice=False))
    with pytest.raises(ValidationError, match="not a payment group"):
        payment_record(actor=actor, group=group, amount="10", method=cash())
    with pytest.raises(ValidationError, match="not a payment group"):
        payment_preview(actor=actor, group=group, amount="10")


def test_the_rest_is_held_on_the_group_and_applied_by_the_billing_run(actor):
    from patron.billing.runs import billing_run
    from patron.catalogue import services as catalogue
    from patron.subscriptions.services import customer_service_add

    catalogue.tax_rate_create(
        actor=actor, data={"name": "Zero", "rate": D("0"), "is_default": True}
    )
    fibre = catalogue.service_create(
        actor=actor, data={"code": "F", "name": "Fibre", "kind": "monthly", "price": D("30.00")}
    )
    group, (a, b) = payment_group(members=2)
    make_invoice(actor, a, "10.00", DAY)
    for member in (a, b):
        customer_service_add(actor=actor, customer=member, service=fibre, data={"start_date": DAY})
    payment = payment_record(actor=actor, group=group, amount="50.00", method=cash())
    assert payment.unallocated == D("40.00")
    # The rest is the group's: not on any member's ledger yet.
    assert balance_of(b) == 0
    statement = group_statement(actor=actor, group=group)
    assert statement["credit_held"] == D("40.00") and statement["outstanding"] == 0

    billing_run(actor=actor, billing_date=datetime.date(2026, 11, 1))
    payment.refresh_from_db()
    invoices = {i.customer_id: i for i in Invoice.objects.filter(run__isnull=False)}
    assert invoices[a.pk].payment_state == "paid"
    assert invoices[b.pk].amount_paid == D("10.00")  # 40 - 30 for a's, the lower id
    assert payment.unallocated == 0
    assert balance_of(a) == 0 and balance_of(b) == D("20.00")
    assert balances_out_of_step() == []


@pytest.mark.parametrize("apply_credits", [False, True])
def test_members_credits_rule_both_ways(actor, apply_credits):
    group, (a, b) = payment_group(apply_credits=apply_credits, members=2)
    # a holds 20.00 of its own credit from before its invoices.
    own = payment_record(actor=actor, customer=a, amount="20.00", method=cash(), received_date=DAY)
    a_invoice = make_invoice(actor, a, "30.00", DAY)
    b_invoice = make_invoice(actor, b, "30.00", LATER)
    payment = payment_record(actor=actor, group=group, amount="40.00", method=cash())
    own.refresh_from_db()
    a_invoice.refresh_from_db()
    b_invoice.refresh_from_db()
    if apply_credits:
        # a's credit pays 20 of a's invoice first; the group pays a's 10 and b's 30.
        assert own.unallocated == 0
        assert (a_invoice.amount_paid, b_invoice.amount_paid) == (D("30.00"), D("30.00"))
        assert payment.unallocated == 0
    else:
        # a's credit waits; the group pays a's 30 then 10 of b's.
        assert own.unallocated == D("20.00")
        assert (a_invoice.amount_paid, b_invoice.amount_paid) == (D("30.00"), D("10.00"))
    assert balances_out_of_step() == []


def test_restricted_staff_touch_only_their_members(actor, admin_user):
    group, (inside, outside) = payment_group(members=2)
    north = GroupFactory(name="North", group_set=GroupSetFactory(single_choice=False))
    from tests.payments_fixtures import add_member

    add_member(north, inside)
    cashier = user_with_role("Administrator", username="cashier")
    cashier.restricted_groups.set([north])
    who = Actor(user=cashier)
    make_invoice(actor, inside, "10.00", DAY)
    make_invoice(actor, outside, "10.00", DAY)
    plan = payment_preview(actor=who, group=group, amount="15.00")
    assert (plan.members, plan.members_left_out) == (1, 1)
    payment = payment_record(actor=who, group=group, amount="15.00", method=cash())
    assert set(payment.allocations.values_list("customer_id", flat=True)) == {inside.pk}
    assert payment.unallocated == D("5.00")
    assert balance_of(outside) == D("10.00")


def test_refund_and_reversal_of_a_group_payment(actor):
    group, (a, b) = payment_group(members=2)
    make_invoice(actor, a, "30.00", DAY)
    make_invoice(actor, b, "30.00", LATER)
    payment = payment_record(actor=actor, group=group, amount="70.00", method=cash())
    assert payment.unallocated == D("10.00")
    payment_refund(actor=actor, payment=payment, amount="15.00", reason="Overpaid")
    # 10 from the group's credit (never on a ledger), 5 reopens b's invoice.
    assert LedgerEntry.objects.get(kind=Kind.REFUND).amount == D("5.00")
    assert balance_of(b) == D("5.00")
    payment_reverse(actor=actor, payment=payment, reason="Bounced")
    assert balance_of(a) == D("30.00") and balance_of(b) == D("30.00")
    assert balances_out_of_step() == []


def test_a_group_that_took_a_payment_cannot_be_deleted(actor):
    group, _ = payment_group(members=0)
    group.memberships.all().delete()
    from tests.factories import CustomerFactory
    from tests.payments_fixtures import add_member

    member = CustomerFactory()
    add_member(group, member)
    payment_record(actor=actor, group=group, amount="5.00", method=cash())
    group.memberships.all().delete()
    group.was_used = False
    group.save(update_fields=["was_used"])
    with pytest.raises(ValidationError, match="payment"):
        group_delete(actor=actor, group=group)
