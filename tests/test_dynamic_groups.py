"""Dynamic groups (ORG-5), temporary memberships, and the enter/leave history (SEG-5)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.customers.models import Customer, CustomerTag, GroupMembership
from patron.customers.services import customer_group_add, customer_groups_set
from patron.events.models import Event
from patron.groups import services as group_services
from patron.groups.dynamic import (
    dynamic_group_explain,
    dynamic_group_members,
    dynamic_group_snapshot,
    dynamic_groups_evaluate,
)
from patron.groups.models import DynamicGroupChange, DynamicGroupSnapshot
from patron.groups.schedule import memberships_expire
from patron.ops.schedule import scheduled_pass
from patron.segments import services as segment_services
from patron.segments.language import SegmentError, segment_queryset
from tests.factories import PASSWORD, CustomerFactory
from tests.test_segments_language import segment_permissions, tag, world  # noqa: F401


def first_names(customers):
    return sorted(c.name.split()[0] for c in customers)


@pytest.fixture
def vips(world, owner):  # noqa: F811
    """A dynamic group "VIP club" in the multiple-choice set Interests: tag:vip, live."""
    actor = Actor(user=owner)
    segment = segment_services.segment_create(
        actor=actor, data={"name": "VIPs", "query": "tag:vip"}
    )
    group = group_services.group_create(
        actor=actor, data={"name": "VIP club", "group_set": world.interests, "segment": segment}
    )
    return group


def test_group_term_is_live_for_a_dynamic_group(world, owner, vips):  # noqa: F811
    """`group:` on a dynamic group asks its segment now: a new tag puts the customer in."""
    assert first_names(segment_queryset('group:"VIP club"', user=owner)) == ["Alice", "Bob"]
    tag(world.eve, world.vip)
    assert first_names(segment_queryset('group:"VIP club"', user=owner)) == [
        "Alice",
        "Bob",
        "Eve",
    ]
    assert first_names(segment_queryset('not group:"VIP club"', user=owner)) == ["Carol"]
    # group.set counts a dynamic group's members as in the set.
    assert first_names(segment_queryset("group.set:interests", user=owner)) == [
        "Alice",
        "Bob",
        "Eve",
    ]


def test_dynamic_group_members_follow_the_parent_subtree(world, owner, vips):  # noqa: F811
    """A dynamic group under a static parent: `group:parent` includes the dynamic members."""
    parent = group_services.group_create(
        actor=Actor(user=owner), data={"name": "Clubs", "group_set": world.interests}
    )
    group_services.group_update(actor=Actor(user=owner), group=vips, data={"parent": parent})
    assert first_names(segment_queryset("group:clubs", user=owner)) == ["Alice", "Bob"]


@pytest.mark.parametrize(
    "change, message",
    [
        (
            "single",
            "A dynamic group cannot be in the single-choice set “Region”: its members come from "
            "a segment, which cannot promise one group per customer. Choose a multiple-choice "
            "set.",
        ),
        ("payment", "A payment group cannot be dynamic."),
    ],
)
def test_dynamic_group_rules(world, owner, vips, change, message):  # noqa: F811
    """A dynamic group must be in a multiple-choice set and cannot be a payment group."""
    data = {"group_set": world.region} if change == "single" else {"payment_group": True}
    with pytest.raises(ValidationError) as caught:
        group_services.group_update(actor=Actor(user=owner), group=vips, data=data)
    assert caught.value.message_dict["segment"] == [message]


def test_group_with_members_cannot_become_dynamic(world, owner, vips):  # noqa: F811
    with pytest.raises(ValidationError) as caught:
        group_services.group_update(
            actor=Actor(user=owner), group=world.sports, data={"segment": vips.segment}
        )
    assert "has members added by hand" in caught.value.message_dict["segment"][0]
    world.sports.refresh_from_db()
    assert world.sports.segment_id is None


def test_segment_naming_its_own_group_is_refused(world, owner, vips):  # noqa: F811
    """A segment that refers back to the dynamic group it defines would never end."""
    with pytest.raises(ValidationError) as caught:
        segment_services.segment_update(
            actor=Actor(user=owner), segment=vips.segment, data={"query": 'group:"VIP club"'}
        )
    assert "refers back to itself (VIP club → VIP club)" in caught.value.message_dict["query"][0]
    vips.segment.refresh_from_db()
    assert vips.segment.query == "tag:vip"


def test_nobody_is_added_by_hand_to_a_dynamic_group(world, owner, vips):  # noqa: F811
    with pytest.raises(ValidationError) as caught:
        customer_groups_set(actor=Actor(user=owner), customer=world.carol, groups=[vips])
    assert caught.value.message_dict == {
        "groups": [
            "“VIP club” is a dynamic group: its members are whoever its segment selects, so "
            "nobody can be added to it by hand."
        ]
    }
    assert not GroupMembership.objects.filter(group=vips).exists()


def test_segment_used_by_a_dynamic_group_cannot_be_deleted(world, owner, vips):  # noqa: F811
    with pytest.raises(ValidationError) as caught:
        segment_services.segment_delete(actor=Actor(user=owner), segment=vips.segment)
    assert caught.value.messages == [
        "The segment “VIPs” decides who is in the dynamic group “VIP club”; give the group "
        "another segment first."
    ]


def test_snapshot_freezes_and_records_the_members(world, owner, vips):  # noqa: F811
    """Acting on a dynamic group works on the members at that moment, recorded and logged."""
    ids = dynamic_group_snapshot(vips, Actor(user=owner))
    assert ids == sorted([world.alice.pk, world.bob.pk])
    tag(world.eve, world.vip)  # matches later; the snapshot does not change
    snapshot = DynamicGroupSnapshot.objects.get(group=vips)
    assert (snapshot.customer_ids, snapshot.count, snapshot.query, snapshot.actor) == (
        ids,
        2,
        "tag:vip",
        owner,
    )
    event = Event.objects.get(action="dynamic_group_snapshot")
    assert event.message == (
        f"Members of dynamic group “VIP club” frozen: 2 customers (snapshot {snapshot.pk})"
    )
    assert len(dynamic_group_snapshot(vips, Actor(user=owner))) == 3


def test_snapshot_of_a_restricted_user_holds_only_their_customers(world, owner, staff, vips):  # noqa: F811
    """A user restricted to North sees Bob only, so their snapshot is Bob only."""
    staff.restricted_groups.set([world.north])
    staff = type(staff).objects.get(pk=staff.pk)
    assert dynamic_group_snapshot(vips, Actor(user=staff)) == [world.bob.pk]
    assert first_names(dynamic_group_members(vips, user=staff)) == ["Bob"]


def test_snapshot_of_a_broken_segment_is_a_clear_error(world, owner, vips):  # noqa: F811
    world.vip.delete()
    with pytest.raises(ValidationError) as caught:
        dynamic_group_snapshot(vips, Actor(user=owner))
    assert caught.value.message_dict["segment"][0].startswith(
        "The segment of “VIP club” cannot run: unknown tag 'vip'"
    )
    assert not DynamicGroupSnapshot.objects.exists()


def test_evaluate_logs_who_entered_and_left_once(world, owner, vips):  # noqa: F811
    """The scheduler writes entered/left rows; a second pass with no change writes nothing."""
    assert dynamic_groups_evaluate() == {"entered": 2, "left": 0}
    assert dynamic_groups_evaluate() == {"entered": 0, "left": 0}
    CustomerTag.objects.filter(customer=world.bob).delete()
    tag(world.eve, world.vip)
    assert dynamic_groups_evaluate() == {"entered": 1, "left": 1}
    history = {(c.customer.name, c.kind) for c in DynamicGroupChange.objects.filter(group=vips)}
    assert history == {
        ("Alice Acme", "entered"),
        ("Bob Brown", "entered"),
        ("Bob Brown", "left"),
        ("Eve East", "entered"),
    }


def test_evaluate_skips_a_broken_segment(world, owner, vips):  # noqa: F811
    world.vip.delete()
    assert dynamic_groups_evaluate() == {"entered": 0, "left": 0}


def test_explain_a_dynamic_group_term_by_term(world, owner, vips):  # noqa: F811
    result = dynamic_group_explain(vips, world.carol, user=owner)
    assert (result["member"], result["dynamic"], result["static_membership"]) == (
        False,
        True,
        False,
    )
    assert [t["detail"] for t in result["terms"]] == ["out: no tag vip", "in: not archived"]
    result = dynamic_group_explain(vips, world.alice, user=owner)
    assert result["member"] is True
    assert [t["satisfied"] for t in result["terms"]] == [True, True]


# Temporary memberships ---------------------------------------------------------------


def test_membership_ends_after_its_last_day_and_is_logged(world, owner):  # noqa: F811
    today = timezone.localdate()
    carol = customer_group_add(
        actor=Actor(user=owner), customer=world.carol, group=world.sports, valid_until=today
    )
    membership = GroupMembership.objects.get(customer=carol, group=world.sports)
    assert membership.valid_until == today
    version = Customer.objects.get(pk=carol.pk).version
    assert memberships_expire(today=today) == 0  # the last day still counts
    assert memberships_expire(today=today + datetime.timedelta(days=1)) == 1
    assert not GroupMembership.objects.filter(pk=membership.pk).exists()
    event = Event.objects.filter(customer=carol, action="groups_changed").latest("pk")
    assert event.actor_label == "group membership scheduler"
    assert event.message == f"Groups: membership of Sports ended (valid until {today.isoformat()})"
    assert event.changes == {"groups": [["Sports"], []]}
    assert Customer.objects.get(pk=carol.pk).version == version + 1
    assert memberships_expire(today=today + datetime.timedelta(days=1)) == 0
    # Memberships without an end stay.
    assert GroupMembership.objects.filter(customer=world.alice).exists()


def test_membership_end_in_the_past_is_refused(world, owner):  # noqa: F811
    with pytest.raises(ValidationError) as caught:
        customer_group_add(
            actor=Actor(user=owner),
            customer=world.carol,
            group=world.sports,
            valid_until=timezone.localdate() - datetime.timedelta(days=1),
        )
    assert caught.value.message_dict == {
        "valid_until": ["The last day of a membership cannot be in the past."]
    }
    assert not GroupMembership.objects.filter(customer=world.carol, group=world.sports).exists()


def test_scheduler_run_ends_memberships_and_evaluates_dynamic_groups(world, owner, vips):  # noqa: F811
    GroupMembership.objects.filter(customer=world.eve).update(
        valid_until=timezone.localdate() - datetime.timedelta(days=1)
    )
    result = scheduled_pass()
    assert {k: result[k] for k in ("memberships_ended", "dynamic_entered", "dynamic_left")} == {
        "memberships_ended": 1,
        "dynamic_entered": 2,
        "dynamic_left": 0,
    }


# Pages and API -------------------------------------------------------------------------


def login(client, user):
    assert client.login(username=user.username, password=PASSWORD)
    return client


def test_group_page_shows_live_members_and_history(client, world, owner, vips):  # noqa: F811
    dynamic_groups_evaluate()
    response = login(client, owner).get(reverse("groups:detail", args=[vips.pk]))
    assert response.status_code == 200
    assert [c.name for c in response.context["members_page"]] == ["Alice Acme", "Bob Brown"]
    assert response.context["member_count"] == 2
    assert {c.customer.name for c in response.context["history"]} == {"Alice Acme", "Bob Brown"}
    assert b"Dynamic: whoever the segment" in response.content


def test_group_list_counts_dynamic_members_live(client, world, owner, vips):  # noqa: F811
    response = login(client, owner).get(reverse("groups:list"))
    row = next(cells for group, cells in response.context["rows"] if group.pk == vips.pk)
    assert row[3] == 2


def test_group_explain_page(client, world, owner, vips):  # noqa: F811
    response = login(client, owner).get(reverse("groups:explain", args=[vips.pk, world.carol.pk]))
    assert response.status_code == 200
    assert response.context["result"]["member"] is False
    assert b"no tag vip" in response.content


def test_group_form_offers_the_segment(client, world, owner, vips):  # noqa: F811
    """The group form sets the segment; a broken choice (own group) shows on the field."""
    login(client, owner)
    response = client.post(
        reverse("groups:add"),
        {
            "group_set": world.interests.pk,
            "name": "VIPs again",
            "colour": "#6f42c1",
            "position": 100,
            "segment": vips.segment.pk,
        },
    )
    assert response.status_code == 302
    created = type(vips).objects.get(name="VIPs again")
    assert created.segment == vips.segment


def test_api_group_dynamic_fields_history_snapshot_explain(api, world, owner, vips):  # noqa: F811
    client = api["owner"]
    body = client.get(f"/api/groups/{vips.pk}/").json()
    assert (body["segment"], body["is_dynamic"], body["member_count"]) == (
        vips.segment.pk,
        True,
        2,
    )
    dynamic_groups_evaluate()
    history = client.get(f"/api/groups/{vips.pk}/history/").json()["results"]
    assert sorted((h["customer_name"], h["kind"]) for h in history) == [
        ("Alice Acme", "entered"),
        ("Bob Brown", "entered"),
    ]
    snapshot = client.post(f"/api/groups/{vips.pk}/snapshot/").json()
    assert snapshot == {"count": 2, "customers": sorted([world.alice.pk, world.bob.pk])}
    explained = client.get(f"/api/groups/{vips.pk}/explain/{world.carol.pk}/").json()
    assert explained["member"] is False
    assert [t["reason"] for t in explained["terms"]] == ["no tag vip", "not archived"]
    assert client.get(f"/api/groups/{vips.pk}/explain/999999/").status_code == 404


def test_api_refuses_a_dynamic_group_in_a_single_choice_set(api, world, vips):  # noqa: F811
    response = api["owner"].post(
        "/api/groups/",
        {"name": "Bad", "group_set": world.region.pk, "segment": vips.segment.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "single-choice set" in response.json()["segment"][0]


def test_restricted_user_sees_only_their_part_of_a_dynamic_group(api, world, staff, vips):  # noqa: F811
    staff.restricted_groups.set([world.north])
    body = api["staff"].get(f"/api/groups/{vips.pk}/").json()
    assert body["member_count"] == 1
    assert api["staff"].get(f"/api/groups/{vips.pk}/explain/{world.alice.pk}/").status_code == 404


def test_list_groups_column_shows_dynamic_groups(client, world, owner, vips):  # noqa: F811
    response = login(client, owner).get(reverse("customers:list"), {"q": "alice"})
    ((customer, cells),) = response.context["rows"]
    assert "VIP club" in str(cells[4]) and "London Region" not in str(cells[4])


def test_broken_dynamic_group_in_a_query_names_the_group(world, owner, vips):  # noqa: F811
    world.vip.delete()
    with pytest.raises(SegmentError) as caught:
        list(segment_queryset('group:"VIP club"', user=owner))
    assert caught.value.message.startswith(
        "group 'VIP club' at column 7 is a dynamic group whose segment cannot run: unknown tag"
    )


def test_new_customer_matching_appears_without_any_write_to_the_group(world, owner, vips):  # noqa: F811
    newcomer = CustomerFactory(name="Zed Zero", status=world.active)
    tag(newcomer, world.vip)
    assert "Zed" in first_names(dynamic_group_members(vips))


def test_overview_segments_card_says_in_or_out(
    client,
    world,  # noqa: F811
    owner,
    vips,
    django_assert_max_num_queries,
):
    """The overview loads the card; it marks each dynamic group and segment In or Out,
    with every membership answered by one SELECT on the customer's row."""
    segment_services.segment_create(
        actor=Actor(user=owner), data={"name": "Broken later", "query": "tag:fibre"}
    )
    login(client, owner)
    overview = client.get(world.alice.get_absolute_url())
    assert reverse("segments:customer", args=[world.alice.pk]).encode() in overview.content
    world.fibre.delete()
    with django_assert_max_num_queries(12):
        response = client.get(reverse("segments:customer", args=[world.alice.pk]))
    groups = {row["item"].name: row["member"] for row in response.context["group_rows"]}
    segments = {
        row["item"].name: (row["member"], row["error"]) for row in response.context["segment_rows"]
    }
    assert groups == {"VIP club": True}
    assert segments == {
        "Broken later": (None, "unknown tag 'fibre' at column 5"),
        "VIPs": (True, ""),
    }
    assert reverse("groups:explain", args=[vips.pk, world.alice.pk]).encode() in response.content
    carol = client.get(reverse("segments:customer", args=[world.carol.pk]))
    assert [row["member"] for row in carol.context["group_rows"]] == [False]


def test_segments_card_hides_customers_out_of_reach(client, world, staff, vips):  # noqa: F811
    staff.restricted_groups.set([world.north])
    login(client, staff)
    assert client.get(reverse("segments:customer", args=[world.alice.pk])).status_code == 404


def test_schedule_command_reports_the_groups_work(world, owner, vips):  # noqa: F811
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("run_status_schedule", stdout=out)
    assert (
        "Ended 0 temporary group membership(s); dynamic groups: 2 customer(s) entered, 0 left."
        in out.getvalue()
    )


def test_overview_groups_card_lists_dynamic_groups_live(client, world, owner, vips):  # noqa: F811
    login(client, owner)
    alice = client.get(world.alice.get_absolute_url()).content.decode()
    assert 'data-testid="dynamic-groups-of-customer"' in alice
    assert reverse("groups:explain", args=[vips.pk, world.alice.pk]) in alice
    carol = client.get(world.carol.get_absolute_url()).content.decode()
    assert 'data-testid="dynamic-groups-of-customer"' not in carol
    tag(world.carol, world.vip)
    carol = client.get(world.carol.get_absolute_url()).content.decode()
    assert 'data-testid="dynamic-groups-of-customer"' in carol


def test_list_and_overview_ask_every_dynamic_group_in_one_query(client, world, owner, vips):  # noqa: F811
    """The Groups column and card cost the same queries for one dynamic group or four,
    and each customer shows exactly the dynamic groups whose segment selects them."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from patron.groups.dynamic import dynamic_groups_of

    def queries(url):
        client.get(url)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured.captured_queries)

    login(client, owner)
    urls = [reverse("customers:list"), world.alice.get_absolute_url()]
    before = [queries(url) for url in urls]
    actor = Actor(user=owner)
    for n, query in enumerate(["tag:vip and not tag:vip", "city:leeds", "not tag:vip"]):
        segment = segment_services.segment_create(
            actor=actor, data={"name": f"More {n}", "query": query}
        )
        group_services.group_create(
            actor=actor,
            data={"name": f"More club {n}", "group_set": world.interests, "segment": segment},
        )
    assert [queries(url) for url in urls] == before

    ids = [world.alice.pk, world.bob.pk, world.carol.pk]
    found = dynamic_groups_of(ids)
    for customer in (world.alice, world.bob, world.carol):
        expected = sorted(
            g.name
            for g in vips.group_set.groups.filter(segment__isnull=False)
            if dynamic_group_members(g).filter(pk=customer.pk).exists()
        )
        assert sorted(g.name for g in found.get(customer.pk, [])) == expected
    assert {g.name for g in found[world.alice.pk]} >= {"VIP club"}
    assert "VIP club" not in {g.name for g in found.get(world.carol.pk, [])}
