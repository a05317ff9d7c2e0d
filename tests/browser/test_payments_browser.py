"""Payments in a real browser: take a group payment from the group's page, preview the
allocation, confirm it, and see each member's share on their ledger."""

import datetime

import pytest
from playwright.sync_api import expect

from patron.core.actor import Actor
from patron.payments.defaults import ensure_default_payment_methods
from patron.payments.models import Payment
from tests.payments_fixtures import make_invoice, payment_group

expect.set_options(timeout=15_000)


@pytest.fixture
def methods():
    ensure_default_payment_methods()


def test_take_a_group_payment_and_see_it_on_two_members_ledgers(
    browser_page, login, owner, methods
):
    actor = Actor.system_actor("tests")
    group, (ada, bob) = payment_group("Acme Holdings", members=2)
    day = datetime.date.today() - datetime.timedelta(days=40)
    first = make_invoice(actor, ada, "30.00", day)
    second = make_invoice(actor, bob, "45.00", day)
    page = browser_page
    login(page, owner)

    page.goto(group.get_absolute_url())
    page.get_by_test_id("group-payment").click()
    page.fill("input[name=amount]", "60.00")
    page.locator("select[name=method]").select_option(label="Bank transfer")
    page.fill("input[name=reference]", "ACME-0412")
    page.get_by_test_id("preview-payment").click()
    preview = page.get_by_test_id("allocation-preview")
    expect(preview).to_contain_text("2 members")
    expect(page.get_by_test_id("preview-lines")).to_contain_text(first.number)
    expect(page.get_by_test_id("preview-lines")).to_contain_text(second.number)
    expect(page.get_by_test_id("preview-allocated")).to_have_text("£60.00")
    assert not Payment.objects.exists()
    page.get_by_test_id("confirm-payment").click()

    # The receipt lists every allocation.
    expect(page.get_by_test_id("receipt-allocations")).to_contain_text(first.number)
    expect(page.get_by_test_id("receipt-allocations")).to_contain_text("£30.00")
    expect(page.get_by_test_id("receipt-allocations")).to_contain_text(second.number)
    assert Payment.objects.count() == 1
    # Each member's ledger shows its share.
    page.goto(f"/ledger/customer/{ada.pk}/")
    expect(page.locator("body")).to_contain_text("Bank transfer payment, ACME-0412")
    expect(page.locator("body")).to_contain_text("−£30.00")
    page.goto(f"/ledger/customer/{bob.pk}/")
    expect(page.locator("body")).to_contain_text("−£30.00")
    # The group's statement: what is still open.
    page.goto(f"/payments/groups/{group.pk}/statement/")
    expect(page.get_by_test_id("statement-outstanding")).to_have_text("£15.00")
