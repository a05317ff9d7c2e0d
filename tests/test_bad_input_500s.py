"""Issue #15 item 6: bad input that used to answer 500 answers a clear 400.

One test per bad input: a segment nested 5,000 deep, a chain of 3,000 terms,
a NUL byte in the segment preview, a huge integer in any list filter (every
list endpoint of the API and every list page, on SQLite and PostgreSQL), a
JSON body nested 100,000 deep, and cancelling a status change without its id.
"""

import datetime

import django_filters
import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from patron.api import router
from patron.core.filters import INT64_MAX, PatronFilterBackend
from patron.core.views import ObjectListView
from patron.customers.models import Customer, StatusChange
from patron.jobs.models import Job
from patron.segments.models import Segment
from tests.factories import CustomerFactory, TagFactory
from tests.test_segments_language import segment_permissions, world  # noqa: F401

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"  # beyond a 64-bit signed integer
DEEP = "(" * 5000 + "tag:vip" + ")" * 5000
CHAIN = " or ".join(["city:Leeds"] * 3000)
DEPTH_MESSAGE = "the query nests brackets or 'not' more than 50 deep at column 51; simplify it"
TERMS_MESSAGE = "the query has more than 500 terms (the 501st is at column 7001); split it up"


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    client.raise_request_exception = False
    return client


@pytest.fixture
def rest(api):
    client = api["owner"]
    client.raise_request_exception = False
    return client


# --- a segment nested 5,000 deep, a chain of 3,000 terms --------------------------


@pytest.mark.parametrize(
    "query, message", [(DEEP, DEPTH_MESSAGE), (CHAIN, TERMS_MESSAGE)], ids=["deep", "chain"]
)
def test_a_segment_too_deep_or_too_long_is_a_clear_400(
    world,  # noqa: F811
    owner_client,
    rest,
    query,
    message,
):
    validate = rest.post("/api/segments/validate/", {"query": query}, format="json")
    assert validate.status_code == 400
    assert validate.json()["query"] == [message]

    listed = rest.get("/api/customers/", {"q": query})
    assert listed.status_code == 400
    assert listed.json() == {"q": [message]}

    saved = rest.post("/api/segments/", {"name": "Big", "query": query}, format="json")
    assert saved.status_code == 400
    assert saved.json() == {"query": [message]}
    assert not Segment.objects.exists()

    preview = owner_client.get(reverse("segments:preview"), {"query": query})
    assert preview.status_code == 400
    assert message.replace("'", "&#x27;") in preview.content.decode()

    page = owner_client.get(reverse("customers:list"), {"q": query})
    assert page.status_code == 200
    assert page.context["query_error"].message == message


def test_a_segment_at_the_limits_still_runs(world, rest):  # noqa: F811
    nested = "(" * 49 + "city:Leeds" + ")" * 49
    assert rest.post("/api/segments/validate/", {"query": nested}, format="json").json() == {
        "count": 3
    }
    chain = " or ".join(["city:Leeds"] * 500)
    assert rest.post("/api/segments/validate/", {"query": chain}, format="json").json() == {
        "count": 3
    }
    nots = "not " * 50 + "city:Leeds"  # an even number of 'not's
    assert rest.get("/api/customers/", {"q": nots}).status_code == 200


# --- a NUL byte in the segment preview ---------------------------------------------


@pytest.mark.parametrize("query", ["acme\x00", "tag:vip and city:Le\x00eds"])
def test_a_nul_byte_in_the_segment_preview_is_a_clear_400(world, owner_client, query):  # noqa: F811
    response = owner_client.get(reverse("segments:preview"), {"query": query})
    assert response.status_code == 400
    column = query.index("\x00") + 1
    assert (
        f"the query contains a NUL character at column {column}; remove it"
        in response.content.decode()
    )


# --- a huge integer in any list filter -----------------------------------------------

INTEGER_FILTERS = (
    django_filters.NumberFilter,
    django_filters.ModelChoiceFilter,
    django_filters.ModelMultipleChoiceFilter,
)


def integer_filter_names(filterset_class) -> list[str]:
    return sorted(
        name
        for name, filter_ in filterset_class.base_filters.items()
        if isinstance(filter_, INTEGER_FILTERS)
    )


def api_list_filters() -> list[tuple[str, str]]:
    """(list endpoint, filter) for every integer filter of every API list."""
    backend = PatronFilterBackend()
    found = []
    for prefix, viewset, _basename in router.registry:
        filterset_class = getattr(viewset, "filterset_class", None)
        if filterset_class is None and getattr(viewset, "filterset_fields", None):
            # The FilterSet the backend builds from `filterset_fields` (contacts).
            view = viewset()
            view.action = "list"
            filterset_class = backend.get_filterset_class(view, viewset.model.objects.none())
        if filterset_class is None:
            continue
        found += [(f"/api/{prefix}/", name) for name in integer_filter_names(filterset_class)]
    return found


def _list_pages(resolver: URLResolver, prefix: str = ""):
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            namespace = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            yield from _list_pages(pattern, namespace)
        elif isinstance(pattern, URLPattern) and pattern.name:
            view_class = getattr(pattern.callback, "view_class", None)
            if (
                view_class
                and issubclass(view_class, ObjectListView)
                and view_class.filterset_class is not None
                and not pattern.pattern.converters
            ):
                yield prefix + pattern.name, view_class.filterset_class


def web_list_filters() -> list[tuple[str, str]]:
    """(list page, filter) for every integer filter of every list page."""
    return [
        (name, filter_name)
        for name, filterset_class in _list_pages(get_resolver())
        for filter_name in integer_filter_names(filterset_class)
    ]


def test_the_walks_find_the_lists_the_issue_names():
    api = set(api_list_filters())
    assert {
        ("/api/customers/", "status"),
        ("/api/customers/", "tag"),
        ("/api/events/", "customer"),
        ("/api/notes/", "assignee"),
        ("/api/tasks/", "customer"),
        ("/api/tickets/", "customer"),
        ("/api/calls/", "customer"),
        ("/api/contacts/", "customer"),
    } <= api
    assert len({endpoint for endpoint, _ in api}) >= 10
    web = set(web_list_filters())
    assert {("customers:list", "status"), ("events:list", "customer")} <= web


@pytest.mark.parametrize("endpoint, name", api_list_filters())
@pytest.mark.parametrize("value", [HUGE, "-" + HUGE])
def test_a_huge_integer_in_any_api_list_filter_is_a_400(rest, endpoint, name, value):
    response = rest.get(endpoint, {name: value})
    assert response.status_code == 400, response.content[:300]
    assert list(response.json()) == [name]
    (message,) = response.json()[name]
    assert value in message or "valid choice" in message


@pytest.mark.parametrize("endpoint, name", api_list_filters())
def test_a_number_in_range_still_filters(rest, endpoint, name):
    response = rest.get(endpoint, {name: str(INT64_MAX)})
    assert response.status_code in (200, 400), response.content[:300]
    if response.status_code == 400:  # a model choice that does not exist
        assert "valid choice" in response.json()[name][0]


def test_the_out_of_range_message_names_the_value_and_the_range(rest):
    TagFactory(name="vip")
    response = rest.get("/api/customers/", {"tag": HUGE})
    assert response.json() == {
        "tag": [
            f"“{HUGE}” is out of range: numbers here are between "
            "-9223372036854775808 and 9223372036854775807."
        ]
    }
    response = rest.get("/api/events/", {"customer": "1e30"})
    assert response.status_code == 400
    assert "is out of range" in response.json()["customer"][0]


@pytest.mark.parametrize("page, name", web_list_filters())
def test_a_huge_integer_in_any_list_page_filter_is_a_form_error(owner_client, page, name):
    response = owner_client.get(reverse(page), {name: HUGE})
    assert response.status_code == 200
    filterset = response.context["filterset"]
    if name in filterset.form.fields:  # the ticket list takes ?customer= outside its form
        assert not filterset.is_valid()
        assert list(filterset.errors) == [name]


def test_the_customer_list_page_says_what_is_wrong_with_a_huge_status(owner_client):
    response = owner_client.get(reverse("customers:list"), {"status": HUGE})
    assert response.status_code == 200
    assert response.context["filterset"].errors["status"] == [
        f"“{HUGE}” is out of range: numbers here are between "
        "-9223372036854775808 and 9223372036854775807."
    ]
    assert list(response.context["page_obj"].object_list) == []
    assert "Status: “99999999999999999999” is out of range" in response.content.decode()


@pytest.mark.parametrize("page", ["groups:list", "events:list", "calls:list"])
def test_every_list_page_shows_what_is_wrong_with_a_filter(owner_client, page):
    """The message is on the page (also in the part htmx swaps in), not only in the form."""
    names = [name for listed, name in web_list_filters() if listed == page]
    response = owner_client.get(reverse(page), {names[0]: HUGE})
    assert "is out of range" in response.content.decode()
    swapped = owner_client.get(reverse(page), {names[0]: HUGE}, headers={"HX-Request": "true"})
    assert "is out of range" in swapped.content.decode()


# --- a JSON body nested 100,000 deep --------------------------------------------------


def test_a_json_body_nested_100000_deep_is_a_400(rest):
    body = "[" * 100_000 + "]" * 100_000
    response = rest.post("/api/tags/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - the body is nested too deeply."}
    response = rest.post(
        "/api/segments/validate/", '{"query": ' + body + "}", content_type="application/json"
    )
    assert response.status_code == 400


# --- cancelling a status change without its id --------------------------------------


@pytest.fixture
def pending_change(owner):
    from patron.core.actor import Actor
    from patron.customers import services
    from patron.statuses.models import Status

    customer = CustomerFactory(name="Ann Smith")
    target = Status.objects.exclude(pk=customer.status_id).first()
    services.customer_status_change(
        actor=Actor(user=owner),
        customer=customer,
        status=target,
        reason="moving",
        effective_date=datetime.date.today() + datetime.timedelta(days=7),
    )
    return customer.status_changes.pending().get()


CANCEL_MESSAGE = "Choose the pending status change to cancel; reload the page to see them."


@pytest.mark.parametrize("data", [{}, {"change": ""}, {"change": "abc"}, {"change": HUGE}])
@pytest.mark.parametrize("htmx", [True, False])
def test_cancelling_a_status_change_without_its_id_is_a_400(
    owner_client, pending_change, data, htmx
):
    customer = pending_change.customer
    extra = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = owner_client.post(
        reverse("customers:status_cancel", args=[customer.pk]), data, **extra
    )
    assert response.status_code == 400
    assert CANCEL_MESSAGE in response.content.decode()
    assert StatusChange.objects.get(pk=pending_change.pk).state == StatusChange.State.PENDING


def test_cancelling_a_change_already_gone_says_so(owner_client, pending_change):
    customer = pending_change.customer
    url = reverse("customers:status_cancel", args=[customer.pk])
    first = owner_client.post(url, {"change": pending_change.pk}, HTTP_HX_REQUEST="true")
    assert first.status_code == 200
    assert not customer.status_changes.pending().exists()
    again = owner_client.post(url, {"change": pending_change.pk}, HTTP_HX_REQUEST="true")
    assert again.status_code == 200
    assert "has already taken effect or been cancelled" in again.content.decode()
    assert Customer.objects.get(pk=customer.pk).status == customer.status


def test_a_bulk_target_nested_100000_deep_is_a_form_error(owner_client):
    """The bulk page's hidden target is JSON too: nested too deeply, the page says so."""
    target = "[" * 100_000 + "]" * 100_000
    response = owner_client.post(
        reverse("jobs:bulk"), {"action": "add_tag", "target": target, "step": "preview"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["target"] == [
        "Choose the customers again from the customer list."
    ]
    assert "Choose the customers again from the customer list." in response.content.decode()
    assert not Job.objects.exists()
