"""Importing customers in a real browser: upload, read the errors, fix, apply, see them listed.

The live server has no `patron serve`, so the test starts the embedded worker
thread that `patron serve` would start, and stops it at the end.
"""

import pytest
from playwright.sync_api import expect

from patron.jobs import runner
from tests.factories import TagFactory, user_with_role

expect.set_options(timeout=15_000)

HEADER = "account_number,name,tags,contact_name,contact_phone\n"
BAD = HEADER + "IMP1,Grace Hopper,VPI,Grace,+44 113 496 0000\nIMP2,Alan Turing,,Alan,12345\n"
GOOD = (
    HEADER
    + "IMP1,Grace Hopper,VIP,Grace,+44 113 496 0000\nIMP2,Alan Turing,,Alan,+44 113 496 0001\n"
)


@pytest.fixture
def embedded_worker(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    worker = runner.start_embedded_worker(poll_interval=0.1)
    yield worker
    runner.stop_embedded_worker()


def upload(page, name, content):
    page.goto("/imports/")
    page.set_input_files(
        "input[name=file]",
        files=[{"name": name, "mimeType": "text/csv", "buffer": content.encode()}],
    )
    page.get_by_role("button", name="Upload and check").click()


def test_upload_see_errors_fix_and_apply(browser_page, login, embedded_worker):
    """A file with a misspelt tag and a bad phone shows both errors and imports nothing;
    the corrected file imports both customers, and they appear in the customer list."""
    TagFactory(name="VIP")
    page = browser_page
    login(page, user_with_role("Staff", username="sam"))

    page.goto("/customers/")
    page.get_by_role("link", name="Import customers").click()
    page.wait_for_url("**/imports/")

    upload(page, "first.csv", BAD)
    errors = page.get_by_test_id("import-errors")
    expect(errors).to_contain_text("There is no tag “VPI”. Did you mean “VIP”?")
    expect(errors).to_contain_text("“12345” is not a valid number for United Kingdom (GB).")
    expect(page.get_by_test_id("import-state")).to_have_text("Has errors")
    expect(page.get_by_role("button", name="Import 2 customers")).to_have_count(0)

    upload(page, "fixed.csv", GOOD)
    expect(page.get_by_test_id("import-state")).to_have_text("Ready to apply")
    expect(page.get_by_test_id("import-preview")).to_contain_text("Grace Hopper")
    page.get_by_role("button", name="Import 2 customers").click()
    expect(page.get_by_test_id("import-message")).to_have_text(
        "Imported fixed.csv: created 2, updated 0."
    )
    expect(page.get_by_test_id("import-state")).to_have_text("Applied")

    page.get_by_role("link", name="See the customer list").click()
    expect(page.locator("main")).to_contain_text("Grace Hopper")
    expect(page.locator("main")).to_contain_text("Alan Turing")
