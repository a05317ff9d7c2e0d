"""Customer payments: allocation oldest first, credit, refunds and reversals, exact totals."""

import datetime
from decimal import Decimal

import pytest
from django.db.models import Sum

from patron.core.errors import PermissionDenied, ValidationError
from patron.customers.services import customer_group_add
from patron.events.models import Event
from patron.ledger.models import Kind, LedgerEntry
from patron.ledger.services import balance_of, balances_out_of_step
from patron.payments.models import Payment, PaymentAllocation, PaymentMethod
from patron.payments.services import (
    payment_preview,
    payment_record,
    payment_refund,
    payment_reverse,
)
from tests.factories import CustomerFactory, GroupFactory, GroupSetFactory
from tests.payments_fixtures import DAY, cash, cheque, make_invoice, payment_group

pytestmark = pytest.mark.django_db

D = Decimal


def allocated(payment) -> Decimal:
    return PaymentAllocation.objects.filter(payment=payment).aggregate(s=Sum("amount"))["s"] or 0


def test_default_methods_exist():
    names = list(PaymentMethod.objects.values_list("name", flat=True))
    assert names == ["Cash", "Bank transfer", "Card", "Direct debit", "Cheque"]


def test_a_payment_pays_open_invoices_oldest_first_and_keeps_the_rest_as_credit(actor):
    customer = CustomerFactory()
    newer = make_invoice(actor, customer, "30.00", DAY + datetime.timedelta(days=31))
    older = make_invoice(actor, customer, "45.00", DAY)
    same_day = make_invoice(actor, customer, "10.00", DAY)  # same date: the lower id first

    payment = payment_record(
        actor=actor, customer=customer, amount="100.00", method=cash(), received_date=DAY
    )
    rows = list(payment.allocations.order_by("id").values_list("invoice_id", "amount"))
    assert rows == [(older.pk, D("45.00")), (same_day.pk, D("10.00")), (newer.pk, D("30.00"))]
    assert payment.unallocated == D("15.00")
    assert allocated(payment) + payment.unallocated == payment.amount  # to the penny
    for invoice in (older, same_day, newer):
        invoice.refresh_from_db()
        assert invoice.payment_state == "paid"
    # One PAYMENT entry of the whole amount: the rest is a negative balance (credit).
    (entry,) = LedgerEntry.objects.filter(kind=Kind.PAYMENT)
    assert entry.amount == D("-100.00") and entry.source_id == payment.pk
    assert balance_of(customer) == D("-15.00")
    assert Event.objects.filter(action="payment_recorded", customer=customer).exists()
    assert balances_out_of_step() == []


def test_part_payment_and_chosen_invoices(actor):
    customer = CustomerFactory()
    first = make_invoice(actor, customer, "40.00", DAY)
    second = make_invoice(actor, customer, "40.00", DAY + datetime.timedelta(days=1))
    payment_record(
        actor=actor,
        customer=customer,
        amount="25.50",
        method=cash(),
        received_date=DAY,
        invoices=[second],
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.payment_state, second.payment_state) == ("open", "part_paid")
    assert second.amount_paid == D("25.50")
    other = make_invoice(actor, CustomerFactory(), "5.00")
    with pytest.raises(ValidationError, match="not open invoices of this payer"):
        payment_record(actor=actor, customer=customer, amount="5", method=cash(), invoices=[other])


@pytest.mark.parametrize(
    ("amount", "message"),
    [("0", "zero"), ("0.00", "zero"), ("12.345", "at most 2 decimals"), ("-5", "negative")],
)
def test_bad_amounts_are_refused(actor, amount, message):
    customer = CustomerFactory()
    with pytest.raises(ValidationError, match=message):
        payment_record(actor=actor, customer=customer, amount=amount, method=cash())
    assert not Payment.objects.exists() and not LedgerEntry.objects.exists()


def test_a_payment_needs_one_payer_and_a_method_and_no_future_date(actor):
    customer = CustomerFactory()
    with pytest.raises(ValidationError, match="one payer"):
        payment_record(actor=actor, amount="5", method=cash())
    with pytest.raises(ValidationError, match="not a payment method"):
        payment_record(actor=actor, customer=customer, amount="5", method="Bitcoin")
    with pytest.raises(ValidationError, match="future"):
        payment_record(
            actor=actor,
            customer=customer,
            amount="5",
            method=cash(),
            received_date=datetime.date.today() + datetime.timedelta(days=3),
        )


def test_staff_without_the_permission_cannot_record(staff):
    from patron.core.actor import Actor

    with pytest.raises(PermissionDenied):
        payment_record(
            actor=Actor(user=staff), customer=CustomerFactory(), amount="5", method=cash()
        )


def test_preview_writes_nothing(actor):
    customer = CustomerFactory()
    make_invoice(actor, customer, "20.00")
    plan = payment_preview(actor=actor, customer=customer, amount="12.00")
    assert [line.amount for line in plan.lines] == [D("12.00")]
    assert plan.unallocated == 0
    assert not Payment.objects.exists()


def test_refund_never_more_than_the_payment_less_earlier_refunds(actor):
    customer = CustomerFactory()
    invoice = make_invoice(actor, customer, "60.00")
    payment = payment_record(actor=actor, customer=customer, amount="80.00", method=cash())
    assert payment.unallocated == D("20.00")

    with pytest.raises(ValidationError, match="reason"):
        payment_refund(actor=actor, payment=payment, amount="10", reason=" ")
    with pytest.raises(ValidationError, match="At most £80.00 can be refunded"):
        payment_refund(actor=actor, payment=payment, amount="80.01", reason="Too much")

    # The held credit goes back first, then the invoice reopens.
    first = payment_refund(actor=actor, payment=payment, amount="30.00", reason="Overpaid")
    payment.refresh_from_db()
    invoice.refresh_from_db()
    assert payment.unallocated == 0
    assert (invoice.amount_paid, invoice.payment_state) == (D("50.00"), "part_paid")
    assert first.kind == "refund" and first.reverses == payment
    assert list(first.allocations.values_list("amount", flat=True)) == [D("-10.00")]
    with pytest.raises(ValidationError, match=r"At most £50.00 .* £30.00 has been refunded"):
        payment_refund(actor=actor, payment=payment, amount="50.01", reason="Again")
    entry = LedgerEntry.objects.get(kind=Kind.REFUND)
    assert entry.amount == D("30.00")
    assert balance_of(customer) == D("10.00")  # 60 owed - 80 paid + 30 refunded
    assert balances_out_of_step() == []


def test_a_bounced_cheque_is_reversed_once(actor):
    customer = CustomerFactory()
    invoice = make_invoice(actor, customer, "45.00")
    payment = payment_record(actor=actor, customer=customer, amount="50.00", method=cheque())
    reversal = payment_reverse(actor=actor, payment=payment, reason="Cheque bounced")
    invoice.refresh_from_db()
    payment.refresh_from_db()
    assert invoice.payment_state == "open" and payment.unallocated == 0
    assert reversal.amount == D("50.00") and reversal.kind == "reversal"
    entry = LedgerEntry.objects.get(kind=Kind.PAYMENT_REVERSAL)
    assert entry.amount == D("50.00") and entry.reverses.kind == Kind.PAYMENT
    assert balance_of(customer) == D("45.00")
    with pytest.raises(ValidationError, match="reversed already"):
        payment_reverse(actor=actor, payment=payment, reason="Again")
    with pytest.raises(ValidationError, match="reversed already"):
        payment_refund(actor=actor, payment=payment, amount="1", reason="After")
    # Nothing was edited: the original payment still says what came in.
    assert payment.amount == D("50.00")
    with pytest.raises(ValueError):
        payment.save()


def test_a_customer_in_two_payment_groups_is_refused(actor):
    """ORG-4: a customer is in at most one payment group, by every path."""
    first, _ = payment_group("First payers")
    second = GroupFactory(
        name="Second payers",
        group_set=GroupSetFactory(name="Other set", single_choice=False),
        payment_group=True,
    )
    customer = CustomerFactory()
    customer_group_add(actor=actor, customer=customer, group=first)
    with pytest.raises(ValidationError, match="only one payment group"):
        customer_group_add(actor=actor, customer=customer, group=second)
    assert customer.memberships.count() == 1


def test_billing_run_applies_held_credit_to_the_next_invoice(actor):
    from patron.billing.runs import billing_run
    from patron.catalogue import services as catalogue
    from patron.subscriptions.services import customer_service_add

    catalogue.tax_rate_create(
        actor=actor, data={"name": "Zero", "rate": D("0"), "is_default": True}
    )
    fibre = catalogue.service_create(
        actor=actor,
        data={"code": "F", "name": "Fibre", "kind": "monthly", "price": D("30.00")},
    )
    customer = CustomerFactory()
    customer_service_add(actor=actor, customer=customer, service=fibre, data={"start_date": DAY})
    payment = payment_record(
        actor=actor, customer=customer, amount="50.00", method=cash(), received_date=DAY
    )
    assert payment.unallocated == D("50.00")
    billing_run(actor=actor, billing_date=datetime.date(2026, 11, 1))
    invoice = customer.invoices.get()
    payment.refresh_from_db()
    assert invoice.gross == D("30.00") and invoice.payment_state == "paid"
    assert payment.unallocated == D("20.00")
    assert payment.allocations.get().by_billing_run_id == invoice.run_id
    # The credit was on the ledger already: no second PAYMENT entry.
    assert LedgerEntry.objects.filter(kind=Kind.PAYMENT).count() == 1
    assert balance_of(customer) == D("-20.00")


# --- the pages ------------------------------------------------------------------------


def test_record_from_the_page_preview_then_confirm_and_a_double_submit_records_once(
    client, owner, actor
):
    from django.urls import reverse

    customer = CustomerFactory(account_number="ACME7")
    invoice = make_invoice(actor, customer, "45.00", DAY)
    client.force_login(owner)
    page = client.get(reverse("payments:record"), {"customer": customer.pk})
    assert page.status_code == 200 and b"ACME7" in page.content
    body = {
        "customer": "ACME7",
        "amount": "50.00",
        "method": cash().pk,
        "received_date": DAY.isoformat(),
        "reference": "R1",
        "note": "",
        "idempotency_key": "form-key-1",
    }
    preview = client.post(reverse("payments:record"), {**body, "preview": "1"})
    assert preview.status_code == 200
    text = preview.content.decode()
    assert "How it will be allocated, invoice by invoice" in text and invoice.number in text
    assert not Payment.objects.exists()
    done = client.post(reverse("payments:record"), {**body, "confirm": "1"})
    assert done.status_code == 302
    again = client.post(reverse("payments:record"), {**body, "confirm": "1"})
    assert again.status_code == 302 and again["Location"] == done["Location"]
    assert Payment.objects.count() == 1
    receipt = client.get(done["Location"]).content.decode()
    assert invoice.number in receipt and "£5.00" in receipt
    # The invoice page says what paid it; the overview has the Payments card.
    assert "What paid it" in client.get(invoice.get_absolute_url()).content.decode()
    overview = client.get(customer.get_absolute_url()).content.decode()
    assert 'data-testid="payments-card"' in overview
    bad = client.post(reverse("payments:record"), {**body, "amount": "0", "idempotency_key": "k2"})
    assert bad.status_code == 400 and "zero" in bad.content.decode()


def test_refund_and_reverse_from_the_receipt(client, owner, actor):
    from django.urls import reverse

    customer = CustomerFactory()
    make_invoice(actor, customer, "20.00", DAY)
    payment = payment_record(actor=actor, customer=customer, amount="20.00", method=cheque())
    client.force_login(owner)
    too_much = client.post(
        reverse("payments:refund", args=[payment.pk]), {"amount": "21", "reason": "x"}
    )
    assert too_much.status_code == 400 and "At most £20.00" in too_much.content.decode()
    ok = client.post(reverse("payments:reverse", args=[payment.pk]), {"reason": "Bounced"})
    assert ok.status_code == 302
    assert Payment.objects.filter(kind="reversal").count() == 1


def test_group_pages(client, owner, actor):
    from django.urls import reverse

    group, (a, b) = payment_group(members=2)
    make_invoice(actor, a, "10.00", DAY)
    client.force_login(owner)
    statement = client.get(reverse("payments:statement", args=[group.pk])).content.decode()
    assert "£10.00" in statement
    detail = client.get(group.get_absolute_url()).content.decode()
    assert 'data-testid="group-payment"' in detail
    plain = GroupFactory(name="Plain", group_set=GroupSetFactory(single_choice=False))
    refused = client.post(
        reverse("payments:group", args=[plain.pk]),
        {"amount": "5", "method": cash().pk, "received_date": DAY.isoformat(), "preview": "1"},
    )
    assert refused.status_code == 400 and "not a payment group" in refused.content.decode()
    methods = client.get(reverse("payments:methods")).content.decode()
    assert "Direct debit" in methods
