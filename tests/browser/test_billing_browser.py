"""Billing in a real browser: give a customer a service, preview the run, start it, open
the invoice and its PDF, and see the invoice on the customer's ledger."""

import datetime
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from patron.billing.models import Invoice
from patron.catalogue import services as catalogue
from patron.core.actor import Actor
from patron.jobs import runner
from tests.factories import CustomerFactory

expect.set_options(timeout=15_000)


@pytest.fixture
def embedded_worker(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    worker = runner.start_embedded_worker(poll_interval=0.1)
    yield worker
    runner.stop_embedded_worker()


@pytest.fixture
def fibre():
    actor = Actor.system_actor("tests")
    catalogue.tax_rate_create(
        actor=actor, data={"name": "VAT", "rate": Decimal("20.00"), "is_default": True}
    )
    return catalogue.service_create(
        actor=actor,
        data={
            "code": "FIBRE500",
            "name": "Fibre 500",
            "kind": "monthly",
            "price": Decimal("45.00"),
        },
    )


def test_bill_a_customer_and_see_the_invoice_on_their_ledger(
    browser_page, login, owner, embedded_worker, fibre, settings
):
    settings.PATRON_BILLING_DAY = 1
    customer = CustomerFactory(name="Ada Lovelace", account_number="ADA1")
    page = browser_page
    login(page, owner)

    # A service, added from the customer's overview.
    page.goto(customer.get_absolute_url())
    page.get_by_test_id("add-service").click()
    page.locator("select[name=service]").select_option(str(fibre.pk))
    page.fill("input[name=start_date]", "2026-11-01")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("monthly-total")).to_have_text("£45.00")

    # Billing: preview the run for 1 December, then start it.
    page.get_by_role("link", name="Billing", exact=True).click()
    expect(page.get_by_test_id("billing-run-form")).to_be_visible()
    page.fill("input[name=billing_date]", "2026-12-01")
    page.get_by_test_id("billing-preview").click()
    expect(page.get_by_test_id("preview-summary-text")).to_have_text(
        "1 customer, 1 invoice, £45.00 net, £9.00 tax, £54.00 with tax."
    )
    expect(page.get_by_test_id("preview-sample")).to_contain_text("Ada Lovelace")
    expect(page.get_by_test_id("preview-sample")).to_contain_text("Fibre 500")
    page.screenshot(path="/tmp/billing-preview.png", full_page=True)
    assert not Invoice.objects.exists()
    page.get_by_test_id("start-run").click()
    expect(page.get_by_test_id("job-message")).to_contain_text("1 invoice")
    expect(page.locator("[data-job-state]")).to_have_attribute("data-job-state", "succeeded")

    # The invoice, from the invoice list.
    page.goto("/billing/")
    page.get_by_test_id("billing-tabs").get_by_role("link", name="Invoices").click()
    invoice = Invoice.objects.get(customer=customer)
    expect(page.get_by_test_id("invoice-totals")).to_contain_text("£54.00")
    page.get_by_role("link", name=invoice.number).click()
    expect(page.get_by_test_id("invoice-number")).to_have_text(invoice.number)
    expect(page.get_by_test_id("invoice-lines")).to_contain_text("Fibre 500")
    expect(page.get_by_test_id("invoice-period")).to_have_text("1 Dec 2026 – 31 Dec 2026")
    expect(page.get_by_test_id("invoice-gross")).to_have_text("£54.00")
    page.screenshot(path="/tmp/billing-invoice.png", full_page=True)
    href = page.get_by_test_id("invoice-pdf").get_attribute("href")
    response = page.request.get(href)
    assert response.status == 200, response.text()[:500]
    assert response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")

    # Back on the customer's overview: the invoice on the ledger with its running balance.
    page.get_by_test_id("invoice-customer").click()
    activities = page.get_by_test_id("recent-activities")
    expect(activities).to_contain_text(f"Invoice {invoice.number}")
    expect(activities.locator("tr", has_text=invoice.number)).to_contain_text("£54.00")
    expect(page.get_by_test_id("billing-balance")).to_have_text("£54.00")
    expect(page.get_by_test_id("recent-invoices")).to_contain_text(invoice.number)
    assert invoice.issue_date == datetime.date(2026, 12, 1)
