"""Playwright infrastructure for browser tests: system Chromium, live server, login.

Every test in this directory is marked `browser`. Without /usr/bin/chromium the
tests skip with a clear reason, or fail when PATRON_REQUIRE_BROWSER=1 (as in CI).

    def test_something(browser_page, login, owner):
        login(browser_page, owner)
        browser_page.goto("/customers/")   # relative to the live server

The live server uses a transactional test database, which is emptied after
each test, so each test starts from `ensure_defaults()`: the default statuses,
group set and roles of a fresh installation.
"""

import os
import re
from pathlib import Path

import pytest
from django.db.backends.signals import connection_created

from patron.ops.defaults import ensure_defaults
from tests.factories import PASSWORD

# Playwright's sync API runs an event loop in the test thread; the ORM calls made
# there by fixtures are still synchronous and safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


def _read_uncommitted(sender, connection, **kwargs):
    """On the in-memory SQLite test database, readers take no table locks.

    The live server and the embedded job worker share that database through
    SQLite's shared cache, where a page read while the job thread writes fails
    at once with "database table is locked" (SQLITE_LOCKED does not wait like
    a file database's busy timeout). Reading uncommitted rows removes the read
    locks; a real installation uses a file database and never needs this.
    """
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        connection.connection.execute("PRAGMA read_uncommitted = 1")


connection_created.connect(_read_uncommitted)

CHROMIUM = Path(os.environ.get("PATRON_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HERE = Path(__file__).resolve().parent
RESULTS = HERE.parent.parent / "test-results"
# Generous: the suite shares two cores with the database and the web server; a
# loaded machine must not turn a slow page into a failure.
TIMEOUT_MS = 20_000


def pytest_collection_modifyitems(config, items):
    for item in items:
        if HERE in Path(str(item.path)).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"browser tests need Chromium at {CHROMIUM} (Debian package `chromium`)"
    if os.environ.get("PATRON_REQUIRE_BROWSER", "") in {"1", "true", "yes"}:
        pytest.fail(f"{reason}; PATRON_REQUIRE_BROWSER=1 makes this a failure")
    pytest.skip(f"{reason}; install it, or set PATRON_REQUIRE_BROWSER=1 to fail instead")


@pytest.fixture(scope="session")
def chromium():
    """One headless system Chromium for the whole run."""
    _require_chromium()
    from playwright.sync_api import sync_playwright  # only once Chromium is known to be there

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(autouse=True)
def _fresh_installation(transactional_db):
    """Browser tests run on a transactional database holding a fresh installation."""
    ensure_defaults()


@pytest.fixture
def browser_page(request, chromium, live_server):
    """A new page (own cookies) whose relative URLs go to the live server."""
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1400, "height": 900}, locale="en-GB"
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        RESULTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        page.screenshot(path=str(RESULTS / f"{name}.png"), full_page=True)
    context.close()


def login(page, user, password: str = PASSWORD) -> None:
    """Sign `user` in through the login form and wait until Patron has let them in."""
    page.goto("/accounts/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.fixture(name="login")
def login_fixture():
    """The `login(page, user)` helper, for tests that prefer a fixture to an import."""
    return login
