"""The shared layout in Chromium: phones at 375 px, the "/" search shortcut, the
header's status dialog and the restricted user's cues.

Screenshots of the header at 1440 px and an overview at 375 px are written to
test-results/ (layout-*.png) for a person to look at.
"""

import re

from playwright.sync_api import expect

from patron.core.actor import Actor
from patron.customers.models import Customer, StatusChange
from patron.events.models import Event
from patron.statuses.models import Status
from patron.statuses.services import status_reasons_set
from tests.browser.conftest import RESULTS
from tests.factories import (
    ContactFactory,
    CustomerFactory,
    GroupFactory,
    TagFactory,
    TicketFactory,
    UserFactory,
)

expect.set_options(timeout=10_000)

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1440, "height": 900}


def page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def busy_customer() -> Customer:
    """A customer with everything the overview shows: long names, tags, groups, contacts."""
    customer = CustomerFactory(
        name="Hartley Farm Supplies and Agricultural Machinery Ltd",
        service_street="Unit 14, Longbottom Industrial Estate, Cleckheaton Road",
        service_city="Bradford",
        service_postcode="BD12 0XX",
    )
    ContactFactory(
        customer=customer,
        name="Grace Whitfield-Harrington",
        email="grace.whitfield-harrington@hartley-farm-supplies.example.org",
        phone="+447911123456",
        is_primary=True,
    )
    for name in ("Fibre 500", "Business customer", "VIP"):
        customer.tags.add(TagFactory(name=name))
    for _ in range(3):
        TicketFactory(customer=customer, subject="Router keeps dropping the connection at night")
    return customer


def check_menu(page):
    """The sidebar is behind the menu button; the button opens and closes it."""
    button = page.get_by_role("button", name="Menu", exact=True)
    sidebar = page.locator("#patron-sidebar")
    expect(button).to_be_visible()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(sidebar).not_to_be_visible()
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    expect(sidebar).to_be_visible()
    expect(sidebar.get_by_role("link", name="Customers", exact=True)).to_be_in_viewport()
    assert page_width(page) <= 375
    page.keyboard.press("Escape")
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(sidebar).not_to_be_visible()
    expect(button).to_be_focused()
    button.click()
    expect(sidebar).to_be_visible()
    sidebar.get_by_role("button", name="Close menu").click()
    expect(button).to_have_attribute("aria-expanded", "false")
    expect(sidebar).not_to_be_visible()
    button.click()
    expect(sidebar).to_be_visible()
    page.mouse.click(360, 600)  # beside the menu, on the dimmed page
    expect(sidebar).not_to_be_visible()


def test_phone_pages_fit_375_px_and_the_menu_opens_and_closes(browser_page, login, owner):
    """The list, an overview and a ticket at 375 px: nothing wider than the screen."""
    customer = busy_customer()
    for i in range(12):
        CustomerFactory(name=f"Customer with a rather long name number {i}")
    ticket = customer.tickets.first()
    page = browser_page
    page.set_viewport_size(PHONE)
    login(page, owner)

    for url in ("/customers/", customer.get_absolute_url(), ticket.get_absolute_url()):
        page.goto(url)
        assert page_width(page) <= 375, f"{url} is {page_width(page)} px wide"
        check_menu(page)

    page.goto(customer.get_absolute_url())
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "layout-overview-375.png"))
    page.screenshot(path=str(RESULTS / "layout-overview-375-full.png"), full_page=True)
    page.locator("#card-tickets, [id*=ticket]").first.scroll_into_view_if_needed()
    page.screenshot(path=str(RESULTS / "layout-overview-375-tickets.png"))
    page.get_by_role("button", name="Menu", exact=True).click()
    page.wait_for_timeout(400)  # the slide-in
    page.screenshot(path=str(RESULTS / "layout-overview-375-menu.png"))
    page.get_by_role("button", name="Close menu").click()
    page.wait_for_timeout(400)
    page.get_by_test_id("change-status").click()
    page.screenshot(path=str(RESULTS / "layout-status-dialog-375.png"))


def test_slash_focuses_search_and_results_say_what_matched(browser_page, login, staff):
    customer = busy_customer()
    page = browser_page
    page.set_viewport_size(DESKTOP)
    login(page, staff)
    page.goto(customer.get_absolute_url())
    search = page.get_by_role("searchbox", name="Search customers")
    expect(search).not_to_be_focused()
    page.keyboard.press("/")
    expect(search).to_be_focused()
    expect(search).to_have_value("")  # the "/" itself is not typed
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "layout-header-1440.png"))
    page.keyboard.type("whitfield")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/customers/\?q=whitfield"))
    match = page.get_by_test_id("search-match").first
    expect(match).to_have_text("Contact: Grace Whitfield-Harrington")
    expect(match.locator("mark")).to_have_text("Whitfield")
    page.screenshot(path=str(RESULTS / "layout-search-results-1440.png"))

    # In a text field "/" is typed, not a shortcut.
    query = page.locator("#id_q")
    query.fill("")
    query.focus()
    page.keyboard.type("a/b")
    expect(query).to_have_value("a/b")
    expect(search).not_to_be_focused()


def test_status_dialog_from_the_header(browser_page, login, owner):
    """The badge opens the dialog; a wrong submit shows one error per field; a preset
    reason and a date change the status, and the event log has it."""
    customer = CustomerFactory(name="Bramley Mill")
    hold = Status.objects.create(name="On hold", require_reason=True, require_date=True)
    status_reasons_set(actor=Actor(user=owner), status=hold, reasons=["Moving house", "Travelling"])
    trial = Status.objects.create(name="Trial")
    status_reasons_set(actor=Actor(user=owner), status=trial, reasons=["Free month"])
    page = browser_page
    page.set_viewport_size(DESKTOP)
    login(page, owner)
    page.goto(customer.get_absolute_url())

    page.get_by_test_id("status-badge").click()
    dialog = page.get_by_role("dialog", name=re.compile("Change status of Bramley Mill"))
    expect(dialog).to_be_visible()
    dialog.get_by_label("New status").select_option(label="On hold")
    presets = dialog.get_by_label("Preset reason")
    expect(presets.locator("optgroup[label='On hold']")).to_have_count(1)
    expect(presets.locator("optgroup[label='Trial']")).to_be_hidden()
    expect(dialog.locator("label", has_text="Reason").locator(".patron-required")).to_have_count(1)
    dialog.get_by_role("button", name="Change status").click()
    expect(dialog.locator("[data-field-error=reason]")).to_have_count(1)
    expect(dialog.locator("[data-field-error=effective_date]")).to_have_count(1)
    expect(dialog).to_be_visible()
    assert not StatusChange.objects.filter(customer=customer).exists()

    dialog.get_by_label("Preset reason").select_option(label="Travelling")
    expect(dialog.locator("textarea[name=change-reason]")).to_have_value("Travelling")
    dialog.get_by_label("Effective date").fill(
        page.evaluate("new Date().toLocaleDateString('en-CA')")
    )
    with page.expect_navigation():
        dialog.get_by_role("button", name="Change status").click()
    expect(page.get_by_test_id("status-badge")).to_have_text("On hold")
    customer.refresh_from_db()
    assert customer.status == hold
    assert Event.objects.get(action="status_changed", customer=customer).reason == "Travelling"

    # The header's button opens it too, and Cancel closes it.
    page.get_by_test_id("change-status").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("dialog")).to_be_hidden()


def test_restricted_user_sees_the_line_and_groups_edit_as_chips(browser_page, login, owner):
    north, south, east = (GroupFactory(name=n) for n in ("North", "South", "East"))
    agent = UserFactory(username="agent", first_name="Ann")
    agent.restricted_groups.set([north, south])
    page = browser_page
    page.set_viewport_size(DESKTOP)
    login(page, agent)
    expect(page.get_by_test_id("restricted-line")).to_contain_text(
        "You see customers in North, South"
    )
    page.context.clear_cookies()

    login(page, owner)
    page.goto(f"/accounts/users/{agent.pk}/")
    chips = page.get_by_test_id("group-chip")
    expect(chips).to_have_count(2)
    expect(page.locator("input[name=restricted_groups]").first).to_be_hidden()
    page.get_by_label("First name").fill("Annie")
    page.get_by_role("button", name=re.compile("^Save")).click()
    page.wait_for_url(lambda url: f"/accounts/users/{agent.pk}/" not in url)
    agent.refresh_from_db()
    assert agent.first_name == "Annie"
    assert set(agent.restricted_groups.all()) == {north, south}

    page.goto(f"/accounts/users/{agent.pk}/")
    page.get_by_role("button", name=re.compile("Remove .*South")).click()
    expect(chips).to_have_count(1)
    page.get_by_label("Add group").select_option(label=f"{east.group_set.name}: East")
    expect(chips).to_have_count(2)
    page.get_by_role("button", name=re.compile("^Save")).click()
    page.wait_for_url(lambda url: f"/accounts/users/{agent.pk}/" not in url)
    assert set(agent.restricted_groups.all()) == {north, east}
