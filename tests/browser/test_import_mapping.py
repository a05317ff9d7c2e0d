"""A file from another system in a real browser: map a header, apply the valid rows,
download the rejected ones with their reasons."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from patron.customers.models import Customer
from patron.jobs import runner
from tests.factories import TagFactory

expect.set_options(timeout=15_000)

FILE = (
    "account_number,name,Town,tags\n"
    "MAP1,Grace Hopper,Leeds,VIP\n"
    "MAP2,,York,VIP\n"
    "MAP3,Alan Turing,Hull,\n"
)


@pytest.fixture
def embedded_worker(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    worker = runner.start_embedded_worker(poll_interval=0.1)
    yield worker
    runner.stop_embedded_worker()


def test_map_a_header_apply_the_valid_rows_and_download_the_rejected(
    browser_page, login, owner, embedded_worker
):
    TagFactory(name="VIP")
    page = browser_page
    login(page, owner)
    page.goto("/imports/")
    page.set_input_files(
        "input[name=file]",
        files=[{"name": "old-system.csv", "mimeType": "text/csv", "buffer": FILE.encode()}],
    )
    page.get_by_label("Apply the valid rows").check()
    page.get_by_role("button", name="Upload and check").click()
    expect(page.get_by_test_id("import-errors")).to_contain_text("Unknown column “Town”.")
    page.get_by_test_id("import-map-columns").click()
    page.get_by_label("Town").select_option("city")
    page.get_by_role("button", name="Save the mapping and check again").click()
    expect(page.get_by_test_id("import-state")).to_have_text("Ready to apply")
    expect(page.get_by_test_id("import-rejected")).to_have_text("1")
    page.get_by_test_id("import-apply").click()
    expect(page.get_by_test_id("import-state")).to_have_text("Applied")
    expect(page.get_by_test_id("import-message")).to_contain_text("created 2")
    with page.expect_download() as download_info:
        page.get_by_test_id("import-rejected-download").click()
    download = download_info.value
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines() == [
        "account_number,name,Town,tags,reason",
        "MAP2,,York,VIP,name: The name is required.",
    ]
    assert dict(Customer.objects.values_list("account_number", "service_city")) == {
        "MAP1": "Leeds",
        "MAP3": "Hull",
    }
