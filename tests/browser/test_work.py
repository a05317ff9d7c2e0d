"""Departments route work, in a real browser.

A Billing member opens a ticket for Billing from a customer's overview, finds
it in Billing's queue, closes it there, and sees it leave the overview and
appear in the closed-ticket report. An alert banner rule on a tag shows on a
tagged customer's overview and not on another's.
"""

import re

from playwright.sync_api import expect

from patron.banners.services import banner_rule_create
from patron.core.actor import Actor
from patron.customers.services import customer_tags_set
from patron.departments.models import Department
from patron.tickets.models import Ticket
from tests.factories import CustomerFactory, TagFactory, user_with_role

expect.set_options(timeout=10_000)

SUBJECT = "Direct debit collected twice in March"


def test_billing_ticket_from_overview_to_queue_to_closed_report(browser_page, login):
    """Open a ticket for Billing on the overview; close it from Billing's queue."""
    billing = Department.objects.create(name="Billing")
    Department.objects.create(name="Technical support")
    bella = user_with_role("Staff", username="bella")
    billing.members.add(bella)
    customer = CustomerFactory(name="Ann Example", account_number="A000001")
    page = browser_page
    login(page, bella)

    # On the overview: "Open a ticket", for Billing, with a subject.
    page.goto(customer.get_absolute_url())
    card = page.get_by_test_id("tickets-card")
    card.get_by_text("Open a ticket").click()
    card.get_by_label("Subject").fill(SUBJECT)
    card.get_by_label("Department").select_option(label="Billing")
    card.get_by_label("Priority").select_option(label="High")
    card.get_by_role("button", name="Open ticket").click()
    row = page.get_by_test_id("tickets-card").locator("tr[data-ticket-id]", has_text=SUBJECT)
    expect(row).to_contain_text("Billing")
    expect(row).to_contain_text("Open")
    ticket = Ticket.objects.get(subject=SUBJECT)
    assert (ticket.customer, ticket.department, ticket.status) == (customer, billing, "open")

    # Billing's queue, reached from the queue index, lists it; close it there.
    page.goto("/tickets/queue/")
    page.locator("main").get_by_role("link", name=re.compile("Billing")).first.click()
    expect(page.locator("h1")).to_have_text("Open work for Billing")
    queue_row = page.locator("tr", has_text=SUBJECT)
    expect(queue_row).to_contain_text("Ann Example")
    queue_row.get_by_role("button", name="Close").click()
    page.locator("#patron-confirm").get_by_role("button", name="Close ticket").click()
    expect(page.locator("tr", has_text=SUBJECT)).to_have_count(0)
    ticket.refresh_from_db()
    assert ticket.status == "closed"

    # Gone from the overview, unless closed tickets are asked for.
    page.goto(customer.get_absolute_url())
    card = page.get_by_test_id("tickets-card")
    expect(card).to_contain_text("No open tickets.")
    expect(card.locator("tr", has_text=SUBJECT)).to_have_count(0)
    card.get_by_role("link", name="Show closed tickets (1)").click()
    expect(page.get_by_test_id("tickets-card").locator("tr", has_text=SUBJECT)).to_contain_text(
        "Closed"
    )

    # In the closed-ticket report, filtered to Billing.
    page.goto("/tickets/closed/")
    page.get_by_label("Department").select_option(label="Billing")
    page.get_by_role("button", name="Filter").click()
    report_row = page.locator("tr", has_text=SUBJECT)
    expect(report_row).to_contain_text("Ann Example")
    expect(report_row).to_contain_text("bella")


def test_banner_rule_on_a_tag_shows_only_on_tagged_customers(browser_page, login, owner):
    """A danger banner for the Vulnerable tag is under the top row of a tagged
    customer's overview and absent from an untagged customer's."""
    actor = Actor(user=owner)
    vulnerable = TagFactory(name="Vulnerable")
    tagged = CustomerFactory(name="Tagged Customer")
    other = CustomerFactory(name="Other Customer")
    customer_tags_set(actor=actor, customer=tagged, tags=[vulnerable])
    banner_rule_create(
        actor=actor,
        data={
            "name": "Vulnerable",
            "message": "Vulnerable customer: follow the care policy",
            "severity": "danger",
            "tag": vulnerable,
        },
    )
    page = browser_page
    login(page, owner)

    page.goto(tagged.get_absolute_url())
    banners = page.get_by_test_id("customer-banners")
    expect(banners.get_by_role("alert")).to_have_count(1)
    alert = banners.get_by_role("alert")
    expect(alert).to_contain_text("Vulnerable customer: follow the care policy")
    expect(alert).to_have_class(re.compile(r"\balert-danger\b"))
    # Under the top row: the banner's top edge is below the top row's bottom edge.
    top_row = page.locator("#topline").bounding_box()
    assert alert.bounding_box()["y"] >= top_row["y"] + top_row["height"]

    page.goto(other.get_absolute_url())
    expect(page.get_by_test_id("customer-name")).to_have_text("Other Customer")
    expect(page.get_by_test_id("customer-banners")).to_have_count(0)
    expect(page.get_by_text("Vulnerable customer: follow the care policy")).to_have_count(0)


def test_log_a_call_from_the_overview_in_two_clicks(browser_page, login, owner):
    """ "Log a call", then "Save": the call is in the card, taken by the user."""
    customer = CustomerFactory(name="Ann Example")
    page = browser_page
    login(page, owner)
    page.goto(customer.get_absolute_url())
    page.get_by_test_id("log-call").click()
    page.get_by_test_id("save-call").click()
    calls = page.get_by_test_id("calls")
    expect(calls.locator("tbody tr")).to_have_count(1)
    expect(calls).to_contain_text(owner.username)
    call = customer.call_logs.get()
    assert call.staff_user == owner
