"""Invoice and credit note PDFs (`patron/billing/documents.py`, `/api/invoices/{id}/pdf/`).

The tests that draw a PDF need WeasyPrint's system libraries; without them they
skip (or fail with PATRON_REQUIRE_SERVICES=1, as in CI), like tests/test_pdf.py.
"""

import datetime
import io
import logging
from decimal import Decimal

import pytest
from pypdf import PdfReader

from conftest import env_flag
from patron.billing import documents
from patron.billing.models import Invoice
from patron.billing.runs import billing_run
from patron.billing.services import invoice_credit
from patron.catalogue import services as catalogue
from patron.core import pdf
from patron.core.pdf import PdfUnavailable
from patron.subscriptions import services as subscriptions
from tests.factories import CustomerFactory, StatusFactory

pytestmark = pytest.mark.django_db

D = Decimal
DEC1 = datetime.date(2026, 12, 1)
ROLES = ["owner", "admin", "staff", "readonly"]


@pytest.fixture
def weasyprint_libraries():
    try:
        pdf._load_weasyprint()
    except pdf.PdfUnavailable as error:
        if env_flag("PATRON_REQUIRE_SERVICES"):
            pytest.fail(f"{error} (PATRON_REQUIRE_SERVICES=1)")
        pytest.skip(f"{error}; set PATRON_REQUIRE_SERVICES=1 to fail instead of skipping")


@pytest.fixture
def fibre(actor):
    catalogue.tax_rate_create(
        actor=actor, data={"name": "VAT", "rate": D("20.00"), "is_default": True}
    )
    return catalogue.service_create(
        actor=actor,
        data={"code": "FIBRE500", "name": "Fibre 500", "kind": "monthly", "price": D("45.00")},
    )


def bill(actor, service, **customer):
    customer.setdefault("name", "Beatrice O’Connor & Sons")
    buyer = CustomerFactory(**customer)
    subscriptions.customer_service_add(
        actor=actor,
        customer=buyer,
        service=service,
        data={"start_date": datetime.date(2026, 11, 1)},
    )
    billing_run(actor=actor, billing_date=DEC1)
    return Invoice.objects.get(customer=buyer)


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_invoice_pdf_has_everything_the_customer_needs(
    actor, fibre, weasyprint_libraries, settings, caplog
):
    caplog.set_level(logging.WARNING, logger="weasyprint")
    settings.PATRON_ORGANISATION_NAME = "Northern Fibre Ltd"
    invoice = bill(
        actor,
        fibre,
        account_number="C000042",
        tax_number="GB123456789",
        billing_same_as_service=False,
        billing_street="12 Mill Lane",
        billing_city="York",
        billing_postcode="YO1 7HH",
        billing_country="GB",
    )
    data = documents.invoice_pdf(invoice)
    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    for expected in (
        "Northern Fibre Ltd",
        "Invoice",
        "INV-000001",
        "Beatrice O’Connor & Sons",
        "C000042",
        "12 Mill Lane",
        "York",
        "YO1 7HH",
        "United Kingdom",
        "GB123456789",
        "1 Dec 2026",  # issue date
        "15 Dec 2026",  # due date: 14 days' terms
        "1 Dec 2026 – 31 Dec 2026",  # the period
        "Fibre 500",
        "£45.00",
        "20 %",
        "£9.00",
        "£54.00",
    ):
        assert expected in text, expected
    assert "Final bill" not in text and "Credit note" not in text
    assert [r.getMessage() for r in caplog.records] == []


def test_the_seller_is_patron_unless_the_installation_names_itself(
    actor, fibre, weasyprint_libraries, settings
):
    if hasattr(settings, "PATRON_ORGANISATION_NAME"):
        del settings.PATRON_ORGANISATION_NAME
    assert documents.seller_name() == "Patron"
    assert "Patron" in pdf_text(documents.invoice_pdf(bill(actor, fibre)))


def test_a_final_bill_says_so_with_its_status_message(actor, fibre, weasyprint_libraries):
    ceasing = StatusFactory(
        name="Ceasing",
        final_invoice=True,
        override_invoice_message="Your final bill. Thank you for being with us.",
    )
    text = pdf_text(documents.invoice_pdf(bill(actor, fibre, status=ceasing)))
    assert "Final bill" in text
    assert "Your final bill. Thank you for being with us." in text
    assert "£54.00" in text


def test_a_credit_note_names_its_invoice_and_reason(actor, fibre, weasyprint_libraries):
    invoice = bill(actor, fibre)
    note = invoice_credit(actor=actor, invoice=invoice, reason="Outage all month")
    text = pdf_text(documents.invoice_pdf(note))
    assert "Credit note" in text and "CN-000001" in text
    assert "Credit note for INV-000001" in text
    assert "Reason: Outage all month" in text
    assert "Credit: Fibre 500" in text
    assert "−£54.00" in text


@pytest.mark.parametrize("role", ROLES)
def test_the_api_downloads_the_pdf(api, role, actor, fibre, weasyprint_libraries):
    invoice = bill(actor, fibre)
    response = api[role].get(f"/api/invoices/{invoice.pk}/pdf/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="INV-000001.pdf"'
    text = pdf_text(response.content)
    assert "INV-000001" in text and "Beatrice O’Connor & Sons" in text
    assert "Fibre 500" in text and "£54.00" in text


def test_the_api_answers_an_accept_header_for_pdf(api, actor, fibre, weasyprint_libraries):
    invoice = bill(actor, fibre)
    response = api["staff"].get(f"/api/invoices/{invoice.pk}/pdf/", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF-")


def test_without_weasyprint_the_api_says_what_to_install(api, actor, fibre, monkeypatch):
    invoice = bill(actor, fibre)

    def unavailable(_invoice):
        raise PdfUnavailable("PDFs cannot be made on this machine: install libpango-1.0-0.")

    monkeypatch.setattr("patron.billing.api.invoice_pdf", unavailable)
    for accept in ("application/json", "application/pdf"):
        response = api["owner"].get(f"/api/invoices/{invoice.pk}/pdf/", HTTP_ACCEPT=accept)
        assert response.status_code == 503
        assert response["Content-Type"] == "application/json"
        assert "libpango" in response.json()["detail"]


def test_a_missing_invoice_pdf_is_a_404(api, fibre):
    assert api["owner"].get("/api/invoices/999999/pdf/").status_code == 404
