"""Segment help and the editor's one error, in a real browser.

The Owner opens the query language's help from the segment editor, types a bad query
and sees one error that goes once the query is fixed (by the suggestion), saves the
segment and opens it in the customer list.
"""

import re

from playwright.sync_api import expect

from patron.ops.demo import load_demo
from patron.segments.language import segment_queryset
from tests.browser.conftest import RESULTS

expect.set_options(timeout=10_000)


def test_help_from_editor_one_error_then_open_in_list(browser_page, login, owner):
    load_demo(customers=40, billing=False)
    page = browser_page
    page.set_viewport_size({"width": 1440, "height": 900})
    login(page, owner)
    page.goto("/segments/add/")

    # The help opens in a new tab, with the installation's own names.
    with page.context.expect_page() as opened:
        page.get_by_test_id("query-help").click()
    help_page = opened.value
    expect(help_page.get_by_role("heading", name="Segment query language")).to_be_visible()
    expect(help_page.locator('[data-names="tag"]')).to_contain_text("tag:VIP")
    expect(help_page.locator("tr[data-example]").first).to_be_visible()
    help_page.close()

    # A bad query: one error, the faulty part marked; the suggestion fixes it.
    page.fill("#id_name", "Active fibre")
    page.fill("#id_query", "status:Active and tag:fibr")
    errors = page.get_by_test_id("query-error")
    expect(errors).to_have_count(1)
    expect(errors).to_contain_text("unknown tag 'fibr'")
    expect(errors.locator("mark")).to_have_text("fibr")
    errors.get_by_role("button", name=re.compile("Use")).click()
    expect(page.locator("#id_query")).to_have_value("status:Active and tag:Fibre")
    expect(page.get_by_test_id("query-error")).to_have_count(0)
    expect(page.locator("[data-preview-count]")).to_be_visible()

    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/segments/\d+/$"))
    expected = segment_queryset("status:Active and tag:Fibre", user=owner).count()
    assert expected > 0
    expect(page.locator("[data-segment-count]")).to_contain_text(str(expected))
    expect(page.get_by_test_id("segment-bulk")).to_be_visible()
    expect(page.get_by_test_id("segment-export")).to_be_visible()
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "segment-1440.png"), full_page=True)

    page.get_by_test_id("open-in-list").click()
    page.wait_for_url(re.compile(r"/customers/\?q="))
    expect(page.locator("#id_q")).to_have_value("status:Active and tag:Fibre")
    expect(page.locator("#object-table tbody tr")).to_have_count(expected)
