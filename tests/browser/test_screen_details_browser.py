"""Issue #17 item 7 ("Details") in Chromium: what a person sees and does.

Screenshots are written to test-results/ (details-*.png) for a person to look at.
"""

import re
from pathlib import Path

from playwright.sync_api import expect

from tests.browser.conftest import RESULTS
from tests.factories import CustomerFactory, TagFactory

expect.set_options(timeout=10_000)

DESKTOP = {"width": 1440, "height": 900}


def test_skip_link_is_first_on_tab_and_visible_on_focus(browser_page, login, owner):
    page = browser_page
    page.set_viewport_size(DESKTOP)
    customer = CustomerFactory(name="Skip Link Ltd")
    customer.tags.add(TagFactory(name="VIP", colour="#d4a017"))
    login(page, owner)
    page.goto(customer.get_absolute_url())
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).not_to_be_in_viewport()
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "details-skip-link.png"))
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    vip = page.locator("#card-tags .patron-badge", has_text="VIP")
    assert vip.evaluate("e => getComputedStyle(e).color") == "rgb(0, 0, 0)"


def test_export_format_is_radio_buttons_and_the_page_says_what(browser_page, login, owner):
    page = browser_page
    page.set_viewport_size(DESKTOP)
    vip = TagFactory(name="VIP", colour="#d4a017")
    CustomerFactory(name="Ann Export").tags.add(vip)
    CustomerFactory(name="Bob Export")
    login(page, owner)
    page.goto(f"/imports/export/?tag={vip.pk}")
    expect(page.get_by_test_id("export-count")).to_contain_text("1 customer will be exported")
    expect(page.get_by_test_id("export-filter")).to_contain_text("Tag: VIP")
    csv = page.get_by_role("radio", name="CSV")
    xlsx = page.get_by_role("radio", name=re.compile("Excel|XLSX", re.I))
    expect(csv).to_be_checked()
    box = xlsx.bounding_box()
    assert box["width"] < 30 and box["height"] < 30  # a radio button, not a text box
    page.get_by_text(re.compile("^(Excel|XLSX)", re.I)).click()
    expect(xlsx).to_be_checked()
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "details-export.png"), full_page=True)


def test_import_page_downloads_a_template(browser_page, login, owner):
    page = browser_page
    page.set_viewport_size(DESKTOP)
    login(page, owner)
    page.goto("/imports/")
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "details-import.png"))
    for name in ("Create only", "All or nothing"):  # the form's radio buttons, with labels
        expect(page.get_by_role("radio", name=name)).to_be_checked()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download a template (CSV)").click()
    download = info.value
    assert download.suggested_filename == "patron-import-template.csv"
    header = Path(download.path()).read_text(encoding="utf-8").splitlines()[0]
    assert "name" in header.strip().split(",")


def test_ticket_close_asks_first_and_an_undone_job_says_undone(browser_page, login, owner):
    from patron.bulk.bulk_tag import bulk_tag_enqueue
    from patron.core.actor import Actor
    from patron.jobs.services import job_run
    from patron.tickets.models import Ticket
    from tests.factories import TicketFactory

    page = browser_page
    page.set_viewport_size(DESKTOP)
    ticket = TicketFactory(subject="Router keeps dropping")
    login(page, owner)
    page.goto(f"/tickets/{ticket.pk}/")
    dialog = page.locator("#patron-confirm")
    page.get_by_role("button", name="Close ticket").click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Router keeps dropping")
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "details-ticket-close-confirm.png"))
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).not_to_be_visible()
    ticket.refresh_from_db()
    assert not ticket.is_closed
    page.get_by_role("button", name="Close ticket").click()
    dialog.get_by_role("button", name="Close ticket").click()
    expect(page.get_by_test_id("ticket-status")).to_contain_text("Closed")
    assert Ticket.objects.get(pk=ticket.pk).is_closed

    vip = TagFactory(name="VIP")
    job = bulk_tag_enqueue(
        actor=Actor(user=owner), params={"tag": vip.pk, "customers": [CustomerFactory().pk]}
    )
    job_run(job.pk)
    page.goto(f"/jobs/{job.pk}/")
    page.get_by_test_id("job-undo").click()
    expect(dialog).to_be_visible()
    page.screenshot(path=str(RESULTS / "details-undo-confirm.png"))
    dialog.get_by_role("button", name="Cancel").click()
    expect(page).to_have_url(re.compile(rf"/jobs/{job.pk}/$"))
    page.get_by_test_id("job-undo").click()
    dialog.get_by_role("button", name="Undo").click()
    expect(page.locator("h1")).to_contain_text("Undo a bulk action")
    from patron.bulk.engine import undo_job_for

    job_run(undo_job_for(job).pk)
    page.goto("/jobs/")
    expect(page.get_by_test_id("job-undone")).to_have_text("Undone")
    page.screenshot(path=str(RESULTS / "details-jobs-undone.png"))


def test_select_all_matching_sends_the_query_not_the_ids(browser_page, login, owner):
    page = browser_page
    page.set_viewport_size(DESKTOP)
    vip = TagFactory(name="VIP")
    for n in range(55):  # more than a page (50)
        CustomerFactory(name=f"Matching {n:02d}").tags.add(vip)
    CustomerFactory(name="Not tagged")
    login(page, owner)
    page.goto(f"/customers/?tag={vip.pk}")
    label = page.locator("#selection-label")
    expect(label).to_have_text("All 55 matching")
    offer = page.get_by_test_id("select-all-matching")
    expect(offer).to_be_hidden()
    page.locator("#select-all").check()
    expect(label).to_have_text("50 selected")
    expect(offer).to_be_visible()
    expect(offer).to_have_text("Select all 55 matching")
    offer.click()
    expect(label).to_have_text("All 55 matching selected")
    expect(page.get_by_role("button", name="Clear selection")).to_be_visible()
    RESULTS.mkdir(exist_ok=True)
    page.screenshot(path=str(RESULTS / "details-select-all-matching.png"))
    page.get_by_role("button", name="Bulk action…").click()
    page.wait_for_load_state()
    assert "ids=" not in page.url
    assert f"tag={vip.pk}" in page.url
    # Without "all matching", the whole page ticked sends the page's ids.
    page.goto(f"/customers/?tag={vip.pk}")
    page.locator("#select-all").check()
    page.get_by_role("button", name="Bulk action…").click()
    page.wait_for_load_state()
    assert page.url.count("ids=") == 50
