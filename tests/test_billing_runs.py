"""Billing runs (BIL-2, BIL-3): what a run charges, for which days, to whom, exactly once."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection

from patron.billing import rating
from patron.billing.models import BillingRun, ImmutableError, Invoice, InvoiceLine, UsageCharge
from patron.billing.runs import billing_run, plan_for
from patron.catalogue import services as catalogue
from patron.core.errors import PermissionDenied, ValidationError
from patron.ledger.models import Balance, LedgerEntry
from patron.ledger.services import balance_of
from patron.subscriptions import services as subscriptions
from tests.factories import CustomerFactory, StatusFactory

pytestmark = pytest.mark.django_db

D = Decimal
DEC1 = datetime.date(2026, 12, 1)


@pytest.fixture
def vat(actor):
    return catalogue.tax_rate_create(
        actor=actor, data={"name": "VAT", "rate": D("20.00"), "is_default": True}
    )


@pytest.fixture
def fibre(actor, vat):
    return catalogue.service_create(
        actor=actor,
        data={"code": "FIBRE500", "name": "Fibre 500", "kind": "monthly", "price": D("45.00")},
    )


@pytest.fixture
def router(actor, vat):
    return catalogue.service_create(
        actor=actor,
        data={"code": "ROUTER", "name": "Router", "kind": "one_off", "price": D("60.00")},
    )


def add(actor, customer, service, **data):
    data.setdefault("start_date", datetime.date(2026, 11, 1))
    return subscriptions.customer_service_add(
        actor=actor, customer=customer, service=service, data=data
    )


def run(actor, date=DEC1, **kwargs):
    return billing_run(actor=actor, billing_date=date, **kwargs)


def test_a_full_month_is_billed_in_advance_with_tax(actor, fibre):
    customer = CustomerFactory()
    add(actor, customer, fibre)
    billed, summary = run(actor)
    invoice = Invoice.objects.get(customer=customer)
    assert (invoice.net, invoice.tax, invoice.gross) == (D("45.00"), D("9.00"), D("54.00"))
    assert invoice.period_start == DEC1 and invoice.period_end == datetime.date(2026, 12, 31)
    assert invoice.number == "INV-000001"
    (line,) = invoice.lines.all()
    assert (line.period_start, line.period_end) == (DEC1, datetime.date(2026, 12, 31))
    assert balance_of(customer) == D("54.00")
    entry = LedgerEntry.objects.get(customer=customer)
    assert entry.kind == "invoice" and entry.amount == D("54.00")
    assert billed.state == BillingRun.State.DONE and summary["invoices"] == 1
    assert summary["gross"] == "54.00"


def test_a_service_starting_mid_period_is_prorated_by_day(actor, fibre):
    customer = CustomerFactory()
    add(actor, customer, fibre, start_date=datetime.date(2026, 12, 10))
    run(actor)
    line = InvoiceLine.objects.get(customer=customer)
    # 22 of December's 31 days: 45.00 × 22 / 31 = 31.935… → 31.94
    assert line.net == D("31.94") and line.period_start == datetime.date(2026, 12, 10)
    assert rating.line_amounts(
        D("45.00"), 1, D("20.00"), includes_tax=False, days=22, period_days=31
    ) == (D("31.94"), D("6.39"), D("38.33"))
    assert (line.tax, line.gross) == (D("6.39"), D("38.33"))


def test_a_service_started_after_its_month_was_billed_is_caught_up(actor, fibre):
    customer = CustomerFactory()
    run(actor, datetime.date(2026, 11, 1))  # nothing yet
    add(actor, customer, fibre, start_date=datetime.date(2026, 11, 16))
    run(actor)
    lines = list(InvoiceLine.objects.filter(customer=customer).order_by("period_start"))
    assert [(li.period_start, li.period_end, li.net) for li in lines] == [
        (datetime.date(2026, 11, 16), datetime.date(2026, 11, 30), D("22.50")),
        (DEC1, datetime.date(2026, 12, 31), D("45.00")),
    ]
    assert Invoice.objects.get(customer=customer).net == D("67.50")


def test_a_second_run_for_the_same_date_is_refused_and_bills_nothing(actor, fibre):
    customer = CustomerFactory()
    add(actor, customer, fibre)
    run(actor)
    with pytest.raises(ValidationError, match="nothing is billed twice"):
        run(actor)
    assert Invoice.objects.count() == 1 and InvoiceLine.objects.count() == 1


def test_a_resumed_run_bills_nothing_twice(actor, fibre):
    first, second = CustomerFactory(), CustomerFactory()
    add(actor, first, fibre)
    add(actor, second, fibre)
    run(actor)
    # As if the run had stopped after its chunks: mark it running and go again.
    BillingRun.objects.update(state=BillingRun.State.RUNNING)
    billed, summary = run(actor)
    assert Invoice.objects.count() == 2 and summary["invoices"] == 2
    assert LedgerEntry.objects.count() == 2


def test_one_off_items_up_to_the_cutoff_once(actor, router):
    customer = CustomerFactory()
    add(actor, customer, router, start_date=datetime.date(2026, 11, 20))
    later = CustomerFactory()
    add(actor, later, router, start_date=datetime.date(2026, 12, 5))
    run(actor)
    assert Invoice.objects.get(customer=customer).net == D("60.00")
    assert not Invoice.objects.filter(customer=later).exists()
    run(actor, datetime.date(2027, 1, 1))
    assert Invoice.objects.filter(customer=customer).count() == 1
    assert Invoice.objects.get(customer=later).net == D("60.00")


def test_usage_is_billed_in_arrears_up_to_the_cutoff(actor, fibre):
    customer = CustomerFactory()
    UsageCharge.objects.create(
        customer=customer,
        date=datetime.date(2026, 11, 30),
        description="UK calls",
        amount=D("3.21"),
    )
    UsageCharge.objects.create(
        customer=customer, date=DEC1, description="UK calls", amount=D("1.00")
    )
    run(actor)
    invoice = Invoice.objects.get(customer=customer)
    assert invoice.net == D("3.21") and invoice.tax == D("0.64")
    assert UsageCharge.objects.filter(invoice_line__isnull=True).count() == 1


def test_status_flags_decide_what_is_billed(actor, fibre):
    not_billable = CustomerFactory(status=StatusFactory(name="Trial", billable=False))
    no_fixed = CustomerFactory(
        status=StatusFactory(name="Calls only", can_have_fixed_charges=False)
    )
    no_calls = CustomerFactory(status=StatusFactory(name="No calls", can_have_calls=False))
    crm = CustomerFactory(status=StatusFactory(name="Lead", crm_only=True))
    archived = CustomerFactory(archived=True)
    for customer in (not_billable, no_fixed, no_calls, crm, archived):
        add(actor, customer, fibre)
        UsageCharge.objects.create(
            customer=customer,
            date=datetime.date(2026, 11, 2),
            description="calls",
            amount=D("2.00"),
        )
    _, summary = run(actor)
    assert not Invoice.objects.filter(customer__in=[not_billable, crm, archived]).exists()
    assert Invoice.objects.get(customer=no_fixed).net == D("2.00")
    assert Invoice.objects.get(customer=no_calls).net == D("45.00")
    assert summary["skipped_not_billable"] == 1


def test_final_bill_ignores_billable_status_and_cutoff_when_the_status_says(actor, fibre):
    ceasing = StatusFactory(
        name="Ceasing",
        billable=False,
        final_invoice=True,
        final_ignore_billable_status=True,
        final_calls_ignore_billable_status=True,
        final_calls_ignore_cutoff_date=True,
        override_invoice_message="Your final bill. Thank you for being with us.",
    )
    customer = CustomerFactory(status=ceasing)
    add(actor, customer, fibre, end_date=datetime.date(2026, 12, 15))
    UsageCharge.objects.create(
        customer=customer, date=datetime.date(2026, 12, 10), description="calls", amount=D("1.50")
    )
    run(actor)
    invoice = Invoice.objects.get(customer=customer)
    assert invoice.is_final and invoice.message.startswith("Your final bill")
    # 15 of 31 days: 45 × 15 / 31 = 21.774… → 21.77, plus the call after the cut-off.
    assert invoice.net == D("23.27")


def test_small_invoices_are_carried_to_the_next_run(actor, fibre, settings):
    settings.PATRON_MINIMUM_INVOICE = "4.00"
    cheap = catalogue.service_create(
        actor=actor,
        data={"code": "EMAIL", "name": "Mailbox", "kind": "monthly", "price": D("2.00")},
    )
    customer = CustomerFactory()
    add(actor, customer, cheap)
    vip = CustomerFactory(status=StatusFactory(name="VIP", ignore_invoice_thresholds=True))
    add(actor, vip, cheap)
    _, summary = run(actor)
    assert not Invoice.objects.filter(customer=customer).exists()
    assert Invoice.objects.get(customer=vip).gross == D("2.40")
    assert summary["carried_below_minimum"] == 1 and summary["carried_gross"] == "2.40"
    run(actor, datetime.date(2027, 1, 1))
    invoice = Invoice.objects.get(customer=customer)
    assert invoice.lines.count() == 2 and invoice.gross == D("4.80")
    run(actor, datetime.date(2027, 2, 1))
    assert Invoice.objects.filter(customer=customer).count() == 1  # 2.40 carried again
    run(actor, datetime.date(2027, 3, 1))
    assert Invoice.objects.filter(customer=customer).count() == 2


def test_billing_day_chooses_who_a_run_bills(actor, fibre):
    first = CustomerFactory()
    fifteenth = CustomerFactory(billing_day=15)
    add(actor, first, fibre)
    add(actor, fifteenth, fibre)
    run(actor)
    assert list(Invoice.objects.values_list("customer", flat=True)) == [first.pk]
    run(actor, datetime.date(2026, 12, 15))
    assert Invoice.objects.get(customer=fifteenth).period_end == datetime.date(2027, 1, 14)


def test_numbers_are_gapless_across_runs_and_previews(actor, fibre):
    for _ in range(3):
        add(actor, CustomerFactory(), fibre)
    run(actor, dry_run=True)
    run(actor)
    for _ in range(2):
        add(actor, CustomerFactory(), fibre, start_date=DEC1)
    run(actor, datetime.date(2027, 1, 1))
    numbers = sorted(Invoice.objects.values_list("sequence_number", flat=True))
    assert numbers == list(range(1, 9))


def test_preview_writes_nothing_and_says_what_the_run_would_do(actor, fibre):
    customer = CustomerFactory()
    add(actor, customer, fibre)
    _, preview = run(actor, dry_run=True)
    assert preview["invoices"] == 1 and preview["gross"] == "54.00"
    assert preview["sample"][0]["account_number"] == customer.account_number
    assert "1 invoice" in preview["message"]
    assert not Invoice.objects.exists() and not BillingRun.objects.exists()
    assert not Balance.objects.exclude(amount=0).exists()


def test_issued_invoices_are_immutable(actor, fibre):
    add(actor, CustomerFactory(), fibre)
    run(actor)
    invoice = Invoice.objects.get()
    invoice.net = D("1.00")
    with pytest.raises(ImmutableError, match="credit note"):
        invoice.save()
    with pytest.raises(ImmutableError):
        invoice.lines.get().save()


def test_bad_billing_dates_and_restricted_users_are_refused(actor, staff, fibre):
    with pytest.raises(ValidationError, match="1st to the 28th"):
        plan_for(datetime.date(2026, 12, 30))
    from patron.core.actor import Actor

    with pytest.raises(PermissionDenied):
        billing_run(actor=Actor(user=staff), billing_date=DEC1)


def test_billing_day_is_set_in_the_api_and_limited_to_the_28th(owner):
    from tests.conftest import token_client

    customer = CustomerFactory()
    client = token_client(owner)
    url = f"/api/customers/{customer.pk}/"
    refused = client.patch(url, {"billing_day": 29}, format="json")
    assert refused.status_code == 400 and "28" in str(refused.json()["billing_day"])
    assert client.patch(url, {"billing_day": 15}, format="json").status_code == 200
    customer.refresh_from_db()
    assert customer.billing_day == 15


def test_a_run_killed_part_way_keeps_whole_chunks_and_resumes(actor, fibre, monkeypatch):
    from patron.billing import runs

    customers = [CustomerFactory() for _ in range(3)]
    for customer in customers:
        add(actor, customer, fibre)
    monkeypatch.setattr(runs, "CHUNK", 1)
    real = runs.bill_chunk
    calls = []

    def dies_in_the_second_chunk(run, plan, lo, hi, *, actor):
        calls.append(lo)
        result = real(run, plan, lo, hi, actor=actor)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return result

    monkeypatch.setattr(runs, "bill_chunk", dies_in_the_second_chunk)
    with pytest.raises(RuntimeError):
        run(actor)
    # The first chunk committed whole; the second rolled back whole (no lines, no number).
    assert list(Invoice.objects.values_list("customer", flat=True)) == [customers[0].pk]
    assert InvoiceLine.objects.count() == 1 and LedgerEntry.objects.count() == 1
    assert BillingRun.objects.get().state == BillingRun.State.RUNNING
    monkeypatch.setattr(runs, "bill_chunk", real)
    billed, summary = run(actor)
    assert billed.state == BillingRun.State.DONE and summary["invoices"] == 3
    assert sorted(Invoice.objects.values_list("sequence_number", flat=True)) == [1, 2, 3]
    assert InvoiceLine.objects.count() == 3 and LedgerEntry.objects.count() == 3


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_two_runs_racing_for_one_date_bill_each_customer_once(monkeypatch):
    import threading

    from patron.billing import runs
    from patron.core.actor import Actor
    from tests.factories import active_status

    active_status()
    system = Actor.system_actor("tests")
    catalogue.tax_rate_create(
        actor=system, data={"name": "VAT", "rate": D("20.00"), "is_default": True}
    )
    fibre = catalogue.service_create(
        actor=system, data={"code": "F", "name": "Fibre", "kind": "monthly", "price": D("45.00")}
    )
    for _ in range(6):
        add(system, CustomerFactory(), fibre)
    monkeypatch.setattr(runs, "CHUNK", 2)
    outcomes = []

    def worker():
        try:
            billing_run(actor=system, billing_date=DEC1)
            outcomes.append("ran")
        except ValidationError as exc:
            outcomes.append(" ".join(exc.messages))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert "ran" in outcomes and len(outcomes) == 2
    assert all(
        o == "ran" or "started by someone else" in o or "billed twice" in o for o in outcomes
    )
    assert Invoice.objects.count() == 6 and InvoiceLine.objects.count() == 6
    assert sorted(Invoice.objects.values_list("sequence_number", flat=True)) == list(range(1, 7))
    assert LedgerEntry.objects.count() == 6


def test_numbers_longer_than_the_digits_keep_every_digit(actor, fibre, settings):
    settings.PATRON_INVOICE_DIGITS = 1
    for _ in range(12):
        add(actor, CustomerFactory(), fibre)
    run(actor)
    numbers = list(Invoice.objects.order_by("sequence_number").values_list("number", flat=True))
    assert numbers[:2] == ["INV-1", "INV-2"] and numbers[-1] == "INV-12"
    assert len(set(numbers)) == 12
