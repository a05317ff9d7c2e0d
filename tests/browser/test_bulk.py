"""A bulk action in a real browser: segment, preview, run, progress bar, event log, undo.

The live server has no `patron serve`, so the test starts the embedded worker
thread `patron serve` would start, and stops it at the end.
"""

import pytest
from playwright.sync_api import expect

from patron.core.actor import Actor
from patron.customers.models import CustomerTag
from patron.customers.services import customer_tags_set
from patron.jobs import runner
from tests.factories import CustomerFactory, TagFactory, user_with_role

expect.set_options(timeout=15_000)


@pytest.fixture
def embedded_worker():
    worker = runner.start_embedded_worker(poll_interval=0.1)
    yield worker
    runner.stop_embedded_worker()


def test_bulk_add_tag_to_a_segment_then_undo(browser_page, login, embedded_worker):
    """Open the bulk page on `tag:vip`, add “Gold”, watch the job finish, see the event; undo."""
    sam = user_with_role("Staff", username="sam")
    system = Actor.system_actor("tests")
    vip, gold = TagFactory(name="vip"), TagFactory(name="Gold")
    ann = CustomerFactory(name="Ann Example")
    bob = CustomerFactory(name="Bob Example")
    CustomerFactory(name="Cat Other")
    for customer in (ann, bob):
        customer_tags_set(actor=system, customer=customer, tags=[vip])
    page = browser_page
    login(page, sam)

    page.goto("/jobs/bulk/?q=tag:vip")
    expect(page.get_by_test_id("bulk-target")).to_contain_text("2 customers chosen")
    page.get_by_label("Action").select_option(label="Add the tag")
    page.get_by_label("Tag").select_option(label="Gold")
    expect(page.get_by_label("Status")).to_be_hidden()
    page.get_by_test_id("bulk-preview").click()

    preview = page.get_by_test_id("bulk-preview-result")
    expect(preview).to_contain_text("Preview: Add the tag “Gold”")
    expect(page.get_by_test_id("will-change")).to_have_text("2")
    cells = preview.locator("tr", has_text="Ann Example").locator("td")
    expect(cells.nth(1)).to_have_text("vip")
    expect(cells.nth(3)).to_have_text("Gold, vip")
    assert CustomerTag.objects.filter(tag=gold).count() == 0

    page.get_by_test_id("bulk-run").click()
    expect(page.locator("h1")).to_contain_text("Bulk add tag")
    expect(page.locator("[data-job-state]")).to_have_attribute("data-job-state", "succeeded")
    expect(page.get_by_test_id("job-progress-text")).to_contain_text("100%")
    expect(page.get_by_test_id("job-message")).to_contain_text("2 customers changed")
    job_url = page.url
    assert set(CustomerTag.objects.filter(tag=gold).values_list("customer_id", flat=True)) == {
        ann.pk,
        bob.pk,
    }

    page.goto(ann.get_absolute_url())
    log = page.get_by_test_id("event-log")
    expect(log).to_contain_text("Add the tag “Gold” (bulk action, job #")

    page.goto(job_url)
    page.get_by_test_id("job-undo").click()
    page.locator("#patron-confirm").get_by_role("button", name="Undo").click()  # the confirm step
    expect(page.locator("h1")).to_contain_text("Undo a bulk action")
    expect(page.locator("[data-job-state]")).to_have_attribute("data-job-state", "succeeded")
    expect(page.get_by_test_id("job-message")).to_contain_text("for 2 customers")
    assert CustomerTag.objects.filter(tag=gold).count() == 0
    page.goto(job_url)
    expect(page.get_by_test_id("undone-by")).to_contain_text("succeeded")
    expect(page.get_by_test_id("job-undo")).to_have_count(0)
