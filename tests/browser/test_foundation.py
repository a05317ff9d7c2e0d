"""The foundation end to end, in a real browser.

An Owner signs in, opens a new account with a contact, gives it a tag and a
group, suspends it with a reason, and then finds each of those changes (who,
what, before and after) in the customer's event log and in the global one.
"""

import re

from playwright.sync_api import expect

from patron.customers.models import Customer
from tests.factories import TagFactory

# A loaded CI machine can take a few seconds per request; wait as long as actions do.
expect.set_options(timeout=10_000)


def test_owner_changes_show_in_event_log(browser_page, login, owner):
    """Every change made on the overview is in the event log with who, what and before/after."""
    TagFactory(name="Fibre", colour="#0d6efd")
    page = browser_page
    login(page, owner)

    # A new account with its first contact; the phone is stored as E.164.
    page.goto("/customers/add/")
    page.fill("input[name=name]", "Hartley Farm Supplies")
    page.fill("input[name=contact_name]", "Grace Hartley")
    page.fill("input[name=contact_phone]", "+44 7911 123456")
    page.get_by_role("button", name=re.compile("^(Save|Create)")).click()
    page.wait_for_url(re.compile(r"/customers/\d+/$"))
    customer = Customer.objects.get(name="Hartley Farm Supplies")
    assert customer.contacts.get().phone == "+447911123456"
    expect(page.get_by_test_id("contacts")).to_contain_text("Grace Hartley")

    # A tag from the list, and a group typed by name (an Owner may create it).
    tags_card = page.locator("#card-tags")
    tags_card.get_by_label("Tag to add").select_option(label="Fibre")
    tags_card.get_by_role("button", name="Add").click()
    expect(page.get_by_test_id("tags")).to_contain_text("Fibre")

    groups_card = page.locator("#card-groups")
    groups_card.get_by_label("Group to add").fill("Leeds North")
    groups_card.get_by_role("button", name="Add").click()
    expect(page.get_by_test_id("groups")).to_contain_text("Leeds North")

    # Suspended requires a reason; the change reloads the page.
    status_card = page.locator("#card-status")
    status_card.get_by_role("button", name="Change status").first.click()
    status_card.get_by_label("New status").select_option(label="Suspended")
    status_card.get_by_label("Reason").fill("Three invoices unpaid")
    with page.expect_navigation():
        status_card.locator("form").get_by_role("button", name="Change status").click()
    expect(page.locator("#card-status tbody")).to_contain_text("Three invoices unpaid")

    # The overview's event log card: newest first, each with who and before → after.
    log = page.get_by_test_id("event-log")
    status_row = log.locator(
        "tr[data-event-id]", has_text="Status changed from Active to Suspended"
    )
    expect(status_row).to_contain_text(owner.username)
    expect(status_row).to_contain_text("Reason: Three invoices unpaid")
    expect(status_row.locator(".patron-event-changes")).to_contain_text("Active")
    expect(status_row.locator(".patron-event-changes")).to_contain_text("Suspended")

    tag_row = log.locator("tr[data-event-id]", has_text="Tags: added Fibre")
    expect(tag_row).to_contain_text(owner.username)
    expect(tag_row.locator(".patron-event-changes")).to_contain_text("Fibre")

    group_row = log.locator("tr[data-event-id]", has_text="Groups: added Leeds North")
    expect(group_row).to_contain_text(owner.username)
    expect(group_row.locator(".patron-event-changes")).to_contain_text("Leeds North")

    # The global log shows the same three changes, naming the customer.
    page.goto(f"/events/?customer={customer.pk}")
    for text in (
        "Status changed from Active to Suspended",
        "Tags: added Fibre",
        "Groups: added Leeds North",
    ):
        row = page.locator("tr[data-event-id]", has_text=text)
        expect(row).to_have_count(1)
        expect(row).to_contain_text(owner.username)
        expect(row).to_contain_text("Hartley Farm Supplies")


def test_login_rejects_wrong_password(browser_page, owner):
    """A wrong password keeps the user on the sign-in page with a clear message."""
    page = browser_page
    page.goto("/accounts/login/")
    page.fill("input[name=username]", owner.username)
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    expect(page.get_by_role("alert")).to_have_text(
        "That username and password do not match. Both are case-sensitive."
    )
    assert "/accounts/login/" in page.url
    page.goto("/customers/")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
