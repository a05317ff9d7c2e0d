"""Bulk actions as jobs: targets, each action's set-based change, preview, undo, safety."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from patron.bulk import engine
from patron.bulk.engine import bulk_preview, kind_for
from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.customers.models import Customer, CustomerTag, GroupMembership, StatusChange
from patron.customers.services import customer_tag_add
from patron.events.models import Event
from patron.jobs.models import Job, JobChange, JobFailure
from patron.jobs.services import job_enqueue, job_run
from patron.statuses.models import Status
from tests.factories import (
    CustomerFactory,
    DepartmentFactory,
    GroupFactory,
    GroupSetFactory,
    StatusFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db


def start(actor, action, **params):
    return job_enqueue(actor=actor, kind=kind_for(action), params=params)


def run(actor, action, **params):
    return job_run(start(actor, action, **params).pk)


def undo(actor, job):
    return job_run(job_enqueue(actor=actor, kind=engine.UNDO_KIND, params={"job": job.pk}).pk)


def tagged(tag):
    return set(CustomerTag.objects.filter(tag=tag).values_list("customer_id", flat=True))


def members(group):
    return set(GroupMembership.objects.filter(group=group).values_list("customer_id", flat=True))


def join(group, *customers):
    for customer in customers:
        GroupMembership.objects.create(
            customer=customer,
            group=group,
            group_set=group.group_set,
            exclusive=group.group_set.single_choice,
        )


@pytest.fixture
def vip():
    return TagFactory(name="VIP")


@pytest.fixture
def four(db):
    return [CustomerFactory(name=n) for n in ("Ann", "Bob", "Cat", "Dan")]


def ids(customers):
    return [c.pk for c in customers]


# --- targets -------------------------------------------------------------------------------


def test_add_tag_by_ids_changes_each_customer_once_with_one_event(actor, vip, four):
    """Adding a tag to a selection writes the links, one event per customer, and the undo rows."""
    ann, bob, cat, dan = four
    customer_tag_add(actor=actor, customer=ann, tag=vip)
    job = run(actor, "add_tag", tag=vip.pk, ids=ids(four))
    assert job.state == "succeeded", job.error
    assert job.result_summary["changed"] == 3
    assert job.result_summary["unchanged"] == 1
    assert job.result_summary["message"] == (
        "Add the tag “VIP”: 3 customers changed, 1 already so."
    )
    assert tagged(vip) == set(ids(four))
    events = Event.objects.filter(action="tags_changed", changes__has_key="job")
    assert sorted(events.values_list("customer_id", flat=True)) == sorted(ids([bob, cat, dan]))
    assert events.get(customer=bob).changes == {"tags": [[], ["VIP"]], "job": [None, job.pk]}
    assert set(JobChange.objects.filter(job=job).values_list("customer_id", "before", "after")) == {
        (c.pk, None, str(vip.pk)) for c in (bob, cat, dan)
    }
    assert Customer.objects.get(pk=bob.pk).version == 2


def test_events_carry_each_customers_sorted_tag_lists_through_add_and_undo(actor, vip, four):
    """The event's before/after are the customer's whole tag lists, in name order, however
    many tags each customer has; undo logs them the other way round. One version step each."""
    ann, bob, cat, dan = four
    alpha, zulu = TagFactory(name="Alpha"), TagFactory(name="Zulu")
    for customer, tags in ((ann, [zulu, alpha]), (bob, [zulu]), (cat, [alpha])):
        for tag in tags:
            CustomerTag.objects.create(customer=customer, tag=tag)
    job = run(actor, "add_tag", tag=vip.pk, ids=ids(four))
    assert job.result_summary["changed"] == 4

    def logged(of):
        events = Event.objects.filter(action="tags_changed", changes__job=[None, of.pk])
        return {event.customer_id: event.changes["tags"] for event in events}

    assert logged(job) == {
        ann.pk: [["Alpha", "Zulu"], ["Alpha", "VIP", "Zulu"]],
        bob.pk: [["Zulu"], ["VIP", "Zulu"]],
        cat.pk: [["Alpha"], ["Alpha", "VIP"]],
        dan.pk: [[], ["VIP"]],
    }
    assert set(Customer.objects.values_list("version", flat=True)) == {2}
    reverted = undo(actor, job)
    assert reverted.result_summary["changed"] == 4
    assert logged(reverted) == {
        ann.pk: [["Alpha", "VIP", "Zulu"], ["Alpha", "Zulu"]],
        bob.pk: [["VIP", "Zulu"], ["Zulu"]],
        cat.pk: [["Alpha", "VIP"], ["Alpha"]],
        dan.pk: [["VIP"], []],
    }
    assert tagged(vip) == set()
    assert set(Customer.objects.values_list("version", flat=True)) == {3}


def test_segment_query_chooses_the_customers(actor, vip, four):
    """`q` is segment text, compiled by the segment language."""
    ann, bob, cat, dan = four
    gold = TagFactory(name="gold")
    for customer in (ann, cat):
        customer_tag_add(actor=actor, customer=customer, tag=gold)
    job = run(actor, "add_tag", tag=vip.pk, q="tag:gold")
    assert job.params["target"] == {"q": "tag:gold"}
    assert tagged(vip) == {ann.pk, cat.pk}


def test_list_filter_params_choose_the_customers(actor, vip, four):
    """The customer list's filter parameters work as a target, paging keys ignored."""
    ann, bob, cat, dan = four
    Customer.objects.filter(pk__in=ids([bob, dan])).update(service_city="Whitby")
    job = run(actor, "add_tag", tag=vip.pk, filter="?city=whitby&page=3&sort=name")
    assert job.params["target"] == {"filter": {"city": ["whitby"]}}
    assert tagged(vip) == {bob.pk, dan.pk}


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({"tag": 0, "ids": [1]}, {"tag": ["Choose an existing tag."]}),
        ({"ids": ["x"]}, {"ids": ["“x” is not a customer id; give whole numbers."]}),
        (
            {},
            {
                "target": [
                    "Choose the customers: tick some in the list, or give a segment query or a "
                    "filter."
                ]
            },
        ),
        ({"filter": {"status": ["999999"]}}, "filter"),
        ({"q": "tag:"}, "q"),
        ({"q": "tog:vip"}, "q"),
    ],
)
def test_bad_targets_and_parameters_are_refused_by_field(actor, vip, params, errors):
    """Nothing is queued for bad input; each problem is named by its field."""
    params = {"tag": vip.pk, **params}
    with pytest.raises(ValidationError) as caught:
        start(actor, "add_tag", **params)
    if isinstance(errors, dict):
        for key, messages in errors.items():
            assert caught.value.message_dict[key] == messages
    else:
        assert list(caught.value.message_dict) == [errors]
    assert Job.objects.count() == 0


def test_unknown_segment_name_suggests_the_near_one(actor, vip):
    """A misspelt tag in the query comes back with its position and a suggestion."""
    with pytest.raises(ValidationError) as caught:
        start(actor, "add_tag", tag=vip.pk, q="tag:vpi")
    (message,) = caught.value.message_dict["q"]
    assert "vpi" in message and "did you mean 'VIP'?" in message and "at character" in message


def test_restricted_user_never_touches_customers_outside_their_groups(staff, vip, four):
    """By ids, by segment and by filter, a restricted user's job changes only their customers."""
    ann, bob, cat, dan = four
    north = GroupFactory(name="North")
    join(north, ann, bob)
    staff.restricted_groups.add(north)
    actor = Actor(user=staff)
    by_ids = run(actor, "add_tag", tag=vip.pk, ids=ids(four))
    assert tagged(vip) == {ann.pk, bob.pk}
    assert sorted(by_ids.failures.values_list("message", flat=True)) == sorted(
        f"Customer #{c.pk} was not found." for c in (cat, dan)
    )
    CustomerTag.objects.all().delete()
    CustomerTag.objects.create(customer=cat, tag=vip)
    by_query = run(actor, "archive", q="tag:VIP or not tag:VIP")
    assert by_query.result_summary["matched"] == 2
    by_filter = run(actor, "restore", filter={"archived": "archived"})
    assert by_filter.result_summary["changed"] == 2
    touched = set(Event.objects.values_list("customer_id", flat=True))
    assert touched == {ann.pk, bob.pk}
    assert set(JobChange.objects.values_list("customer_id", flat=True)) == {ann.pk, bob.pk}
    assert not Customer.objects.get(pk=cat.pk).archived


# --- each action ---------------------------------------------------------------------------


def test_remove_tag_and_its_undo(actor, vip, four):
    """Removing takes the tag off those who had it; undo puts it back on them only."""
    ann, bob, cat, dan = four
    for customer in (ann, bob):
        CustomerTag.objects.create(customer=customer, tag=vip)
    job = run(actor, "remove_tag", tag=vip.pk, ids=ids(four))
    assert (job.result_summary["changed"], job.result_summary["unchanged"]) == (2, 2)
    assert tagged(vip) == set()
    reverted = undo(actor, job)
    assert reverted.state == "succeeded", reverted.error
    assert reverted.result_summary["changed"] == 2
    assert tagged(vip) == {ann.pk, bob.pk}


def test_set_group_reports_single_choice_conflicts_per_customer(actor, four):
    """Customers already in another group of a single-choice set are failures, by name."""
    ann, bob, cat, dan = four
    regions = GroupSetFactory(name="Regions", single_choice=True)
    north = GroupFactory(name="North", group_set=regions)
    south = GroupFactory(name="South", group_set=regions)
    join(south, bob)
    join(north, cat)
    job = run(actor, "set_group", group=north.pk, ids=ids(four))
    assert job.state == "succeeded", job.error
    assert members(north) == {ann.pk, cat.pk, dan.pk}
    assert members(south) == {bob.pk}
    assert list(job.failures.values_list("customer_id", "message")) == [
        (
            bob.pk,
            "Bob is already in “South” of the single-choice set “Regions”; "
            "remove it from there first.",
        )
    ]
    assert job.result_summary | {"message": ""} == job.result_summary | {
        "message": "",
        "changed": 2,
        "unchanged": 1,
        "failed": 1,
    }
    preview = bulk_preview(
        actor,
        "set_group",
        engine.bulk_params(actor, "set_group", {"group": north.pk, "ids": ids(four)}),
    )
    assert (preview.will_change, preview.failure_count) == (0, 1)


def test_set_group_in_a_multi_choice_set_adds_alongside(actor, four):
    """In a multi-choice set the new group is added next to the customer's others."""
    ann, *_ = four
    topics = GroupSetFactory(name="Topics", single_choice=False)
    fibre, radio = (
        GroupFactory(name="Fibre", group_set=topics),
        GroupFactory(name="Radio", group_set=topics),
    )
    join(fibre, ann)
    job = run(actor, "set_group", group=radio.pk, ids=[ann.pk])
    assert job.result_summary["changed"] == 1
    assert members(radio) == {ann.pk} and members(fibre) == {ann.pk}
    event = Event.objects.get(action="groups_changed")
    assert event.changes["groups"] == [["Fibre"], ["Fibre", "Radio"]]
    undo(actor, job)
    assert members(radio) == set() and members(fibre) == {ann.pk}


def test_archived_group_is_refused(actor, four):
    group = GroupFactory(name="Old", archived=True)
    with pytest.raises(ValidationError) as caught:
        start(actor, "set_group", group=group.pk, ids=ids(four))
    assert caught.value.message_dict == {
        "group": ["“Old” is archived and cannot be given to customers."]
    }


def test_dynamic_group_is_refused(actor, owner, four):
    """Nobody is put in a dynamic group by hand, in bulk either."""
    from patron.segments.models import Segment

    segment = Segment.objects.create(name="Leeds", query="city:Leeds", owner=owner)
    group = GroupFactory(
        name="Leeds live", group_set=GroupSetFactory(single_choice=False), segment=segment
    )
    with pytest.raises(ValidationError) as caught:
        start(actor, "set_group", group=group.pk, ids=ids(four))
    assert caught.value.message_dict == {
        "group": [
            "“Leeds live” is a dynamic group: its members are whoever its segment selects, "
            "so nobody can be added to it by hand."
        ]
    }
    assert GroupMembership.objects.count() == 0


def test_change_status_writes_history_and_respects_the_status_rules(actor, four):
    """Reason and date are required where the status asks; history rows are written in bulk."""
    ann, bob, cat, dan = four
    suspended = StatusFactory(name="Barred", require_reason=True, require_date=True)
    with pytest.raises(ValidationError) as caught:
        start(actor, "change_status", status=suspended.pk, ids=ids(four))
    assert caught.value.message_dict == {
        "reason": ["A reason is required to change to “Barred”."],
        "effective_date": ["An effective date is required to change to “Barred”."],
    }
    # A date after today schedules the change instead (tests/test_bulk_status_schedule.py);
    # a date that is no date is refused.
    with pytest.raises(ValidationError) as caught:
        start(
            actor,
            "change_status",
            status=suspended.pk,
            reason="unpaid",
            effective_date="2026-13-01",
            ids=ids(four),
        )
    assert list(caught.value.message_dict) == ["effective_date"]
    before = {c.pk: c.status_id for c in four}
    day = timezone.localdate() - datetime.timedelta(days=2)
    job = run(
        actor,
        "change_status",
        status=suspended.pk,
        reason="unpaid",
        effective_date=day.isoformat(),
        ids=ids(four),
    )
    assert job.state == "succeeded", job.error
    assert job.result_summary["changed"] == 4
    for customer in Customer.objects.filter(pk__in=ids(four)):
        assert (customer.status_id, customer.status_since) == (suspended.pk, day)
    history = StatusChange.objects.filter(customer=bob).get()
    assert (
        history.from_status_id,
        history.to_status_id,
        history.reason,
        history.effective_date,
    ) == (
        before[bob.pk],
        suspended.pk,
        "unpaid",
        day,
    )
    event = Event.objects.get(customer=bob, action="status_changed")
    assert event.changes["status"] == [str(bob.status), "Barred"]
    assert event.reason == "unpaid"

    reverted = undo(actor, job)
    assert reverted.result_summary["changed"] == 4
    for customer in Customer.objects.filter(pk__in=ids(four)):
        assert (customer.status_id, customer.status_since) == (
            before[customer.pk],
            timezone.localdate(),
        )
    assert StatusChange.objects.filter(customer=bob).count() == 2


def test_historical_status_is_refused(actor, four):
    old = StatusFactory(name="Legacy", availability=Status.Availability.HISTORICAL)
    with pytest.raises(ValidationError) as caught:
        start(actor, "change_status", status=old.pk, ids=ids(four))
    assert caught.value.message_dict == {
        "status": ["“Legacy” is a historical status and cannot be newly assigned."]
    }


def test_assign_department_and_clear_it(actor, four):
    ann, bob, cat, dan = four
    sales, support = DepartmentFactory(name="Sales"), DepartmentFactory(name="Support")
    Customer.objects.filter(pk=ann.pk).update(department=support)
    job = run(actor, "assign_department", department=sales.pk, ids=ids(four))
    assert job.result_summary["changed"] == 4
    assert set(Customer.objects.values_list("department_id", flat=True)) == {sales.pk}
    assert Event.objects.get(customer=ann).changes["department"] == ["Support", "Sales"]
    undo(actor, job)
    assert dict(Customer.objects.values_list("pk", "department_id")) == {
        ann.pk: support.pk,
        bob.pk: None,
        cat.pk: None,
        dan.pk: None,
    }
    cleared = run(actor, "assign_department", department="", ids=[ann.pk])
    assert cleared.result_summary["changed"] == 1
    assert Customer.objects.get(pk=ann.pk).department_id is None


def test_archive_then_restore_and_undo_keeps_the_archive_time(actor, vip, four):
    ann, bob, cat, dan = four
    job = run(actor, "archive", ids=ids([ann, bob]))
    assert set(Customer.objects.filter(archived=True).values_list("pk", flat=True)) == {
        ann.pk,
        bob.pk,
    }
    stamp = Customer.objects.get(pk=ann.pk).archived_at
    assert stamp is not None
    tagging = run(actor, "add_tag", tag=vip.pk, ids=ids(four))
    assert tagged(vip) == {cat.pk, dan.pk}
    assert sorted(tagging.failures.values_list("customer_id", flat=True)) == sorted(ids([ann, bob]))
    restored = run(actor, "restore", ids=ids(four))
    assert restored.result_summary["changed"] == 2
    assert not Customer.objects.filter(archived=True).exists()
    undo(actor, restored)
    ann.refresh_from_db()
    assert ann.archived and ann.archived_at == stamp
    # The archive job's field was touched by the restore: it can no longer be undone.
    blocked = undo(actor, job)
    assert blocked.result_summary["changed"] == 0
    assert blocked.failures.count() == 2


# --- preview --------------------------------------------------------------------------------


def test_preview_counts_and_samples_without_changing_anything(actor, vip, four):
    """The preview says how many will change and shows before → after, writing nothing."""
    ann, bob, cat, dan = four
    gold = TagFactory(name="gold")
    CustomerTag.objects.create(customer=ann, tag=vip)
    CustomerTag.objects.create(customer=bob, tag=gold)
    Customer.objects.filter(pk=dan.pk).update(archived=True)
    params = engine.bulk_params(actor, "add_tag", {"tag": vip.pk, "ids": ids(four)})
    preview = bulk_preview(actor, "add_tag", params)
    assert (preview.matched, preview.will_change, preview.unchanged, preview.failure_count) == (
        4,
        2,
        1,
        1,
    )
    assert [(c.name, before, after) for c, before, after in preview.sample] == [
        ("Bob", "gold", "VIP, gold"),
        ("Cat", "—", "VIP"),
    ]
    assert preview.description == "Add the tag “VIP”"
    assert preview.target == "4 selected customers"
    assert tagged(vip) == {ann.pk}
    assert Job.objects.count() == 0


# --- undo -----------------------------------------------------------------------------------


def test_undo_skips_customers_changed_since_and_says_why(actor, vip, four):
    """A later change to the same field blocks undo for that customer only."""
    ann, bob, cat, dan = four
    job = run(actor, "add_tag", tag=vip.pk, ids=ids(four))
    other = TagFactory(name="other")
    customer_tag_add(actor=actor, customer=cat, tag=other)  # tags touched, not VIP: no block
    from patron.customers.services import customer_tag_remove

    customer_tag_remove(actor=actor, customer=bob, tag=vip)
    customer_tag_add(actor=actor, customer=bob, tag=vip)
    reverted = undo(actor, job)
    assert reverted.state == "succeeded", reverted.error
    assert tagged(vip) == {bob.pk}
    assert reverted.result_summary["changed"] == 3
    ((customer_id, message),) = reverted.failures.values_list("customer_id", "message")
    assert customer_id == bob.pk
    assert message.startswith("Tags changed again by olivia on ")
    assert message.endswith(f"after job #{job.pk}; not reverted.")
    assert Event.objects.filter(reason=f"Undo of bulk action job #{job.pk}").count() == 3


def test_undo_twice_or_undo_of_an_undo_is_refused(actor, vip, four):
    job = run(actor, "add_tag", tag=vip.pk, ids=ids(four))
    reverted = undo(actor, job)
    with pytest.raises(ValidationError) as caught:
        undo(actor, job)
    assert caught.value.message_dict == {
        "job": [f"This bulk action was already undone by job #{reverted.pk}."]
    }
    with pytest.raises(ValidationError) as caught:
        undo(actor, reverted)
    assert caught.value.message_dict == {
        "job": ["An undo cannot itself be undone; run the bulk action again instead."]
    }


def test_undo_by_a_restricted_user_reverts_only_their_customers(owner, staff, vip, four):
    ann, bob, cat, dan = four
    job = run(Actor(user=staff), "add_tag", tag=vip.pk, ids=ids(four))
    north = GroupFactory(name="North")
    join(north, ann)
    staff.restricted_groups.add(north)
    reverted = undo(Actor(user=staff), job)
    assert tagged(vip) == {bob.pk, cat.pk, dan.pk}
    assert reverted.failures.count() == 3
    assert reverted.failures.filter(customer__isnull=False).count() == 0


def test_undo_of_someone_elses_job_needs_to_see_it(owner, staff, vip, four):
    job = run(Actor(user=owner), "add_tag", tag=vip.pk, ids=ids(four))
    with pytest.raises(ValidationError) as caught:
        undo(Actor(user=staff), job)
    assert caught.value.message_dict == {"job": ["Choose a bulk action job you can see."]}
    assert tagged(vip) == set(ids(four))


# --- safety ---------------------------------------------------------------------------------


def test_crash_midway_leaves_nothing_and_the_retry_applies_once(actor, vip, four, monkeypatch):
    """A job that dies after its writes, before commit, leaves no trace; the rerun applies once."""
    from patron.bulk import sql

    real = sql.insert_events
    calls = []

    def explode(*args, **kwargs):
        for step in real(*args, **kwargs):
            calls.append(step[1])
            yield step
        raise RuntimeError("worker lost")

    monkeypatch.setattr(sql, "insert_events", explode)
    job = run(actor, "add_tag", tag=vip.pk, ids=ids(four))
    assert calls == [4]
    assert job.state == "failed"
    assert "Nothing was changed." in job.error
    assert (tagged(vip), Event.objects.count(), JobChange.objects.count()) == (set(), 0, 0)
    assert set(Customer.objects.values_list("version", flat=True)) == {1}

    monkeypatch.setattr(sql, "insert_events", real)
    Job.objects.filter(pk=job.pk).update(state="queued", finished_at=None, error="")
    again = job_run(job.pk)
    assert again.state == "succeeded" and again.attempts == 2
    assert tagged(vip) == set(ids(four))
    assert Event.objects.count() == 4 and JobChange.objects.count() == 4
    assert job_run(job.pk).attempts == 2  # a duplicate delivery does nothing
    second = run(actor, "add_tag", tag=vip.pk, ids=ids(four))
    assert second.result_summary["changed"] == 0
    assert Event.objects.count() == 4
    assert set(Customer.objects.values_list("version", flat=True)) == {2}


def test_bulk_change_is_set_based(actor, vip):
    """The number of queries does not grow with the number of customers."""
    few = [CustomerFactory() for _ in range(3)]
    many = [CustomerFactory() for _ in range(40)]
    counts = []
    for group in (few, many):
        job = start(actor, "add_tag", tag=vip.pk, ids=ids(group))
        with CaptureQueriesContext(connection) as queries:
            job_run(job.pk)
        counts.append(len(queries))
        vip = TagFactory()
    assert counts[0] == counts[1]


def test_read_only_user_cannot_start_a_bulk_action(readonly, vip, four):
    from patron.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        start(Actor(user=readonly), "add_tag", tag=vip.pk, ids=ids(four))
    assert Job.objects.count() == 0 and JobFailure.objects.count() == 0
