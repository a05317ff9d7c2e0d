"""Search from every page: the header's box, results that say what matched,
and text custom fields in the index (both databases)."""

import pytest
from django.urls import reverse

from patron.core.actor import Actor
from patron.customers.models import Customer
from patron.customers.phones import display_phone
from patron.customfields import services as custom_services
from patron.search.matches import phone_match, text_match
from tests.factories import ContactFactory, CustomerFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


@pytest.mark.parametrize(
    "url_name", ["customers:list", "tickets:list", "tickets:my_work", "jobs:list", "statuses:list"]
)
def test_search_box_on_every_page(staff_client, url_name):
    """The header's search box sends the text to the customer list as its query;
    "/" is its shortcut."""
    html = staff_client.get(reverse(url_name)).content.decode()
    assert '<form role="search" method="get" action="/customers/"' in html
    assert 'id="patron-search"' in html and 'name="q"' in html
    assert 'aria-keyshortcuts="/"' in html


def test_search_box_keeps_the_text_on_the_list(staff_client):
    html = staff_client.get(reverse("customers:list"), {"q": "hartley"}).content.decode()
    assert 'id="patron-search"' in html
    assert 'value="hartley"' in html


def test_search_box_on_a_ticket(staff_client):
    ticket = TicketFactory()
    html = staff_client.get(ticket.get_absolute_url()).content.decode()
    assert 'id="patron-search"' in html


@pytest.fixture
def hartley():
    customer = CustomerFactory(name="Hartley Farm Supplies", account_number="A100")
    ContactFactory(
        customer=customer,
        name="Grace Whitfield",
        email="grace.w@example.org",
        phone="+447911123456",
    )
    return customer


def rows(client, q):
    return client.get(reverse("customers:list"), {"q": q}).content.decode()


def test_result_says_which_contact_matched(staff_client, hartley):
    html = rows(staff_client, "whitf")
    assert "Hartley Farm Supplies" in html
    assert 'data-testid="search-match">Contact: Grace <mark>Whitf</mark>ield</span>' in html


def test_result_says_which_phone_matched(staff_client, hartley):
    html = rows(staff_client, "07911 123")
    # shown as the contacts card shows phones (display_phone), the typed digits marked
    assert 'data-testid="search-match">Phone: +44 <mark>7911 123</mark>456</span>' in html


def test_result_says_which_email_matched(staff_client, hartley):
    html = rows(staff_client, "grace.w@")
    assert "Email: <mark>grace.w@</mark>example.org" in html


def test_match_in_the_name_needs_no_line(staff_client, hartley):
    assert 'data-testid="search-match"' not in rows(staff_client, "hartley")


def test_a_query_is_not_described(staff_client, hartley):
    """Field terms say what they test themselves; only a plain search gets lines."""
    assert 'data-testid="search-match"' not in rows(staff_client, "city:leeds")


def test_matching_ignores_case_and_accents():
    match = text_match("Contact", "José Müller", "muller")
    assert (match.before, match.marked, match.after) == ("José ", "Müller", "")
    match = phone_match("Phone", "+441134960000", "1134960")
    assert match.before + match.marked + match.after == display_phone("+441134960000")
    assert match.marked == "113 496 0"
    match = phone_match("Phone", "+441134960000", "441134")  # the country code too
    assert "".join(ch for ch in match.marked if ch.isdigit()) == "441134"


@pytest.fixture
def serial_field(owner):
    actor = Actor(user=owner)
    custom_services.custom_field_create(
        actor=actor, data={"key": "router_serial", "label": "Router serial", "field_type": "text"}
    )
    custom_services.custom_field_create(
        actor=actor, data={"key": "rack_units", "label": "Rack units", "field_type": "number"}
    )
    return actor


def test_text_custom_fields_are_searched(serial_field, staff_client):
    """A text custom field's value finds the customer, and the result names the field;
    a changed value is found by its new text only."""
    customer = CustomerFactory(name="Bramley Mill")
    custom_services.customer_custom_fields_set(
        actor=serial_field, customer=customer, values={"router_serial": "RTX-99812"}
    )
    assert list(Customer.objects.search("rtx-998")) == [customer]
    html = rows(staff_client, "rtx-998")
    assert "Bramley Mill" in html
    assert "Router serial: <mark>RTX-998</mark>12" in html

    customer.refresh_from_db()
    custom_services.customer_custom_fields_set(
        actor=serial_field, customer=customer, values={"router_serial": "ZQ-4471"}
    )
    assert not Customer.objects.search("rtx-998").exists()
    assert list(Customer.objects.search("zq-447")) == [customer]


def test_only_text_custom_fields_are_indexed(serial_field):
    customer = CustomerFactory(name="Bramley Mill")
    custom_services.customer_custom_fields_set(
        actor=serial_field, customer=customer, values={"rack_units": "42817"}
    )
    assert not Customer.objects.search("42817").exists()


def test_rebuild_indexes_custom_fields(serial_field):
    from patron.search.index import rebuild

    customer = CustomerFactory(name="Bramley Mill")
    custom_services.customer_custom_fields_set(
        actor=serial_field, customer=customer, values={"router_serial": "RTX-99812"}
    )
    rebuild()
    assert list(Customer.objects.search("rtx-99812")) == [customer]
