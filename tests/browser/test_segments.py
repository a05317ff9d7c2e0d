"""The segment language on the customer list, in a real browser.

An Owner types a query with a typo, follows the suggestion, narrows the list
with a filter control (and sees the query it means), saves the result as a
segment and finds its live count on the segment's page and in the list of
segments.
"""

import re

from playwright.sync_api import expect

from patron.customers.models import CustomerTag
from patron.segments.models import Segment
from tests.factories import CustomerFactory, TagFactory

expect.set_options(timeout=10_000)


def test_filter_with_the_language_save_segment_see_count(browser_page, login, owner):
    vip = TagFactory(name="vip", colour="#fd7e14")
    for name, city in [("Ada Leeds", "Leeds"), ("Ben Leeds", "Leeds"), ("Cy York", "York")]:
        customer = CustomerFactory(name=name, service_city=city)
        CustomerTag.objects.create(customer=customer, tag=vip)
    CustomerFactory(name="Dee Plain", service_city="Leeds")
    page = browser_page
    login(page, owner)
    page.goto("/customers/")
    table = page.locator("#object-table tbody")
    expect(table.locator("tr")).to_have_count(4)

    # A typo: the message says where and what was meant; one click fixes it.
    page.fill("#id_q", "tag:vpi")
    page.press("#id_q", "Enter")
    error = page.get_by_test_id("query-error")
    expect(error).to_contain_text("unknown tag 'vpi' at column 5; did you mean 'vip'?")
    error.get_by_role("link", name=re.compile("Use")).click()
    expect(page.locator("#id_q")).to_have_value("tag:vip")
    expect(table.locator("tr")).to_have_count(3)

    # A filter control narrows further and shows the query it means.
    page.fill("#id_city", "Leeds")
    page.press("#id_city", "Tab")
    expect(page.get_by_test_id("equivalent-query")).to_contain_text("city:Leeds and tag:vip")
    expect(table.locator("tr")).to_have_count(2)
    expect(table).to_contain_text("Ada Leeds")
    expect(table).not_to_contain_text("Cy York")

    # Save it as a segment: the form arrives with the query filled in.
    page.get_by_role("link", name="Save as segment").click()
    expect(page.locator("#id_query")).to_have_value("city:Leeds and tag:vip")
    page.fill("#id_name", "Leeds VIPs")
    expect(page.locator("#segment-preview")).to_contain_text("2")
    page.get_by_role("button", name=re.compile("^(Save|Create)")).click()
    page.wait_for_url(re.compile(r"/segments/\d+/$"))
    expect(page.locator("[data-segment-count]")).to_have_text("2 customers")
    assert Segment.objects.get(name="Leeds VIPs").query == "city:Leeds and tag:vip"

    # The count is live: a new VIP in Leeds is counted straight away.
    newcomer = CustomerFactory(name="Eve Leeds", service_city="Leeds")
    CustomerTag.objects.create(customer=newcomer, tag=vip)
    page.goto("/segments/")
    row = page.locator("tr", has_text="Leeds VIPs")
    expect(row).to_contain_text("3")
