"""The home page and the department queue in a real browser.

The Owner signs in on the demo data, sees the home page's charts with their tables
(the numbers the database holds), and takes a ticket from a department queue with
one click: the row then says "Yours".
"""

import re

from django.db.models import Count
from playwright.sync_api import expect

from patron.customers.models import Customer
from patron.departments.models import Department
from patron.ops.demo import load_demo
from patron.tickets.models import Ticket
from tests.browser.conftest import RESULTS
from tests.factories import TicketFactory

expect.set_options(timeout=10_000)


def test_home_page_charts_and_tables_then_take_a_ticket(browser_page, login, owner):
    load_demo(customers=40, billing=False)
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, owner)
    page.goto("/")
    expect(page.get_by_role("heading", name="Home")).to_be_visible()
    for section in ("dash-status", "dash-months", "dash-tickets", "dash-jobs"):
        expect(page.get_by_test_id(section)).to_be_visible()
    for section in ("dash-status", "dash-months", "dash-tickets"):
        chart = page.get_by_test_id(section).locator("svg[role=img]")
        expect(chart).to_have_count(1)
        assert chart.bounding_box()["width"] > 300
    # The table says what the database holds.
    counts = dict(
        Customer.objects.filter(archived=False)
        .values_list("status__name")
        .annotate(n=Count("id"))
        .values_list("status__name", "n")
    )
    for name, n in counts.items():
        row = page.locator(f'tr[data-status="{name}"]')
        expect(row.locator("[data-count]")).to_have_text(str(n))
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "home-1440.png"), full_page=True)

    # A department queue: each ticket's age, and Take in one click.
    ticket = Ticket.objects.open().exclude(assignee=owner).order_by("id").first()
    if ticket is None:
        ticket = TicketFactory(department=Department.objects.first())
    page.goto(f"/tickets/queue/{ticket.department_id}/")
    row = page.locator(f'tr[data-ticket-id="{ticket.pk}"]')
    expect(row.locator("[data-age]")).not_to_be_empty()
    row.get_by_role("button", name=f"Take ticket #{ticket.pk}").click()
    expect(row.locator("[data-assignee]")).to_have_text("Yours")
    expect(row.get_by_role("button", name=re.compile("^Take"))).to_have_count(0)
    ticket.refresh_from_db()
    assert ticket.assignee == owner
