"""Issue #17 item 7 ("Details") in Chromium: what a person sees and does.

Screenshots are written to test-results/ (details-*.png) for a person to look at.
"""

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
