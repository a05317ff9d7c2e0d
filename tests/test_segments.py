"""Saved segments: services, pages, explain and the live counts."""

import pytest
from django.urls import reverse

from patron.core.actor import Actor
from patron.core.errors import ConflictError, PermissionDenied, ValidationError
from patron.events.models import Event
from patron.segments import services
from patron.segments.models import Segment
from tests.factories import PASSWORD
from tests.test_segments_language import segment_permissions, world  # noqa: F401


def save(user, name="VIPs", query="tag:vip", **extra):
    return services.segment_create(
        actor=Actor(user=user), data={"name": name, "query": query, **extra}
    )


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_create_saves_query_owner_and_event(world, staff):  # noqa: F811
    """Staff may save a segment; they own it and the event log records it."""
    segment = save(staff, description="Our best customers")
    assert (segment.name, segment.query, segment.owner, segment.shared, segment.version) == (
        "VIPs",
        "tag:vip",
        staff,
        True,
        1,
    )
    event = Event.objects.get(object_id=segment.pk, action="created")
    assert event.message == "Created segment VIPs"


@pytest.mark.parametrize(
    "query, message",
    [
        ("tag:vip and", "unexpected end of query at column 12; expected a term"),
        ("tag:vpi", "unknown tag 'vpi' at column 5; did you mean 'vip'?"),
        ("   ", "Enter a query, for example tag:vip."),
    ],
)
def test_broken_query_is_refused_on_the_query_field(world, owner, query, message):  # noqa: F811
    """A query that does not parse or names an unknown tag is refused; nothing is saved."""
    with pytest.raises(ValidationError) as caught:
        save(owner, query=query)
    assert caught.value.message_dict == {"query": [message]}
    assert Segment.objects.count() == 0


def test_names_are_unique_in_any_case(world, owner, staff):  # noqa: F811
    save(owner, name="VIPs")
    with pytest.raises(ValidationError) as caught:
        save(staff, name="vips", query="tag:fibre")
    assert caught.value.message_dict == {"name": ["A segment named “VIPs” already exists."]}
    assert Segment.objects.count() == 1


def test_readonly_cannot_save(world, readonly):  # noqa: F811
    """Read-only users use segments but cannot save one."""
    with pytest.raises(PermissionDenied):
        save(readonly)
    assert Segment.objects.count() == 0


def test_staff_cannot_change_a_segment_someone_else_shared(world, owner, staff, admin_user):  # noqa: F811
    """Staff change only their own segments; Administrators manage shared ones too."""
    segment = save(owner)
    with pytest.raises(PermissionDenied):
        services.segment_update(actor=Actor(user=staff), segment=segment, data={"name": "Mine"})
    with pytest.raises(PermissionDenied):
        services.segment_delete(actor=Actor(user=staff), segment=segment)
    segment.refresh_from_db()
    assert (segment.name, segment.version) == ("VIPs", 1)
    updated = services.segment_update(
        actor=Actor(user=admin_user), segment=segment, data={"query": "tag:vip or tag:fibre"}
    )
    assert (updated.query, updated.version) == ("tag:vip or tag:fibre", 2)


def test_update_refuses_a_stale_version_and_a_broken_query(world, staff):  # noqa: F811
    segment = save(staff)
    with pytest.raises(ConflictError):
        services.segment_update(
            actor=Actor(user=staff), segment=segment, data={"name": "X"}, expected_version=7
        )
    with pytest.raises(ValidationError) as caught:
        services.segment_update(
            actor=Actor(user=staff), segment=segment, data={"query": "status:actve"}
        )
    assert caught.value.message_dict == {
        "query": ["unknown status 'actve' at column 8; did you mean 'Active'?"]
    }
    segment.refresh_from_db()
    assert (segment.name, segment.query, segment.version) == ("VIPs", "tag:vip", 1)


def test_private_segments_are_only_their_owners(world, owner, staff, readonly):  # noqa: F811
    """An unshared segment is invisible to everyone else."""
    mine = save(staff, name="My list", shared=False)
    shared = save(owner, name="Everyone's")
    assert list(Segment.objects.restrict(staff)) == [shared, mine]
    assert list(Segment.objects.restrict(readonly)) == [shared]
    assert list(Segment.objects.restrict(owner)) == [shared]


def test_list_page_shows_live_counts(world, client, staff):  # noqa: F811
    """The list shows each segment with its count now, or its error if a name went away."""
    save(staff, name="VIPs", query="tag:vip")
    broken = save(staff, name="Fibre", query="tag:fibre archived:any")
    world.fibre.delete()
    response = login(client, staff).get(reverse("segments:list"))
    assert response.status_code == 200
    rows = {obj.name: obj for obj, _ in response.context["rows"]}
    assert (rows["VIPs"].live_count, rows["VIPs"].query_error) == (2, "")
    assert rows["Fibre"].live_count is None
    assert rows["Fibre"].query_error == "unknown tag 'fibre' at column 5"
    html = response.content.decode()
    assert f'href="{reverse("segments:detail", args=[broken.pk])}"' in html
    assert "Query error" in html


def test_list_page_counts_are_one_count_each(world, client, staff, django_assert_max_num_queries):  # noqa: F811
    """Names are read once for the page and each segment's count is one query."""
    for i in range(5):
        save(staff, name=f"S{i}", query=f"tag:vip and city:leeds and status:active or nobody-{i}")
    login(client, staff).get(reverse("segments:list"))
    # session+user, permissions, segments count+page, tags, statuses, 5 counts, messages.
    with django_assert_max_num_queries(14):
        response = client.get(reverse("segments:list"))
    assert [obj.live_count for obj, _ in response.context["rows"]] == [1, 1, 1, 1, 1]


def test_detail_page_lists_matching_customers(world, client, owner, readonly):  # noqa: F811
    """The detail page shows the count and the matching customers, linked to their overview."""
    segment = save(owner, name="Leeds", query="city:leeds")
    response = login(client, readonly).get(reverse("segments:detail", args=[segment.pk]))
    assert response.status_code == 200
    assert [c.name for c in response.context["customers"]] == [
        "Alice Acme",
        "Carol Clark",
        "Eve East",
    ]
    assert response.context["segment"].live_count == 3
    assert f'href="{world.alice.get_absolute_url()}"' in response.content.decode()
    assert response.context["can_change"] is False


def test_detail_of_a_private_segment_of_someone_else_is_404(world, client, owner, staff):  # noqa: F811
    segment = save(owner, name="Mine", shared=False)
    response = login(client, staff).get(reverse("segments:detail", args=[segment.pk]))
    assert response.status_code == 404


def test_add_page_creates_and_refuses_a_broken_query(world, client, staff):  # noqa: F811
    """The form shows the parse error on the query field and saves nothing."""
    login(client, staff)
    response = client.post(
        reverse("segments:add"), {"name": "VIPs", "query": "tag:vip or", "shared": "on"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "query": ["unexpected end of query at column 11; expected a term"]
    }
    assert Segment.objects.count() == 0
    response = client.post(
        reverse("segments:add"), {"name": "VIPs", "query": "tag:vip", "shared": "on"}
    )
    segment = Segment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("segments:detail", args=[segment.pk])
    assert segment.owner == staff


def test_readonly_cannot_open_the_add_page(world, client, readonly):  # noqa: F811
    response = login(client, readonly).post(
        reverse("segments:add"), {"name": "VIPs", "query": "tag:vip"}
    )
    assert response.status_code == 403
    assert Segment.objects.count() == 0


def test_edit_and_delete_pages(world, client, staff):  # noqa: F811
    segment = save(staff)
    login(client, staff)
    response = client.post(
        reverse("segments:edit", args=[segment.pk]),
        {"name": "VIPs in Leeds", "query": "tag:vip city:leeds", "version": 1, "shared": "on"},
    )
    assert response.status_code == 302
    segment.refresh_from_db()
    assert (segment.name, segment.query, segment.version) == (
        "VIPs in Leeds",
        "tag:vip city:leeds",
        2,
    )
    response = client.post(reverse("segments:delete", args=[segment.pk]))
    assert response.status_code == 302
    assert Segment.objects.count() == 0


def test_preview_counts_or_explains_the_error(world, client, readonly):  # noqa: F811
    login(client, readonly)
    response = client.get(reverse("segments:preview"), {"query": "tag:vip"})
    assert response.context["count"] == 2
    assert 'data-preview-count="2"' in response.content.decode()
    response = client.get(reverse("segments:preview"), {"query": "tag:vpi"})
    assert response.context["error"].message == "unknown tag 'vpi' at column 5; did you mean 'vip'?"


def test_explain_partial_says_in_and_out(world, client, owner, staff):  # noqa: F811
    """The explain partial (for the customer overview) lists each term as in or out."""
    segment = save(owner, name="Active VIPs", query="tag:vip and status:active")
    login(client, staff)
    url = reverse("segments:explain", args=[segment.pk, world.bob.pk])
    response = client.get(url, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "segments/_explain.html"
    assert [str(r) for r in response.context["results"]] == [
        "in: tag vip",
        "out: status is Suspended, needs active",
        "in: not archived",
    ]
    html = response.content.decode()
    assert 'data-explain-matches="false"' in html
    full = client.get(url)
    assert full.templates[0].name == "segments/explain.html"


def test_explain_page_of_a_hidden_customer_is_404(world, client, owner, staff):  # noqa: F811
    """A restricted user cannot explain a customer outside their groups."""
    segment = save(owner, name="Active VIPs", query="tag:vip")
    staff.restricted_groups.set([world.north])
    login(client, staff)
    assert (
        client.get(reverse("segments:explain", args=[segment.pk, world.alice.pk])).status_code
        == 404
    )
    assert (
        client.get(reverse("segments:explain", args=[segment.pk, world.bob.pk])).status_code == 200
    )


def test_restricted_user_counts_only_their_customers(world, client, owner, staff):  # noqa: F811
    """Counts and samples of a saved segment cover only what the viewer may see."""
    segment = save(owner, name="VIPs", query="tag:vip")
    staff.restricted_groups.set([world.north])
    response = login(client, staff).get(reverse("segments:detail", args=[segment.pk]))
    assert response.context["segment"].live_count == 1
    assert [c.name for c in response.context["customers"]] == ["Bob Brown"]
