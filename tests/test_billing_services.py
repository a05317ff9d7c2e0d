"""Usage charges in (all or nothing, never twice) and credit notes out (never an edit)."""

import datetime
from decimal import Decimal

import pytest

from patron.billing.models import Invoice, UsageCharge
from patron.billing.runs import billing_run
from patron.billing.services import invoice_credit, usage_charges_add
from patron.catalogue import services as catalogue
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.events.models import Event
from patron.jobs.models import Job
from patron.jobs.services import job_enqueue, job_run
from patron.ledger.services import balance_of
from patron.subscriptions import services as subscriptions
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

D = Decimal
DEC1 = datetime.date(2026, 12, 1)


@pytest.fixture
def fibre(actor):
    catalogue.tax_rate_create(
        actor=actor, data={"name": "VAT", "rate": D("20.00"), "is_default": True}
    )
    return catalogue.service_create(
        actor=actor,
        data={"code": "FIBRE500", "name": "Fibre 500", "kind": "monthly", "price": D("45.00")},
    )


@pytest.fixture
def calls(actor, fibre):
    return catalogue.service_create(
        actor=actor,
        data={
            "code": "UKCALLS",
            "name": "UK calls",
            "kind": "usage",
            "price": D("0.05"),
            "unit": "minute",
        },
    )


def test_usage_rows_are_added_all_or_none_with_every_bad_row_named(actor, calls):
    customer = CustomerFactory()
    good = {
        "account_number": customer.account_number,
        "date": "2026-11-03",
        "description": "UK calls",
        "amount": "1.25",
        "service": "UKCALLS",
    }
    with pytest.raises(ValidationError) as exc:
        usage_charges_add(
            actor=actor,
            rows=[
                good,
                {**good, "account_number": "NOPE"},
                {**good, "amount": "1.234"},
                {**good, "date": "03/11/2026"},
                {**good, "service": "FIBRE500"},
            ],
        )
    rows = exc.value.rows
    assert [r["row"] for r in rows] == [2, 3, 4, 5]
    assert "NOPE" in rows[0]["customer"] and "decimal" in rows[1]["amount"].lower()
    assert not UsageCharge.objects.exists()
    result = usage_charges_add(actor=actor, rows=[{**good, "reference": "cdr-1"}])
    assert len(result.created) == 1
    again = usage_charges_add(actor=actor, rows=[{**good, "reference": "cdr-1"}])
    assert again.duplicates == 1 and UsageCharge.objects.count() == 1
    assert Event.objects.filter(customer=customer, action="usage_added").count() == 1


def test_usage_in_a_billed_period_is_refused(actor, calls):
    customer = CustomerFactory()
    billing_run(actor=actor, billing_date=DEC1)
    with pytest.raises(ValidationError, match="has been billed"):
        usage_charges_add(
            actor=actor,
            rows=[
                {
                    "customer": customer.pk,
                    "date": "2026-11-30",
                    "description": "calls",
                    "amount": "1.00",
                }
            ],
        )
    usage_charges_add(
        actor=actor,
        rows=[
            {
                "customer": customer.pk,
                "date": "2026-12-01",
                "description": "calls",
                "amount": "1.00",
            }
        ],
    )


def test_staff_cannot_add_usage(staff, calls):
    with pytest.raises(PermissionDenied):
        usage_charges_add(actor=Actor(user=staff), rows=[{"customer": 1}])


def test_a_credit_note_reverses_an_invoice_without_editing_it(actor, fibre):
    customer = CustomerFactory()
    subscriptions.customer_service_add(
        actor=actor,
        customer=customer,
        service=fibre,
        data={"start_date": datetime.date(2026, 11, 1)},
    )
    billing_run(actor=actor, billing_date=DEC1)
    invoice = Invoice.objects.get()
    with pytest.raises(ValidationError, match="why"):
        invoice_credit(actor=actor, invoice=invoice, reason=" ")
    note = invoice_credit(actor=actor, invoice=invoice, reason="Outage all month")
    assert note.number == "CN-000001" and note.gross == D("-54.00")
    assert note.corrects == invoice and note.lines.get().credits == invoice.lines.get()
    assert balance_of(customer) == D("0.00")
    invoice.refresh_from_db()
    assert invoice.gross == D("54.00")
    with pytest.raises(ValidationError, match="Already credited"):
        invoice_credit(actor=actor, invoice=invoice, reason="again")


def test_the_run_as_jobs_preview_then_run(actor, fibre):
    customer = CustomerFactory()
    subscriptions.customer_service_add(
        actor=actor,
        customer=customer,
        service=fibre,
        data={"start_date": datetime.date(2026, 11, 1)},
    )
    preview = job_enqueue(
        actor=actor, kind="billing.preview", params={"billing_date": "2026-12-01"}
    )
    job_run(preview.pk)
    preview.refresh_from_db()
    assert preview.state == Job.State.SUCCEEDED, preview.error
    assert preview.result_summary["invoices"] == 1 and not Invoice.objects.exists()
    started = job_enqueue(actor=actor, kind="billing.run", params={"billing_date": "2026-12-01"})
    job_run(started.pk)
    started.refresh_from_db()
    assert started.state == Job.State.SUCCEEDED, started.error
    assert "1 invoice" in started.result_summary["message"]
    assert Invoice.objects.get().customer == customer
    with pytest.raises(ValidationError, match="has been run"):
        job_enqueue(actor=actor, kind="billing.run", params={"billing_date": "2026-12-01"})


def test_the_run_job_page_links_to_its_run(actor, owner, fibre):
    from django.test import Client

    subscriptions.customer_service_add(
        actor=actor,
        customer=CustomerFactory(),
        service=fibre,
        data={"start_date": datetime.date(2026, 11, 1)},
    )
    job = job_enqueue(actor=actor, kind="billing.run", params={"billing_date": "2026-12-01"})
    job_run(job.pk)
    client = Client()
    client.force_login(owner)
    page = client.get(job.get_absolute_url())
    run = Invoice.objects.get().run
    assert page.status_code == 200
    assert f'href="/billing/runs/{run.pk}/"' in page.content.decode()


def test_usage_rows_are_checked_with_a_fixed_number_of_queries(actor, calls):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    customers = [CustomerFactory() for _ in range(30)]
    rows = [
        {
            "account_number": c.account_number,
            "date": "2026-11-03",
            "description": "calls",
            "amount": "0.50",
            "service": "UKCALLS",
            "reference": f"r{i}",
        }
        for i, c in enumerate(customers)
    ]
    with CaptureQueriesContext(connection) as queries:
        result = usage_charges_add(actor=actor, rows=rows)
    assert len(result.created) == 30
    assert len(queries) < 20


def test_a_row_with_unknown_fields_keeps_its_row_number(actor, calls):
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as exc:
        usage_charges_add(
            actor=actor,
            rows=[
                {"customer": customer.pk, "date": "2026-11-03", "description": "c", "amount": "1"},
                {
                    "customer": customer.pk,
                    "date": "2026-11-03",
                    "description": "c",
                    "amount": "1",
                    "colour": "red",
                },
                "not an object",
            ],
        )
    assert [(r["row"], sorted(r)) for r in exc.value.rows] == [
        (2, ["fields", "row"]),
        (3, ["fields", "row"]),
    ]
    assert "colour" in exc.value.rows[0]["fields"]
