"""The demo's billing: a catalogue, services, and six months run through the real billing run."""

import datetime

import pytest
from django.conf import settings
from django.db.models import F, Sum
from django.urls import reverse
from django.utils import timezone

from patron.billing.models import BillingRun, Invoice, InvoiceLine, UsageCharge
from patron.catalogue.models import Service, TaxRate
from patron.customers.models import Customer
from patron.ledger.models import Balance, Kind, LedgerEntry
from patron.ledger.services import balances_out_of_step
from patron.ops.demo import load_demo
from patron.ops.demo.billing import billing_dates
from patron.payments.models import Payment, PaymentAllocation
from patron.subscriptions.models import CustomerService

pytestmark = pytest.mark.django_db


def test_demo_bills_six_months_through_the_billing_run():
    load_demo(customers=60)

    runs = list(BillingRun.objects.order_by("billing_date"))
    assert [r.state for r in runs] == ["done"] * 6
    dates = [r.billing_date for r in runs]
    assert dates == billing_dates(timezone.localdate())
    assert {d.day for d in dates} == {settings.PATRON_BILLING_DAY}
    assert dates[-1] <= timezone.localdate() < dates[-1] + datetime.timedelta(days=31)

    # The catalogue the issue names.
    assert TaxRate.objects.get(is_default=True).rate == 20
    assert sorted(TaxRate.objects.values_list("rate", flat=True)) == [0, 5, 20]
    prices = {s.name: (s.kind, f"{s.price:.2f}") for s in Service.objects.all()}
    assert prices == {
        "Fibre 500": ("monthly", "45.00"),
        "Fibre 100": ("monthly", "30.00"),
        "Business Static IP": ("monthly", "10.00"),
        "Router": ("one_off", "60.00"),
        "Installation": ("one_off", "50.00"),
        "UK calls": ("usage", "0.05"),
    }
    static_ip = Service.objects.get(code="STATICIP")
    assert list(static_ip.allowed_groups.values_list("name", flat=True)) == ["Business"]
    for item in CustomerService.objects.filter(service=static_ip).select_related("customer"):
        assert static_ip.allowed_for(item.customer)

    # Every billable customer has 1-3 monthly services, started before the first run, and
    # invoices; CRM-only customers have neither.
    billable = Customer.objects.billable()
    assert billable.count() > 40
    for customer in billable:
        monthly = CustomerService.objects.filter(customer=customer, service__kind="monthly")
        assert 1 <= monthly.count() <= 3
        assert all(s.start_date < dates[0] for s in monthly)
        assert Invoice.objects.filter(customer=customer).exists(), customer
    crm_only = Customer.objects.filter(status__crm_only=True)
    assert not Invoice.objects.filter(customer__in=crm_only).exists()
    assert UsageCharge.objects.values("customer").distinct().count() >= 5
    assert InvoiceLine.objects.filter(kind="one_off").exists()
    assert InvoiceLine.objects.filter(kind="usage").exists()

    # Gapless numbers, one sequence; every invoice is on the ledger.
    numbers = sorted(Invoice.objects.values_list("sequence_number", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))
    assert LedgerEntry.objects.filter(kind=Kind.INVOICE).count() == len(numbers)

    # Balances are the sum of the entries; most invoices are paid, some customers owe.
    assert balances_out_of_step() == []
    for balance in Balance.objects.filter(book="money"):
        total = LedgerEntry.objects.filter(customer_id=balance.customer_id, book="money")
        assert balance.amount == total.aggregate(s=Sum("amount"))["s"]
    payments = LedgerEntry.objects.filter(kind=Kind.PAYMENT)
    assert payments.count() > len(numbers) // 2
    kinds = ("Direct debit payment", "Bank transfer payment", "Card payment", "Group credit")
    assert all(p.amount < 0 and p.description.startswith(kinds) for p in payments)
    assert payments.filter(description__startswith="Bank transfer payment").exists()
    # Real payments (#11): each entry is a Payment's; every payment's allocations and
    # held credit add up to it, to the penny; some are late, a group paid for its members.
    assert all(p.source_id for p in payments)
    for payment in Payment.objects.filter(kind="payment"):
        allocated = payment.allocations.aggregate(s=Sum("amount"))["s"] or 0
        assert allocated + payment.unallocated == payment.amount, payment
    late = [p for p in Payment.objects.filter(customer__isnull=False) if p.reference]
    due = {i.number: i.due_date for i in Invoice.objects.all()}
    assert any(p.received_date > due[p.reference] for p in late)
    group_payments = Payment.objects.filter(group__isnull=False)
    assert group_payments.exists()
    assert group_payments.first().group.payment_group
    assert PaymentAllocation.objects.filter(payment__group__isnull=False).exists()
    part_paid = Invoice.objects.filter(amount_paid__gt=0, amount_paid__lt=F("gross"))
    assert part_paid.exists()
    older = Invoice.objects.exclude(run=runs[-1])
    assert older.filter(amount_paid=0).exists()
    assert older.filter(amount_paid__gt=0).count() > older.count() // 2
    arrears = Balance.objects.filter(book="money", amount__gt=0)
    assert arrears.exists()
    owing_for_older = {i.customer_id for i in older.filter(amount_paid__lt=1) if i.gross > 0}
    assert set(arrears.values_list("customer_id", flat=True)) & owing_for_older


def test_force_adds_services_and_bills_nothing_twice():
    load_demo(customers=30)
    first = list(Invoice.objects.order_by("sequence_number").values_list("customer__name", "gross"))
    paid = list(LedgerEntry.objects.filter(kind=Kind.PAYMENT).values_list("amount", flat=True))

    # A second load with --force adds the customers and their services, bills nothing twice.
    load_demo(customers=30, force=True)
    assert BillingRun.objects.count() == 6
    assert (
        list(Invoice.objects.order_by("sequence_number").values_list("customer__name", "gross"))
        == first
    )
    new = list(Customer.objects.order_by("pk").values_list("pk", flat=True))[30:]
    assert CustomerService.objects.filter(customer__in=new).exists()
    assert (
        list(LedgerEntry.objects.filter(kind=Kind.PAYMENT).values_list("amount", flat=True)) == paid
    )


def test_demo_customer_pages_open(client, owner):
    load_demo(customers=40)
    customer = (
        Customer.objects.filter(invoices__isnull=False, balances__amount__gt=0)
        .distinct()
        .order_by("pk")
        .first()
    )
    assert customer is not None
    client.force_login(owner)
    for url in (
        reverse("customers:detail", args=[customer.pk]),
        reverse("ledger:customer", args=[customer.pk]),
        reverse("customers:events", args=[customer.pk]),
        reverse("events:list"),
    ):
        response = client.get(url)
        assert response.status_code == 200, url
    ledger = client.get(reverse("ledger:customer", args=[customer.pk])).content.decode()
    assert "Invoice INV-" in ledger or "INV-" in ledger
    assert " payment, INV-" in ledger
