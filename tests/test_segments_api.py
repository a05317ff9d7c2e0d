"""Segments in the REST API: CRUD with counts, customers, explain and validate, per role."""

import pytest

from patron.core.actor import Actor
from patron.segments import services
from patron.segments.models import Segment
from tests.test_segments_language import segment_permissions, world  # noqa: F401


def save(user, name="VIPs", query="tag:vip", **extra):
    return services.segment_create(
        actor=Actor(user=user), data={"name": name, "query": query, **extra}
    )


@pytest.mark.parametrize(
    "role, expected",
    [("owner", 200), ("admin", 200), ("staff", 200), ("readonly", 200), ("anon", 401)],
)
def test_list_by_role(world, api, owner, role, expected):  # noqa: F811
    save(owner)
    response = api[role].get("/api/segments/")
    assert response.status_code == expected
    if expected == 200:
        assert [(s["name"], s["count"], s["error"]) for s in response.data["results"]] == [
            ("VIPs", 2, None)
        ]


@pytest.mark.parametrize(
    "role, expected",
    [("owner", 201), ("admin", 201), ("staff", 201), ("readonly", 403), ("anon", 401)],
)
def test_create_by_role(world, api, users, role, expected):  # noqa: F811
    """Owners, Administrators and Staff may save segments; Read-only and anonymous may not."""
    response = api[role].post(
        "/api/segments/", {"name": "Leeds", "query": "city:leeds"}, format="json"
    )
    assert response.status_code == expected
    if expected == 201:
        assert response.data["count"] == 3
        assert response.data["owner"] == users[role].username
        assert response["ETag"] == f'"{response.data["id"]}-1"'
        assert Segment.objects.get().owner == users[role]
    else:
        assert Segment.objects.count() == 0


def test_create_with_a_broken_query_is_400_on_query(world, api):  # noqa: F811
    response = api["staff"].post(
        "/api/segments/", {"name": "Bad", "query": "tag:vpi"}, format="json"
    )
    assert response.status_code == 400
    assert response.data == {"query": ["unknown tag 'vpi' at column 5; did you mean 'vip'?"]}
    assert Segment.objects.count() == 0


def test_update_with_if_match_and_staff_limits(world, api, owner, staff):  # noqa: F811
    """Staff edit their own segment; someone else's shared segment is 404 to change for them."""
    mine = save(staff, name="Mine")
    theirs = save(owner, name="Theirs")
    response = api["staff"].patch(
        f"/api/segments/{mine.pk}/",
        {"query": "tag:vip and city:york"},
        format="json",
        HTTP_IF_MATCH=f'"{mine.pk}-1"',
    )
    assert response.status_code == 200
    assert (response.data["query"], response.data["count"], response.data["version"]) == (
        "tag:vip and city:york",
        1,
        2,
    )
    stale = api["staff"].patch(
        f"/api/segments/{mine.pk}/", {"name": "X"}, format="json", HTTP_IF_MATCH=f'"{mine.pk}-1"'
    )
    assert stale.status_code == 412
    response = api["staff"].patch(f"/api/segments/{theirs.pk}/", {"name": "X"}, format="json")
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"
    assert api["staff"].delete(f"/api/segments/{theirs.pk}/").status_code == 404
    assert api["admin"].delete(f"/api/segments/{theirs.pk}/").status_code == 204
    assert list(Segment.objects.all()) == [mine]


def test_segment_count_reports_a_broken_saved_query(world, api, owner):  # noqa: F811
    segment = save(owner, query="tag:fibre")
    world.fibre.delete()
    response = api["readonly"].get(f"/api/segments/{segment.pk}/")
    assert (response.data["count"], response.data["error"]) == (
        None,
        "unknown tag 'fibre' at column 5",
    )


def test_customers_of_a_segment_are_paged(world, api, owner):  # noqa: F811
    segment = save(owner, query="city:leeds")
    response = api["readonly"].get(f"/api/segments/{segment.pk}/customers/?page_size=2")
    assert response.status_code == 200
    first = [(c["id"], c["name"]) for c in response.data["results"]]
    assert first == [(world.eve.pk, "Eve East"), (world.carol.pk, "Carol Clark")]
    following = api["readonly"].get(response.data["next"])
    assert [c["name"] for c in following.data["results"]] == ["Alice Acme"]
    assert following.data["next"] is None


def test_restricted_user_gets_only_their_customers(world, api, owner, staff):  # noqa: F811
    """Through the API too, a restricted user's segment holds only their groups' customers."""
    segment = save(owner, query="tag:vip")
    staff.restricted_groups.set([world.north])
    response = api["staff"].get(f"/api/segments/{segment.pk}/customers/")
    assert [c["name"] for c in response.data["results"]] == ["Bob Brown"]
    assert api["staff"].get(f"/api/segments/{segment.pk}/").data["count"] == 1
    hidden = api["staff"].get(f"/api/segments/{segment.pk}/explain/{world.alice.pk}/")
    assert hidden.status_code == 404


def test_explain_endpoint(world, api, owner):  # noqa: F811
    segment = save(owner, query='tag:vip and not tag:"churn risk"')
    response = api["readonly"].get(f"/api/segments/{segment.pk}/explain/{world.bob.pk}/")
    assert response.status_code == 200
    assert response.data == {
        "customer": world.bob.pk,
        "matches": False,
        "terms": [
            {
                "term": "tag:vip",
                "label": "tag vip",
                "negated": False,
                "matched": True,
                "satisfied": True,
                "detail": "in: tag vip",
            },
            {
                "term": 'tag:"churn risk"',
                "label": "not tag churn risk",
                "negated": True,
                "matched": True,
                "satisfied": False,
                "detail": "out: tag churn risk, excluded by 'not'",
            },
            {
                "term": "archived:false",
                "label": "not archived",
                "negated": False,
                "matched": True,
                "satisfied": True,
                "detail": "in: not archived",
            },
        ],
    }
    assert api["anon"].get(f"/api/segments/{segment.pk}/explain/{world.bob.pk}/").status_code == 401


@pytest.mark.parametrize(
    "role, expected",
    [("owner", 200), ("admin", 200), ("staff", 200), ("readonly", 200), ("anon", 401)],
)
def test_validate_counts_without_saving(world, api, role, expected):  # noqa: F811
    """Everyone who may use segments can check and count a query; nothing is saved."""
    response = api[role].post(
        "/api/segments/validate/", {"query": "tag:vip or city:leeds"}, format="json"
    )
    assert response.status_code == expected
    if expected == 200:
        assert response.data == {"count": 4}
    assert Segment.objects.count() == 0


@pytest.mark.parametrize(
    "query, body",
    [
        (
            "tag:vpi",
            {
                "query": ["unknown tag 'vpi' at column 5; did you mean 'vip'?"],
                "position": 5,
                "suggestion": "vip",
            },
        ),
        (
            "tag:vip and (city:leeds",
            {
                "query": ["unexpected end of query at column 24; expected ')'"],
                "position": 24,
                "suggestion": None,
            },
        ),
        (
            "cty:leeds",
            {
                "query": ["unknown field 'cty' at column 1; did you mean 'city'?"],
                "position": 1,
                "suggestion": "city",
            },
        ),
    ],
)
def test_validate_explains_a_broken_query(world, api, query, body):  # noqa: F811
    response = api["readonly"].post("/api/segments/validate/", {"query": query}, format="json")
    assert response.status_code == 400
    assert response.data == body


def test_validate_requires_a_query(world, api):  # noqa: F811
    response = api["staff"].post("/api/segments/validate/", {}, format="json")
    assert response.status_code == 400
    assert response.data == {"query": ["This field is required."]}
