"""The segment language on the customer list, the customer API and the shared FilterSet."""

from types import SimpleNamespace

import pytest
from django.http import QueryDict
from django.urls import reverse

from patron.customers.filters import CustomerFilterSet
from patron.customers.models import Customer
from patron.customers.views.listing import error_context, url_or_empty
from patron.segments.language import SegmentError, segment_queryset
from tests.factories import PASSWORD, CustomerFactory
from tests.test_segments_language import segment_permissions, world  # noqa: F401


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def first_names(rows):
    return sorted(obj.name.split()[0] for obj, _ in rows)


def listed(client, **params):
    response = client.get(reverse("customers:list"), params)
    assert response.status_code == 200
    return response


# NOT is the exact complement ------------------------------------------------------------


@pytest.mark.parametrize(
    "query, expected",
    [
        # Bob's speed is the text "fast", Carol has none: both are "not above 50".
        ("not custom.speed>50", ["Bob", "Carol", "Eve"]),
        ("not custom.speed<=30", ["Alice", "Bob", "Carol"]),
        ("not custom.plan:fibre*", ["Bob", "Carol", "Eve"]),
        ("not custom.early:true", ["Alice", "Bob", "Carol"]),
        # Carol and Eve have no class or department at all.
        ("not class:business", ["Bob", "Carol", "Eve"]),
        ("not department:sales", ["Alice", "Carol", "Eve"]),
        ("not (class:business or department:sales)", ["Carol", "Eve"]),
        ("not not custom.speed>50", ["Alice"]),
    ],
)
def test_not_selects_exactly_the_other_customers(world, owner, query, expected):  # noqa: F811
    """`not X` is everyone (not archived) that X does not select, missing values included."""
    got = sorted(c.name.split()[0] for c in segment_queryset(query, user=owner))
    assert got == expected
    positive = query.removeprefix("not ")
    assert set(got).isdisjoint(c.name.split()[0] for c in segment_queryset(positive, user=owner))


# The FilterSet: controls written as the query ------------------------------------------


def filterset(user, query_string):
    return CustomerFilterSet(
        QueryDict(query_string), queryset=Customer.objects.all(), request=SimpleNamespace(user=user)
    )


def test_controls_are_written_as_the_equivalent_query(world, owner):  # noqa: F811
    w = world
    f = filterset(
        owner,
        f"tag={w.vip.pk}&tag={w.churn.pk}&group={w.london.pk}&status={w.active.pk}"
        f"&customer_class={w.business.pk}&department={w.billing.pk}&kind=company"
        "&city=Leeds&archived=all&q=acme",
    )
    assert f.is_valid(), f.errors
    assert f.equivalent_query() == (
        '(tag:"Churn risk" or tag:vip) and group:"London Region" and status:Active and '
        "class:Business and department:Billing and kind:company and city:Leeds and "
        "archived:any and acme"
    )
    assert [c.name for c in f.qs] == ["Alice Acme"]


def test_equivalent_query_selects_what_the_controls_select(world, owner):  # noqa: F811
    """The query shown under the box, run on its own, gives the same customers."""
    w = world
    for params in [
        f"status={w.active.pk}",
        f"group={w.uk.pk}&q=tag:vip or kind:person",
        "archived=archived",
        f"tag={w.vip.pk}&q=not custom.speed>50",
        "city=leeds&q=0113 496",
    ]:
        f = filterset(owner, params)
        assert f.is_valid(), (params, f.errors)
        direct = set(f.qs.values_list("pk", flat=True))
        text = f.equivalent_query()
        alone = filterset(owner, "q=" + text.replace("&", "%26"))
        assert set(alone.qs.values_list("pk", flat=True)) == direct, (params, text)


def test_query_mentioning_archived_shows_archived_accounts(world, owner):  # noqa: F811
    assert [c.name for c in filterset(owner, "q=tag:fibre").qs] == []
    assert [c.name for c in filterset(owner, "q=tag:fibre and archived").qs] == ["Dan Dark"]
    assert [c.name for c in filterset(owner, f"tag={world.fibre.pk}&archived=all").qs] == [
        "Dan Dark"
    ]


def test_query_error_keeps_column_and_suggestion(world, owner):  # noqa: F811
    f = filterset(owner, "q=tag:vpi and status:active")
    assert not f.is_valid()
    error = f.query_error
    assert (error.message, error.position, error.suggestion) == (
        "unknown tag 'vpi' at column 5; did you mean 'vip'?",
        5,
        "vip",
    )
    assert list(f.qs) == []


def test_percent_in_a_query_error_is_shown_as_typed(world, owner):  # noqa: F811
    f = filterset(owner, "q=tag:50%")
    assert not f.is_valid()
    assert f.errors["q"] == ["unknown tag '50%' at column 5"]


def test_system_work_filters_without_a_user(world):  # noqa: F811
    """Jobs run as the system pass user None: names are not restricted."""
    f = filterset(None, "q=tag:vip")
    assert sorted(c.name for c in f.qs) == ["Alice Acme", "Bob Brown"]


# The list page ------------------------------------------------------------------------


def test_list_query_narrows_and_shows_the_equivalent_query(client, world, owner):  # noqa: F811
    login(client, owner)
    response = listed(client, q="tag:vip", status=world.active.pk)
    assert first_names(response.context["rows"]) == ["Alice"]
    assert response.context["equivalent_query"] == "status:Active and tag:vip"
    assert b"status:Active and tag:vip" in response.content
    assert response.context["save_segment_url"] == (
        "/segments/add/?query=status%3AActive+and+tag%3Avip"
    )
    assert response.context["use_query_url"] == "?q=status%3AActive+and+tag%3Avip"


def test_list_plain_search_still_searches(client, world, owner):  # noqa: F811
    response = listed(login(client, owner), q="Acme")
    assert first_names(response.context["rows"]) == ["Alice"]


def test_list_shows_error_with_position_and_fix(client, world, owner):  # noqa: F811
    login(client, owner)
    response = listed(client, q="tag:vpi and status:active", city="Leeds")
    assert response.context["rows"] == []
    content = response.content.decode()
    assert "unknown tag &#x27;vpi&#x27; at column 5; did you mean &#x27;vip&#x27;?" in content
    assert response.context["error_at"] == "vpi"
    assert response.context["error_before"] == "tag:"
    assert response.context["error_fix_url"] == "?q=tag%3Avip+and+status%3Aactive&city=Leeds"
    assert 'data-testid="query-error"' in content


def test_list_htmx_partial_carries_error_and_query(client, world, owner):  # noqa: F811
    login(client, owner)
    response = client.get(reverse("customers:list"), {"q": "tag:vip and ("}, HTTP_HX_REQUEST="true")
    assert response.templates[0].name == "customers/_customer_results.html"
    assert b"unexpected end of query at column 14; expected a term" in response.content


def test_error_context_for_unknown_field_and_quoted_value():
    err = SegmentError("unknown field 'tagg' at column 1; did you mean 'tag'?", 1, "tag")
    assert error_context("tagg:vip", err)["error_fixed_query"] == "tag:vip"
    err = SegmentError("unknown group", 7, "London Region")
    context = error_context('group:"Londn Region" and x', err)
    assert context["error_at"] == '"Londn Region"'
    assert context["error_fixed_query"] == 'group:"London Region" and x'
    assert error_context("x", None) == {}


def test_list_has_selection_and_toolbar_with_the_filter(client, world, owner):  # noqa: F811
    login(client, owner)
    response = listed(client, q="tag:vip", sort="-name")
    content = response.content.decode()
    assert 'id="select-all"' in content
    for customer in (world.alice, world.bob):
        assert f'name="ids" value="{customer.pk}"' in content
    # With nothing ticked the toolbar sends the list's filter (not its sort or page).
    assert response.context["filter_params"] == [("q", "tag:vip")]
    assert '<input type="hidden" class="filter-param" name="q" value="tag:vip">' in content
    if response.context["bulk_url"]:
        assert f'formaction="{response.context["bulk_url"]}"' in content
    if response.context["export_url"]:
        assert f'formaction="{response.context["export_url"]}"' in content


def test_missing_bulk_or_export_page_leaves_the_list_working():
    assert url_or_empty("nowhere:nothing") == ""


def test_sort_and_pages_keep_the_query(client, world, owner):  # noqa: F811
    for i in range(55):
        CustomerFactory(name=f"Many {i:02d}", service_city="Hull")
    login(client, owner)
    response = listed(client, q="city:hull", sort="name")
    content = response.content.decode()
    assert response.context["page_obj"].paginator.count == 55
    assert "?q=city%3Ahull&amp;sort=-name" in content
    assert "?q=city%3Ahull&amp;sort=name&amp;page=2" in content
    second = listed(client, q="city:hull", sort="name", page=2)
    assert first_names(second.context["rows"]) == ["Many"] * 5


def test_save_as_segment_prefills_the_form(client, world, owner):  # noqa: F811
    response = login(client, owner).get(
        reverse("segments:add"), {"query": "tag:vip and city:leeds"}
    )
    assert response.status_code == 200
    assert response.context["form"].initial["query"] == "tag:vip and city:leeds"


def test_readonly_user_sees_no_save_link(client, world, readonly):  # noqa: F811
    response = listed(login(client, readonly), q="tag:vip")
    assert response.context["save_segment_url"] == ""


# The API ------------------------------------------------------------------------------


def test_api_q_uses_the_language(api, world):  # noqa: F811
    response = api["owner"].get("/api/customers/", {"q": "tag:vip and not status:suspended"})
    assert response.status_code == 200
    assert [r["name"] for r in response.json()["results"]] == ["Alice Acme"]


@pytest.mark.parametrize(
    "query, message",
    [
        ("tag:vpi", "unknown tag 'vpi' at column 5; did you mean 'vip'?"),
        ("statsu:active", "unknown field 'statsu' at column 1; did you mean 'status'?"),
        ("tag:vip and", "unexpected end of query at column 12; expected a term"),
        ('city:"Leeds', 'unclosed quote at column 6; expected a closing "'),
    ],
)
def test_api_q_errors_are_400_with_position(api, world, query, message):  # noqa: F811
    response = api["owner"].get("/api/customers/", {"q": query})
    assert response.status_code == 400
    assert response.json() == {"q": [message]}


def test_api_controls_and_query_combine(api, world):  # noqa: F811
    response = api["owner"].get("/api/customers/", {"q": "has:phone or has:email", "city": "leeds"})
    assert sorted(r["name"] for r in response.json()["results"]) == ["Alice Acme", "Eve East"]
