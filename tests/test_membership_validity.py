"""Temporary memberships (ORG-5): a group from a later day and/or until a day.

A membership that starts later waits as a `ScheduledMembership` and counts
nowhere until the scheduler starts it on its first day; the last day can be
changed or cleared; every step is logged on the customer.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.customers import services
from patron.customers.models import Customer, GroupMembership, ScheduledMembership
from patron.events.models import Event
from patron.groups import services as group_services
from patron.groups.models import GroupSet
from patron.groups.schedule import groups_schedule_run, scheduled_memberships_start
from tests.factories import CustomerFactory, GroupFactory

pytestmark = pytest.mark.django_db

DAY = datetime.timedelta(days=1)


@pytest.fixture
def today():
    return timezone.localdate()


@pytest.fixture
def promo(db):
    promotions = GroupSet.objects.create(name="Promotions", single_choice=False)
    return GroupFactory(group_set=promotions, name="Promo 30")


@pytest.fixture
def plans(db):
    """A single-choice set with two groups."""
    plan_set = GroupSet.objects.create(name="Plan", single_choice=True)
    return GroupFactory(group_set=plan_set, name="Basic"), GroupFactory(
        group_set=plan_set, name="Premium"
    )


@pytest.fixture
def customer(db):
    return CustomerFactory(name="Ada Lovelace")


def group_events(customer):
    return list(
        Event.objects.filter(customer=customer, action="groups_changed")
        .order_by("pk")
        .values_list("message", flat=True)
    )


# Services ----------------------------------------------------------------------------


def test_future_start_is_scheduled_and_counts_nowhere(actor, customer, promo, today):
    """A later first day keeps the customer out of the group (lists, segments,
    restrictions all read GroupMembership) and logs the plan on the customer."""
    services.customer_group_add(
        actor=actor,
        customer=customer,
        group=promo,
        valid_from=today + 2 * DAY,
        valid_until=today + 30 * DAY,
    )
    assert not GroupMembership.objects.filter(customer=customer).exists()
    assert list(Customer.objects.filter(groups=promo)) == []
    scheduled = ScheduledMembership.objects.get(customer=customer)
    assert (scheduled.group, scheduled.valid_from, scheduled.valid_until) == (
        promo,
        today + 2 * DAY,
        today + 30 * DAY,
    )
    assert scheduled.created_by_label == actor.label
    assert group_events(customer) == [
        f"Groups: scheduled to join Promo 30 on {(today + 2 * DAY).isoformat()} "
        f"(until {(today + 30 * DAY).isoformat()})"
    ]


@pytest.mark.parametrize("offset", [None, 0, -3])
def test_empty_today_or_past_start_means_now(actor, customer, promo, today, offset):
    """No first day, today or an earlier day: a normal membership straight away."""
    valid_from = None if offset is None else today + offset * DAY
    services.customer_group_add(
        actor=actor, customer=customer, group=promo, valid_from=valid_from, valid_until=today
    )
    membership = GroupMembership.objects.get(customer=customer)
    assert (membership.group, membership.valid_until) == (promo, today)
    assert not ScheduledMembership.objects.exists()
    assert group_events(customer) == [f"Groups: added Promo 30 (until {today.isoformat()})"]


@pytest.mark.parametrize(
    ("start", "end", "errors"),
    [
        (
            5,
            4,
            {"valid_until": ["The last day ({end}) cannot be before the first day ({start})."]},
        ),
        (None, -1, {"valid_until": ["The last day of a membership cannot be in the past."]}),
        (-5, -1, {"valid_until": ["The last day of a membership cannot be in the past."]}),
    ],
    ids=["until-before-from", "until-in-the-past", "both-in-the-past"],
)
def test_bad_dates_are_refused_by_field(actor, customer, promo, today, start, end, errors):
    start_day = None if start is None else today + start * DAY
    end_day = today + end * DAY
    with pytest.raises(ValidationError) as caught:
        services.customer_group_add(
            actor=actor, customer=customer, group=promo, valid_from=start_day, valid_until=end_day
        )
    expected = {
        k: [m.format(end=end_day.isoformat(), start=start_day and start_day.isoformat()) for m in v]
        for k, v in errors.items()
    }
    assert caught.value.message_dict == expected
    assert not GroupMembership.objects.filter(customer=customer).exists()
    assert not ScheduledMembership.objects.exists()
    assert group_events(customer) == []


def test_scheduling_refuses_a_certain_single_choice_clash(actor, customer, plans, today):
    """Holding Basic with no end, Premium of the same single-choice set cannot be
    scheduled; when Basic ends before the first day, it can."""
    basic, premium = plans
    services.customer_group_add(actor=actor, customer=customer, group=basic)
    with pytest.raises(ValidationError) as caught:
        services.customer_group_add(
            actor=actor, customer=customer, group=premium, valid_from=today + 10 * DAY
        )
    assert caught.value.message_dict == {
        "groups": [
            "Ada Lovelace is already in “Basic” of the single-choice set “Plan”; "
            "remove it before adding “Premium”."
        ]
    }
    assert not ScheduledMembership.objects.exists()
    services.customer_group_validity_set(
        actor=actor, customer=customer, group=basic, valid_until=today + 9 * DAY
    )
    services.customer_group_add(
        actor=actor, customer=customer, group=premium, valid_from=today + 10 * DAY
    )
    assert ScheduledMembership.objects.get().group == premium


def test_second_schedule_for_the_same_group_is_refused(actor, customer, promo, today):
    services.customer_group_add(
        actor=actor, customer=customer, group=promo, valid_from=today + 3 * DAY
    )
    with pytest.raises(ValidationError) as caught:
        services.customer_group_add(
            actor=actor, customer=customer, group=promo, valid_from=today + 5 * DAY
        )
    assert caught.value.message_dict == {
        "valid_from": [
            f"Ada Lovelace is already scheduled to join “Promo 30” on "
            f"{(today + 3 * DAY).isoformat()}; cancel that first."
        ]
    }
    assert ScheduledMembership.objects.count() == 1


def test_archived_and_dynamic_groups_cannot_be_scheduled(actor, customer, promo, today):
    group_services.group_archive(actor=actor, group=promo, archived=True)
    promo.refresh_from_db()
    with pytest.raises(ValidationError) as caught:
        services.customer_group_add(
            actor=actor, customer=customer, group=promo, valid_from=today + DAY
        )
    assert caught.value.message_dict == {
        "groups": ["“Promo 30” is archived and cannot be given to customers."]
    }
    assert not ScheduledMembership.objects.exists()


def test_readonly_user_cannot_schedule_and_nothing_changes(readonly, customer, promo, today):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.customer_group_add(
            actor=Actor(user=readonly),
            customer=customer,
            group=promo,
            valid_from=today + DAY,
        )
    assert not ScheduledMembership.objects.exists()
    assert group_events(customer) == []


def test_cancel_deletes_the_scheduled_membership_and_logs(actor, customer, promo, today):
    scheduled = services.customer_group_schedule(
        actor=actor, customer=customer, group=promo, valid_from=today + DAY
    )
    version = Customer.objects.get(pk=customer.pk).version
    services.customer_group_schedule_cancel(actor=actor, scheduled=scheduled)
    assert not ScheduledMembership.objects.exists()
    assert Customer.objects.get(pk=customer.pk).version == version + 1
    assert group_events(customer)[-1] == (
        f"Groups: cancelled joining Promo 30 on {(today + DAY).isoformat()}"
    )
    with pytest.raises(ValidationError) as caught:
        services.customer_group_schedule_cancel(actor=actor, scheduled=scheduled)
    assert "already started or been cancelled" in caught.value.messages[0]


def test_validity_change_and_clear_are_logged_before_after(actor, customer, promo, today):
    services.customer_group_add(actor=actor, customer=customer, group=promo)
    end = today + 10 * DAY
    services.customer_group_validity_set(
        actor=actor, customer=customer, group=promo, valid_until=end
    )
    assert GroupMembership.objects.get(customer=customer).valid_until == end
    event = Event.objects.filter(customer=customer).latest("pk")
    assert event.message == f"Groups: Promo 30 until no end -> {end.isoformat()}"
    assert event.changes == {"valid_until (Promo 30)": [None, end.isoformat()]}
    services.customer_group_validity_set(
        actor=actor, customer=customer, group=promo, valid_until=None
    )
    assert GroupMembership.objects.get(customer=customer).valid_until is None
    event = Event.objects.filter(customer=customer).latest("pk")
    assert event.changes == {"valid_until (Promo 30)": [end.isoformat(), None]}
    with pytest.raises(ValidationError) as caught:
        services.customer_group_validity_set(
            actor=actor, customer=customer, group=promo, valid_until=today - DAY
        )
    assert caught.value.message_dict == {
        "valid_until": ["The last day of a membership cannot be in the past."]
    }
    assert GroupMembership.objects.get(customer=customer).valid_until is None


# Scheduler ----------------------------------------------------------------------------


def test_scheduler_starts_on_the_first_day_and_ends_after_the_last(actor, customer, promo, today):
    start, end = today + 2 * DAY, today + 4 * DAY
    services.customer_group_add(
        actor=actor, customer=customer, group=promo, valid_from=start, valid_until=end
    )
    assert scheduled_memberships_start(today=start - DAY) == 0
    assert not GroupMembership.objects.exists()

    result = groups_schedule_run(today=start)
    assert result["memberships_started"] == 1
    membership = GroupMembership.objects.get(customer=customer)
    assert (membership.group, membership.valid_until) == (promo, end)
    assert not ScheduledMembership.objects.exists()
    event = Event.objects.filter(customer=customer).latest("pk")
    assert event.actor_label == "group membership scheduler"
    assert event.message == (
        f"Groups: joined Promo 30 (scheduled from {start.isoformat()} by {actor.label}, "
        f"until {end.isoformat()})"
    )
    assert event.changes == {"groups": [[], ["Promo 30"]]}

    # A second run the same day changes nothing.
    events_before = Event.objects.count()
    assert groups_schedule_run(today=start)["memberships_started"] == 0
    assert Event.objects.count() == events_before

    assert groups_schedule_run(today=end)["memberships_ended"] == 0
    assert groups_schedule_run(today=end + DAY)["memberships_ended"] == 1
    assert not GroupMembership.objects.exists()


def test_single_choice_conflict_at_start_is_recorded_not_raised(
    actor, customer, plans, promo, today
):
    """Put in Basic after Premium was scheduled: the start fails with a reason on the
    scheduled row and on the customer; other due memberships still start."""
    basic, premium = plans
    other = CustomerFactory(name="Grace Hopper")
    services.customer_group_add(
        actor=actor, customer=customer, group=premium, valid_from=today + DAY
    )
    services.customer_group_add(actor=actor, customer=other, group=promo, valid_from=today + DAY)
    services.customer_group_add(actor=actor, customer=customer, group=basic)

    assert scheduled_memberships_start(today=today + DAY) == 1
    assert list(customer.groups.all()) == [basic]
    assert list(other.groups.all()) == [promo]
    failed = ScheduledMembership.objects.get(customer=customer)
    assert failed.failure == (
        "Ada Lovelace is already in “Basic” of the single-choice set “Plan”; "
        "remove it before adding “Premium”."
    )
    assert group_events(customer)[-1] == (
        f"Groups: could not join Premium as scheduled on {(today + DAY).isoformat()}: "
        f"{failed.failure}"
    )
    # Not retried (and not logged again) on the next pass.
    events_before = Event.objects.count()
    assert scheduled_memberships_start(today=today + 2 * DAY) == 0
    assert Event.objects.count() == events_before
    # Cancelling clears it.
    services.customer_group_schedule_cancel(actor=actor, scheduled=failed)
    assert not ScheduledMembership.objects.exists()


def test_a_membership_ending_the_day_before_frees_the_single_choice_set(
    actor, customer, plans, today
):
    basic, premium = plans
    services.customer_group_add(actor=actor, customer=customer, group=basic, valid_until=today)
    services.customer_group_add(
        actor=actor, customer=customer, group=premium, valid_from=today + DAY
    )
    result = groups_schedule_run(today=today + DAY)
    assert (result["memberships_ended"], result["memberships_started"]) == (1, 1)
    assert list(customer.groups.all()) == [premium]


def test_archived_or_deleted_group_at_start_is_a_failure(actor, customer, today):
    promotions = GroupSet.objects.create(name="Promotions", single_choice=False)
    summer = GroupFactory(group_set=promotions, name="Summer")
    winter = GroupFactory(group_set=promotions, name="Winter")
    for group in (summer, winter):
        services.customer_group_add(
            actor=actor, customer=customer, group=group, valid_from=today + DAY
        )
    group_services.group_archive(actor=actor, group=summer, archived=True)
    group_services.group_delete(actor=actor, group=winter)

    assert scheduled_memberships_start(today=today + DAY) == 0
    assert not GroupMembership.objects.exists()
    failures = dict(ScheduledMembership.objects.values_list("group_name", "failure"))
    assert failures == {
        "Summer": "“Summer” is archived and cannot be given to customers.",
        "Winter": "The group “Winter” was deleted.",
    }


# Overview card ------------------------------------------------------------------------


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


def test_card_adds_a_scheduled_membership_and_cancels_it(owner_client, customer, promo, today):
    start, end = today + 5 * DAY, today + 35 * DAY
    response = owner_client.post(
        reverse("customers:group_add", args=[customer.pk]),
        {"name": "promo 30", "valid_from": start.isoformat(), "valid_until": end.isoformat()},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "customer-changed"
    text = " ".join(strip_tags(response.content.decode()).split())
    # dates on the page in the one display format (6 Dec 2026)
    assert f"Pending joins Promo 30 on {shown(start)} (until {shown(end)})" in text
    assert not GroupMembership.objects.exists()
    scheduled = ScheduledMembership.objects.get()

    response = owner_client.post(
        reverse("customers:group_schedule_cancel", args=[customer.pk]),
        {"scheduled": scheduled.pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "joins <strong>" not in response.content.decode()
    assert not ScheduledMembership.objects.exists()

    # Cancelling again (an old tab) is a message on the card.
    response = owner_client.post(
        reverse("customers:group_schedule_cancel", args=[customer.pk]),
        {"scheduled": scheduled.pk},
        HTTP_HX_REQUEST="true",
    )
    assert "already started or been cancelled" in response.content.decode()


def test_card_shows_until_and_edits_it(owner_client, actor, customer, promo, today):
    end = today + 7 * DAY
    response = owner_client.post(
        reverse("customers:group_add", args=[customer.pk]),
        {"name": "Promo 30", "valid_until": end.isoformat()},
        HTTP_HX_REQUEST="true",
    )
    assert f"until {shown(end)}" in response.content.decode()
    later = today + 14 * DAY
    response = owner_client.post(
        reverse("customers:group_validity", args=[customer.pk]),
        {"group": promo.pk, "valid_until": later.isoformat()},
        HTTP_HX_REQUEST="true",
    )
    assert f"until {shown(later)}" in response.content.decode()
    assert GroupMembership.objects.get().valid_until == later
    response = owner_client.post(
        reverse("customers:group_validity", args=[customer.pk]),
        {"group": promo.pk, "valid_until": ""},
        HTTP_HX_REQUEST="true",
    )
    assert 'data-testid="membership-until"' not in response.content.decode()
    assert GroupMembership.objects.get().valid_until is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"valid_from": "2026-13-45"}, "Enter the From date as a date, e.g. 2026-12-31."),
        ({"valid_until": "soon"}, "Enter the Until date as a date, e.g. 2026-12-31."),
        (
            {"valid_from": "2099-02-01", "valid_until": "2099-01-01"},
            "The last day (2099-01-01) cannot be before the first day (2099-02-01).",
        ),
        ({"valid_until": "2000-01-01"}, "The last day of a membership cannot be in the past."),
    ],
    ids=["bad-from", "bad-until", "until-before-from", "until-in-the-past"],
)
def test_card_bad_dates_are_clear_messages(owner_client, customer, promo, data, message):
    response = owner_client.post(
        reverse("customers:group_add", args=[customer.pk]),
        {"name": "Promo 30", **data},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response.context["card_error"] == message
    assert "is-invalid" in response.content.decode()
    assert not GroupMembership.objects.exists()
    assert not ScheduledMembership.objects.exists()


def test_card_shows_a_failed_start(owner_client, actor, customer, plans, today):
    basic, premium = plans
    services.customer_group_add(
        actor=actor, customer=customer, group=premium, valid_from=today + DAY
    )
    services.customer_group_add(actor=actor, customer=customer, group=basic)
    scheduled_memberships_start(today=today + DAY)
    html = owner_client.get(reverse("customers:detail", args=[customer.pk])).content.decode()
    assert "Not started" in html
    assert "remove it before adding “Premium”" in html


def test_readonly_card_post_changes_nothing(client, readonly, actor, customer, promo, today):
    scheduled = services.customer_group_schedule(
        actor=actor, customer=customer, group=promo, valid_from=today + DAY
    )
    client.force_login(readonly)
    response = client.post(
        reverse("customers:group_schedule_cancel", args=[customer.pk]),
        {"scheduled": scheduled.pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code in (403, 404)
    assert ScheduledMembership.objects.filter(pk=scheduled.pk).exists()


# API ----------------------------------------------------------------------------------


def memberships_url(customer, *rest):
    return "/".join([f"/api/customers/{customer.pk}/memberships", *map(str, rest)]) + "/"


def test_api_adds_now_and_later_and_lists_both(api, customer, promo, plans, today):
    basic, _ = plans
    end = today + 30 * DAY
    response = api["staff"].post(
        memberships_url(customer),
        {"group": basic.pk, "valid_until": end.isoformat()},
        format="json",
    )
    assert response.status_code == 201, response.json()
    start = today + 3 * DAY
    response = api["staff"].post(
        memberships_url(customer),
        {"group": promo.pk, "valid_from": start.isoformat(), "valid_until": end.isoformat()},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = api["readonly"].get(memberships_url(customer)).json()
    assert body["memberships"] == [
        {
            "group": basic.pk,
            "group_name": "Basic",
            "group_set": basic.group_set_id,
            "valid_from": today.isoformat(),
            "valid_until": end.isoformat(),
        }
    ]
    [scheduled] = body["scheduled"]
    assert {k: scheduled[k] for k in ("group", "group_name", "valid_from", "valid_until")} == {
        "group": promo.pk,
        "group_name": "Promo 30",
        "valid_from": start.isoformat(),
        "valid_until": end.isoformat(),
    }
    assert scheduled["failure"] == ""
    assert scheduled["created_by_label"]


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({}, {"group": ["This field is required."]}),
        ({"group": 999999}, {"group": ['Invalid pk "999999" - object does not exist.']}),
        (
            {"valid_until": "31/12/2099"},
            {
                "valid_until": [
                    "Date has wrong format. Use one of these formats instead: YYYY-MM-DD."
                ]
            },
        ),
        (
            {"valid_from": "2099-02-01", "valid_until": "2099-01-01"},
            {
                "valid_until": [
                    "The last day (2099-01-01) cannot be before the first day (2099-02-01)."
                ]
            },
        ),
        (
            {"valid_until": "2000-01-01"},
            {"valid_until": ["The last day of a membership cannot be in the past."]},
        ),
    ],
    ids=["no-group", "unknown-group", "bad-date", "until-before-from", "past-until"],
)
def test_api_bad_input_is_a_field_keyed_400(api, customer, promo, payload, errors):
    payload = {"group": promo.pk, **payload} if payload else payload
    response = api["staff"].post(memberships_url(customer), payload, format="json")
    assert response.status_code == 400
    assert response.json() == errors
    assert not GroupMembership.objects.exists()
    assert not ScheduledMembership.objects.exists()


def test_api_group_rule_errors_are_keyed_by_group(api, actor, customer, plans):
    basic, premium = plans
    services.customer_group_add(actor=actor, customer=customer, group=basic)
    response = api["staff"].post(memberships_url(customer), {"group": premium.pk}, format="json")
    assert response.status_code == 400
    assert list(response.json()) == ["group"]
    assert list(customer.groups.all()) == [basic]


def test_api_patch_and_delete_a_membership(api, actor, customer, promo, today):
    services.customer_group_add(actor=actor, customer=customer, group=promo)
    end = today + 9 * DAY
    response = api["staff"].patch(
        memberships_url(customer, promo.pk), {"valid_until": end.isoformat()}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json()["valid_until"] == end.isoformat()
    response = api["staff"].patch(
        memberships_url(customer, promo.pk), {"valid_until": "2000-01-01"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "valid_until": ["The last day of a membership cannot be in the past."]
    }
    response = api["staff"].patch(
        memberships_url(customer, promo.pk), {"valid_until": None}, format="json"
    )
    assert response.json()["valid_until"] is None
    assert (
        api["readonly"]
        .patch(memberships_url(customer, promo.pk), {"valid_until": end.isoformat()}, format="json")
        .status_code
        == 403
    )
    assert GroupMembership.objects.get().valid_until is None
    assert api["staff"].delete(memberships_url(customer, promo.pk)).status_code == 204
    assert not GroupMembership.objects.exists()
    assert api["staff"].delete(memberships_url(customer, promo.pk)).status_code == 404


def test_api_cancels_a_scheduled_membership(api, actor, customer, promo, today):
    scheduled = services.customer_group_schedule(
        actor=actor, customer=customer, group=promo, valid_from=today + DAY
    )
    url = f"/api/customers/{customer.pk}/scheduled-memberships/{scheduled.pk}/"
    assert api["readonly"].delete(url).status_code == 403
    assert (
        api["readonly"]
        .post(memberships_url(customer), {"group": promo.pk}, format="json")
        .status_code
        == 403
    )
    assert ScheduledMembership.objects.exists()
    assert api["staff"].delete(url).status_code == 204
    assert not ScheduledMembership.objects.exists()
    assert group_events(customer)[-1].startswith("Groups: cancelled joining Promo 30")
    assert api["staff"].delete(url).status_code == 404


def test_api_restricted_user_gets_404_outside_their_groups(api, staff, actor, promo, today):
    region = GroupSet.objects.create(name="Region", single_choice=False)
    north, south = (
        GroupFactory(group_set=region, name="North"),
        GroupFactory(group_set=region, name="South"),
    )
    inside, outside = CustomerFactory(name="Inside"), CustomerFactory(name="Outside")
    services.customer_groups_set(actor=actor, customer=inside, groups=[north])
    services.customer_groups_set(actor=actor, customer=outside, groups=[south])
    scheduled = services.customer_group_schedule(
        actor=actor, customer=outside, group=promo, valid_from=today + DAY
    )
    staff.restricted_groups.set([north])
    client = api["staff"]
    assert client.get(memberships_url(inside)).status_code == 200
    assert client.get(memberships_url(outside)).status_code == 404
    assert (
        client.post(memberships_url(outside), {"group": north.pk}, format="json").status_code == 404
    )
    assert (
        client.patch(
            memberships_url(outside, south.pk), {"valid_until": None}, format="json"
        ).status_code
        == 404
    )
    url = f"/api/customers/{outside.pk}/scheduled-memberships/{scheduled.pk}/"
    assert client.delete(url).status_code == 404
    assert ScheduledMembership.objects.filter(pk=scheduled.pk).exists()
    assert list(outside.groups.all()) == [south]


def test_restricted_user_gets_404_on_the_card_outside_their_groups(client, staff, actor, today):
    region = GroupSet.objects.create(name="Region", single_choice=False)
    north, south = (
        GroupFactory(group_set=region, name="North"),
        GroupFactory(group_set=region, name="South"),
    )
    outside = CustomerFactory(name="Outside")
    services.customer_groups_set(actor=actor, customer=outside, groups=[south])
    staff.restricted_groups.set([north])
    client.force_login(staff)
    response = client.post(
        reverse("customers:group_validity", args=[outside.pk]),
        {"group": south.pk, "valid_until": (today + DAY).isoformat()},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 404
    assert GroupMembership.objects.get(customer=outside).valid_until is None


def test_schema_lists_the_membership_endpoints(api):
    response = api["owner"].get("/api/schema/", HTTP_ACCEPT="application/json")
    paths = response.json()["paths"]
    assert "/api/customers/{id}/memberships/" in paths
    assert "/api/customers/{id}/memberships/{group_id}/" in paths
    assert "/api/customers/{id}/scheduled-memberships/{scheduled_id}/" in paths


def shown(day) -> str:
    """A date as pages show it: 6 Dec 2026."""
    return f"{day.day} {day:%b %Y}"
