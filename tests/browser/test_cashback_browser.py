"""Cashback in a real browser: from the group "Summer promo 2026", withdraw 5.00 with a
comment, see the preview (who would go below zero), run it, see it on a member's
overview, and undo it from the job page."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from patron.core.actor import Actor
from patron.customers.models import GroupMembership
from patron.jobs import runner
from patron.ledger.models import Book, Kind
from patron.ledger.services import balance_of, ledger_post
from tests.factories import CustomerFactory, GroupFactory, GroupSetFactory

expect.set_options(timeout=15_000)


@pytest.fixture
def embedded_worker(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    worker = runner.start_embedded_worker(poll_interval=0.1)
    yield worker
    runner.stop_embedded_worker()


@pytest.fixture
def promo():
    group = GroupFactory(
        name="Summer promo 2026", group_set=GroupSetFactory(name="Campaigns", single_choice=False)
    )
    ada = CustomerFactory(name="Ada Lovelace", account_number="ADA1")
    bob = CustomerFactory(name="Bob Babbage", account_number="BOB1")
    for customer in (ada, bob):
        GroupMembership.objects.create(customer=customer, group=group, group_set=group.group_set)
    ledger_post(
        actor=Actor.system_actor("tests"),
        customer=ada,
        kind=Kind.CASHBACK_ACCRUAL,
        amount=Decimal("12.00"),
        book=Book.CASHBACK,
        reason="Welcome",
    )
    return group, ada, bob


def test_group_cashback_with_preview_seen_on_a_member_then_undone(
    browser_page, login, owner, embedded_worker, promo
):
    group, ada, bob = promo
    page = browser_page
    login(page, owner)

    page.goto(group.get_absolute_url())
    page.get_by_test_id("group-cashback").click()
    expect(page.get_by_test_id("cashback-target")).to_contain_text("Summer promo 2026")
    page.get_by_label("Relative (add the amount; negative withdraws)").check()
    page.fill("input[name=amount]", "-5.00")
    page.fill("textarea[name=comment]", "Expired promo credit")
    page.get_by_test_id("cashback-preview").click()
    expect(page.get_by_test_id("will-change")).to_have_text("1")
    expect(page.get_by_test_id("cashback-sample")).to_contain_text("Ada Lovelace")
    expect(page.get_by_test_id("cashback-sample")).to_contain_text("£7.00")
    expect(page.get_by_test_id("below-zero")).to_contain_text("Bob Babbage holds £0.00")
    page.screenshot(path="/tmp/cashback-preview.png", full_page=True)
    page.get_by_test_id("cashback-run").click()
    expect(page.locator("[data-job-state]")).to_have_attribute("data-job-state", "succeeded")
    expect(page.get_by_test_id("job-message")).to_contain_text("1 customers changed")
    assert balance_of(ada, Book.CASHBACK) == Decimal("7.00")

    # On Ada's overview: the balance and the entry with its comment and who ran it.
    job_url = page.url
    page.goto(ada.get_absolute_url())
    card = page.get_by_test_id("cashback-card")
    expect(card.get_by_test_id("cashback-balance")).to_have_text("£7.00")
    expect(card.get_by_test_id("cashback-entries")).to_contain_text("Expired promo credit")
    expect(card.get_by_test_id("cashback-entries")).to_contain_text(owner.username)
    card.get_by_test_id("cashback-history").click()
    expect(page.locator("body")).to_contain_text("Expired promo credit")

    # Undo from the job page.
    page.goto(job_url)
    page.get_by_test_id("cashback-undo").click()
    expect(page.locator("[data-job-state]")).to_have_attribute("data-job-state", "succeeded")
    expect(page.get_by_test_id("job-message")).to_contain_text("Reverted cashback run")
    assert balance_of(ada, Book.CASHBACK) == Decimal("12.00")
    page.goto(ada.get_absolute_url())
    expect(page.get_by_test_id("cashback-balance")).to_have_text("£12.00")
