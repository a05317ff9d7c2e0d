"""The customer list counts only as far as it needs to, and pages on past the cap."""

import re

import pytest
from django.urls import reverse

from patron.customers.views import listing
from patron.customers.views.listing import CappedPaginator
from tests.factories import PASSWORD, CustomerFactory
from tests.test_segments_language import world  # noqa: F401


@pytest.fixture
def small_pages(monkeypatch):
    """A cap of 3 customers and pages of 2, so ten customers run past the cap."""
    monkeypatch.setattr(listing, "COUNT_CAP", 3)
    monkeypatch.setattr(listing.CustomerListView, "paginate_by", 2)


@pytest.fixture
def hull(db):
    return [CustomerFactory(name=f"Hull {i:02d}", service_city="Hull") for i in range(10)]


def listed(client, user, **params):
    assert client.login(username=user.username, password=PASSWORD)
    # Sorted by name so the pages are predictable (the list opens newest first).
    response = client.get(reverse("customers:list"), {"q": "city:hull", "sort": "name", **params})
    assert response.status_code == 200
    return response


def names(response):
    return [obj.name for obj, _ in response.context["rows"]]


def page_links(content: str) -> dict[str, str]:
    """The footer's page links by their label: {"Next": "3", ...}."""
    nav = content[content.index('aria-label="Pages"') :]
    return {label: number for number, label in re.findall(r'page=(\d+)">(\w+)</a>', nav)}


def test_first_page_past_the_cap_says_more_than(client, owner, hull, small_pages):
    response = listed(client, owner)
    content = response.content.decode()
    paginator = response.context["page_obj"].paginator
    assert not paginator.exact
    assert "More than 3 customers" in content
    assert "All more than 3 matching" in content
    assert names(response) == ["Hull 00", "Hull 01"]
    # No total, so no "of N" and no link to the last page; the next page is there.
    assert re.search(r"Page 1</span>", content)
    assert page_links(content) == {"Next": "2"}


def test_pages_go_on_past_the_cap_until_the_total_is_known(client, owner, hull, small_pages):
    third = listed(client, owner, page=3)
    content = third.content.decode()
    assert names(third) == ["Hull 04", "Hull 05"]
    assert "More than 6 customers" in content  # counted to the end of page 3 and one more
    assert page_links(content) == {"First": "1", "Previous": "2", "Next": "4"}

    fourth = listed(client, owner, page=4)
    assert names(fourth) == ["Hull 06", "Hull 07"]
    assert page_links(fourth.content.decode())["Next"] == "5"

    last = listed(client, owner, page=5)
    content = last.content.decode()
    assert last.context["page_obj"].paginator.exact
    assert names(last) == ["Hull 08", "Hull 09"]
    assert "10 total" in content and "Page 5 of 5" in content
    assert page_links(content) == {"First": "1", "Previous": "4"}


def test_a_page_beyond_the_end_shows_the_last_one(client, owner, hull, small_pages):
    response = listed(client, owner, page=40)
    assert response.context["page_obj"].number == 5
    assert names(response) == ["Hull 08", "Hull 09"]


@pytest.mark.parametrize("page", ["", "last", "-3", "0", "2.5"])
def test_a_bad_page_number_shows_the_first_page(client, owner, hull, small_pages, page):
    response = listed(client, owner, page=page)
    assert names(response) == ["Hull 00", "Hull 01"]
    assert response.context["page_obj"].number == 1


def test_under_the_cap_the_total_and_the_last_page_are_shown(client, owner, hull, monkeypatch):
    monkeypatch.setattr(listing.CustomerListView, "paginate_by", 2)
    response = listed(client, owner)
    content = response.content.decode()
    assert response.context["page_obj"].paginator.count == 10
    assert "10 total" in content and "All 10 matching" in content
    assert "Page 1 of 5" in content
    assert page_links(content) == {"Next": "2", "Last": "5"}


def test_the_count_query_is_limited(db, hull):
    from patron.customers.models import Customer

    paginator = CappedPaginator(Customer.objects.order_by("name"), 2, wanted_page=1, cap=3)
    assert paginator.limit == 3
    assert paginator.count == 4
    assert not paginator.exact
    assert CappedPaginator(Customer.objects.order_by("name"), 2, wanted_page=9, cap=3).exact


def test_tag_control_selects_what_the_tag_terms_select(client, owner, world):  # noqa: F811
    """The Tag control is applied as `id IN (…)`; the customers are the query's own."""
    assert client.login(username=owner.username, password=PASSWORD)
    url = reverse("customers:list")
    controls = client.get(url, {"tag": [world.vip.pk, world.fibre.pk], "q": "city:leeds"})
    query = client.get(url, {"q": "(tag:vip or tag:Fibre) and city:leeds"})
    both = sorted(obj.name for obj, _ in controls.context["rows"])
    assert both == sorted(obj.name for obj, _ in query.context["rows"]) == ["Alice Acme"]
    # Dan (Fibre) is archived: left out unless the Accounts control asks for him.
    archived = client.get(url, {"tag": [world.fibre.pk], "archived": "all"})
    assert [obj.name for obj, _ in archived.context["rows"]] == ["Dan Dark"]
    assert controls.context["equivalent_query"] == "(tag:Fibre or tag:vip) and city:leeds"


def test_a_wide_tag_filter_pages_the_same_customers(client, owner, hull, small_pages, monkeypatch):
    """Past `WIDE_RESULT` a page is read another way (on SQLite); the rows are the same."""
    from patron.customers.models import CustomerTag
    from tests.factories import TagFactory

    gold = TagFactory(name="Gold")
    for customer in hull[::2] + hull[1:4:2]:  # Hull 00, 02, 04, 06, 08 and 01, 03
        CustomerTag.objects.create(customer=customer, tag=gold)
    expected = ["Hull 00", "Hull 01", "Hull 02", "Hull 03", "Hull 04", "Hull 06", "Hull 08"]

    def all_pages(**params):
        seen = []
        for page in range(1, 5):
            response = listed(client, owner, tag=gold.pk, page=page, **params)
            seen += names(response)
            assert "Active" in response.content.decode()  # the status badge still shows
        return seen

    monkeypatch.setattr(listing, "WIDE_RESULT", 10_000)
    assert all_pages() == expected
    monkeypatch.setattr(listing, "WIDE_RESULT", 1)
    assert all_pages() == expected
    assert all_pages(sort="-name") == expected[::-1]
