"""Bulk status change with a future effective date: scheduled per customer, previewed,
applied by the status scheduler on the day, and undone while still pending."""

import datetime
import json

import pytest
import time_machine
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.html import strip_tags

from patron.bulk import engine
from patron.bulk.actions import ScheduleStatus
from patron.bulk.engine import bulk_preview, kind_for
from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.customers import services
from patron.customers.models import Customer, GroupMembership, StatusChange
from patron.events.models import Event
from patron.jobs.models import Job, JobChange
from patron.jobs.services import job_enqueue, job_run
from patron.ops.schedule import scheduled_pass
from patron.statuses.models import Status
from tests.factories import CustomerFactory, GroupFactory, StatusFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 3, 2)
DUE = datetime.date(2026, 3, 9)
frozen = time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0), tick=False)


def status(name):
    return Status.objects.get(name=name)


def ids(customers):
    return [c.pk for c in customers]


def start(actor, **params):
    return job_enqueue(actor=actor, kind=kind_for("change_status"), params=params)


def schedule(actor, customers, *, to="Suspended", day=DUE, reason="Moving house"):
    job = start(
        actor,
        status=status(to).pk,
        reason=reason,
        effective_date=day.isoformat(),
        ids=ids(customers),
    )
    return job_run(job.pk)


def undo(actor, job):
    return job_run(job_enqueue(actor=actor, kind=engine.UNDO_KIND, params={"job": job.pk}).pk)


def pending_for(customers):
    return {
        c.customer_id: (c.to_status.name, c.effective_date)
        for c in StatusChange.objects.pending()
        .filter(customer__in=ids(customers))
        .select_related("to_status")
    }


@pytest.fixture
def four(db):
    return [CustomerFactory(name=n) for n in ("Ann", "Bob", "Cat", "Dan")]


def page_text(response) -> str:
    return " ".join(strip_tags(response.content.decode()).split())


# --- scheduling -----------------------------------------------------------------------------


@frozen
def test_future_date_schedules_each_customer_with_one_event_and_the_job_rows(actor, four):
    """Each chosen customer gets a pending change, as the single path writes it; the status
    itself waits for the day. One event per customer, and the job row names each change."""
    ann, bob, cat, dan = four
    Customer.objects.filter(pk=ann.pk).update(status=status("Suspended"))
    job = schedule(actor, four)
    assert job.state == "succeeded", job.error
    summary = job.result_summary
    assert (summary["changed"], summary["unchanged"], summary["failed"]) == (3, 1, 0)
    assert summary["message"] == (
        "Status change to “Suspended” scheduled for 09 Mar 2026: "
        "3 customers scheduled, 1 already so."
    )
    assert summary["undoable"] is True
    assert pending_for(four) == {c.pk: ("Suspended", DUE) for c in (bob, cat, dan)}
    change = StatusChange.objects.get(customer=bob)
    assert (
        change.state,
        change.from_status,
        change.reason,
        change.changed_by,
        change.changed_by_label,
        change.applied_at,
    ) == ("pending", None, "Moving house", actor.user, actor.label, None)
    for customer in Customer.objects.filter(pk__in=ids([bob, cat, dan])):
        assert (customer.status.name, customer.version) == ("Active", 1)
    events = Event.objects.filter(action="status_change_scheduled")
    assert sorted(events.values_list("customer_id", flat=True)) == sorted(ids([bob, cat, dan]))
    event = events.get(customer=bob)
    assert event.changes == {
        "pending_status": [None, "Suspended on 2026-03-09"],
        "job": [None, job.pk],
    }
    assert event.message == (
        f"Status change to “Suspended” scheduled for 09 Mar 2026 (bulk action, job #{job.pk})"
    )
    assert (event.reason, event.actor_label) == ("Moving house", actor.label)
    links = JobChange.objects.filter(job=job, field="pending_status")
    assert {(r.customer_id, r.before, r.after) for r in links} == {
        (c.pk, None, str(StatusChange.objects.get(customer=c).pk)) for c in (bob, cat, dan)
    }
    assert not Event.objects.filter(action="status_changed").exists()


@frozen
def test_pending_change_shows_on_each_customers_overview(client, owner, actor, four):
    schedule(actor, four)
    client.force_login(owner)
    response = client.get(reverse("customers:detail", args=[four[1].pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="pending-status-change"' in html
    text = page_text(response)
    assert "9 Mar 2026" in text and "Suspended Pending" in text and "Moving house" in text


def test_scheduler_applies_every_scheduled_change_on_the_day_once(actor):
    """Forty customers scheduled in bulk move on the day through the single path's scheduler."""
    customers = [CustomerFactory() for _ in range(40)]
    with frozen:
        job = schedule(actor, customers)
    assert job.result_summary["changed"] == 40
    day_before = datetime.datetime(2026, 3, 8, 23, 0)
    with time_machine.travel(day_before, tick=False):
        assert scheduled_pass()["applied"] == 0
    with time_machine.travel(datetime.datetime(2026, 3, 9, 6, 0), tick=False):
        assert scheduled_pass()["applied"] == 40
        assert scheduled_pass()["applied"] == 0
    moved = Customer.objects.filter(pk__in=ids(customers))
    assert set(moved.values_list("status__name", "status_since")) == {("Suspended", DUE)}
    assert set(
        StatusChange.objects.filter(customer__in=customers).values_list("state", "from_status")
    ) == {("applied", status("Active").pk)}
    applied = Event.objects.filter(action="status_changed", customer__in=customers)
    assert applied.count() == 40
    assert set(applied.values_list("actor_label", "reason")) == {
        ("status scheduler", "Moving house")
    }


# --- rules ------------------------------------------------------------------------------------


@frozen
def test_customer_with_a_pending_change_is_reported_by_name(actor, four):
    """As on the customer's page: one pending change at a time; the others are scheduled."""
    ann, bob, cat, dan = four
    services.customer_status_change(
        actor=actor,
        customer=bob,
        status=status("Prospect"),
        reason="Back to prospect",
        effective_date=datetime.date(2026, 3, 5),
    )
    params = engine.bulk_params(
        actor,
        "change_status",
        {
            "status": status("Suspended").pk,
            "reason": "x",
            "effective_date": DUE.isoformat(),
            "ids": ids(four),
        },
    )
    message = "Bob already has a change to “Prospect” scheduled for 05 Mar 2026; cancel it first."
    preview = bulk_preview(actor, "change_status", params)
    assert (preview.will_change, preview.failure_count) == (3, 1)
    assert [m for _c, m in preview.failures] == [message]
    job = schedule(actor, four, reason="x")
    assert (job.result_summary["changed"], job.result_summary["failed"]) == (3, 1)
    assert list(job.failures.values_list("customer_id", "message")) == [(bob.pk, message)]
    assert pending_for(four) == {
        ann.pk: ("Suspended", DUE),
        bob.pk: ("Prospect", datetime.date(2026, 3, 5)),
        cat.pk: ("Suspended", DUE),
        dan.pk: ("Suspended", DUE),
    }
    assert not Event.objects.filter(customer=bob, changes__job=[None, job.pk]).exists()


@frozen
def test_a_change_scheduled_meanwhile_is_reported_not_overwritten(actor, four, monkeypatch):
    """A pending change that appears between the check and the write (another person, another
    job) is kept; that customer is reported, and the job links only the changes it made."""
    ann, bob, cat, dan = four
    services.customer_status_change(
        actor=actor, customer=cat, status=status("Prospect"), effective_date=DUE
    )
    monkeypatch.setattr(
        ScheduleStatus, "conflicts", lambda self, changing, params: (Q(pk__in=[]), [])
    )
    job = schedule(actor, four)
    assert job.state == "succeeded", job.error
    assert (job.result_summary["changed"], job.result_summary["failed"]) == (3, 1)
    assert list(job.failures.values_list("message", flat=True)) == [
        "Cat already has a change to “Prospect” scheduled for 09 Mar 2026; cancel it first."
    ]
    assert pending_for([cat]) == {cat.pk: ("Prospect", DUE)}
    assert set(JobChange.objects.filter(job=job).values_list("customer_id", flat=True)) == set(
        ids([ann, bob, dan])
    )
    assert Event.objects.filter(changes__job=[None, job.pk]).count() == 3


@frozen
@pytest.mark.parametrize(
    ("params", "errors"),
    [
        (
            {"effective_date": "2026-13-01"},
            {"effective_date": ["Give the effective date as YYYY-MM-DD."]},
        ),
        (
            {"effective_date": "next week"},
            {"effective_date": ["Give the effective date as YYYY-MM-DD."]},
        ),
        ({"status": 999999}, {"status": ["Choose an existing status."]}),
        ({"status": ""}, {"status": ["Choose an existing status."]}),
    ],
)
def test_bad_dates_and_statuses_are_refused_by_field(actor, four, params, errors):
    data = {
        "status": status("Suspended").pk,
        "reason": "x",
        "effective_date": DUE.isoformat(),
        "ids": ids(four),
        **params,
    }
    with pytest.raises(ValidationError) as caught:
        start(actor, **data)
    assert caught.value.message_dict == errors
    assert Job.objects.count() == 0 and StatusChange.objects.count() == 0


@frozen
def test_status_rules_apply_to_a_scheduled_change(actor, four):
    """Historical and hidden statuses are refused; a reason is required where the status asks."""
    later = DUE.isoformat()
    old = StatusFactory(name="Legacy", availability=Status.Availability.HISTORICAL)
    hidden = StatusFactory(name="Internal", visible_in_backend=False)
    barred = StatusFactory(name="Barred", require_reason=True, require_date=True)
    cases = [
        (old, "x", {"status": ["“Legacy” is a historical status and cannot be newly assigned."]}),
        (hidden, "x", {"status": ["“Internal” is hidden and cannot be assigned."]}),
        (barred, "  ", {"reason": ["A reason is required to change to “Barred”."]}),
    ]
    for new, reason, errors in cases:
        with pytest.raises(ValidationError) as caught:
            start(actor, status=new.pk, reason=reason, effective_date=later, ids=ids(four))
        assert caught.value.message_dict == errors
    assert Job.objects.count() == 0 and StatusChange.objects.count() == 0
    job = schedule(actor, four, to="Barred", reason="unpaid")
    assert job.result_summary["changed"] == 4
    assert set(StatusChange.objects.pending().values_list("reason", flat=True)) == {"unpaid"}


@frozen
def test_today_or_a_past_date_still_changes_at_once(actor, four):
    """Only a date after today schedules; today changes the status now, as before."""
    job = schedule(actor, four, day=MONDAY)
    assert job.result_summary["message"].endswith("4 customers changed, 0 already so.")
    assert set(Customer.objects.values_list("status__name", flat=True)) == {"Suspended"}
    assert not StatusChange.objects.pending().exists()


@frozen
def test_archived_customers_are_refused(actor, four):
    Customer.objects.filter(pk=four[0].pk).update(archived=True)
    job = schedule(actor, four)
    assert job.result_summary["changed"] == 3
    assert list(job.failures.values_list("message", flat=True)) == [
        "Ann is archived; restore the account before changing it."
    ]
    assert four[0].pk not in pending_for(four)


# --- preview ----------------------------------------------------------------------------------


@frozen
def test_preview_says_what_will_be_scheduled_and_writes_nothing(actor, four):
    Customer.objects.filter(pk=four[0].pk).update(status=status("Suspended"))
    params = engine.bulk_params(
        actor,
        "change_status",
        {
            "status": status("Suspended").pk,
            "reason": "x",
            "effective_date": DUE.isoformat(),
            "ids": ids(four),
        },
    )
    preview = bulk_preview(actor, "change_status", params)
    assert (preview.matched, preview.will_change, preview.unchanged) == (4, 3, 1)
    assert preview.description == "Status change to “Suspended” scheduled for 09 Mar 2026"
    assert preview.scheduled == "to change to “Suspended” on 09 Mar 2026"
    assert [(c.name, before, after) for c, before, after in preview.sample] == [
        ("Bob", "Active", "Suspended from 09 Mar 2026"),
        ("Cat", "Active", "Suspended from 09 Mar 2026"),
        ("Dan", "Active", "Suspended from 09 Mar 2026"),
    ]
    assert StatusChange.objects.count() == 0 and Job.objects.count() == 0
    assert Event.objects.count() == 0


@frozen
def test_bulk_page_previews_and_runs_a_scheduled_change(client, staff, four):
    client.force_login(staff)
    response = client.get(reverse("jobs:bulk"), {"ids": ids(four)})
    assert "A future date schedules the change for each customer on that day." in page_text(
        response
    )
    form = {
        "action": "change_status",
        "status": status("Suspended").pk,
        "reason": "Moving",
        "effective_date": DUE.isoformat(),
        "target": json.dumps({"ids": ids(four)}),
    }
    response = client.post(reverse("jobs:bulk"), {**form, "step": "preview"})
    assert response.status_code == 200
    text = page_text(response)
    assert "Will schedule 4 of 4 customers to change to “Suspended” on 09 Mar 2026" in text
    assert "Suspended from 09 Mar 2026" in text
    assert StatusChange.objects.count() == 0
    key = response.context["idempotency_key"]
    response = client.post(reverse("jobs:bulk"), {**form, "step": "run", "idempotency_key": key})
    assert response.status_code == 302
    job = job_run(Job.objects.get().pk)
    assert job.result_summary["changed"] == 4
    assert len(pending_for(four)) == 4
    response = client.post(
        reverse("jobs:bulk"), {**form, "effective_date": "2026-02-30", "step": "preview"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["effective_date"] == ["Enter a valid date."]


# --- undo -------------------------------------------------------------------------------------


@frozen
def test_undo_cancels_the_pending_changes_and_lists_those_gone(actor, owner, four):
    """Undo cancels what is still pending, with an event each; a change applied or cancelled
    since is listed by customer and left as it is."""
    ann, bob, cat, dan = four
    job = schedule(actor, four)
    services.customer_status_change_cancel(
        actor=Actor(user=owner), change=StatusChange.objects.get(customer=bob)
    )
    # Cat's change is moved to today and applied by the scheduler.
    StatusChange.objects.filter(customer=cat).update(effective_date=MONDAY)
    assert services.status_changes_apply_due(today=MONDAY) == 1
    reverted = undo(actor, job)
    assert reverted.state == "succeeded", reverted.error
    assert reverted.result_summary["changed"] == 2
    assert reverted.result_summary["message"] == (
        f"Cancelled the scheduled change of job #{job.pk} for 2 customers. "
        "2 could not be reverted (listed below)."
    )
    failures = list(reverted.failures.values_list("customer_id", "message"))
    assert failures[0] == (
        bob.pk,
        f"The change to “Suspended” due 09 Mar 2026 was already cancelled by {owner.username}; "
        "not reverted.",
    )
    assert failures[1][0] == cat.pk
    assert failures[1][1].startswith(
        "The change to “Suspended” due 02 Mar 2026 was already applied on 02 Mar 2026"
    )
    assert pending_for(four) == {}
    for customer in (ann, dan):
        change = StatusChange.objects.get(customer=customer)
        assert (change.state, change.cancelled_by_label) == ("cancelled", actor.label)
        assert change.note.startswith(f"Cancelled by the undo of bulk action job #{job.pk}")
    assert Customer.objects.get(pk=cat.pk).status.name == "Suspended"
    events = Event.objects.filter(
        action="status_change_cancelled", changes__job=[None, reverted.pk]
    )
    assert sorted(events.values_list("customer_id", flat=True)) == sorted(ids([ann, dan]))
    event = events.get(customer=ann)
    assert event.changes["pending_status"] == ["Suspended on 2026-03-09", None]
    assert event.reason == f"Undo of bulk action job #{job.pk}"
    assert event.message.startswith("Cancelled the change to Suspended due 09 Mar 2026")
    assert services.status_changes_apply_due(today=DUE) == 0
    with pytest.raises(ValidationError) as caught:
        undo(actor, job)
    assert caught.value.message_dict == {
        "job": [f"This bulk action was already undone by job #{reverted.pk}."]
    }


@frozen
def test_undo_leaves_a_newer_pending_change_alone(actor, four):
    """After a scheduled change is cancelled and a new one scheduled, undo touches only its own."""
    ann = four[0]
    job = schedule(actor, four)
    services.customer_status_change_cancel(
        actor=actor, change=StatusChange.objects.get(customer=ann)
    )
    services.customer_status_change(
        actor=actor, customer=ann, status=status("Prospect"), effective_date=DUE
    )
    reverted = undo(actor, job)
    assert reverted.result_summary["changed"] == 3
    assert pending_for([ann]) == {ann.pk: ("Prospect", DUE)}


# --- access -----------------------------------------------------------------------------------


@frozen
def test_restricted_user_never_touches_customers_outside_their_groups(owner, staff, four):
    ann, bob, cat, dan = four
    north = GroupFactory(name="North")
    for customer in (ann, bob):
        GroupMembership.objects.create(
            customer=customer, group=north, group_set=north.group_set, exclusive=False
        )
    staff.restricted_groups.add(north)
    job = schedule(Actor(user=staff), four)
    assert job.result_summary["changed"] == 2
    assert sorted(job.failures.values_list("message", flat=True)) == sorted(
        f"Customer #{c.pk} was not found." for c in (cat, dan)
    )
    assert set(pending_for(four)) == {ann.pk, bob.pk}
    assert set(Event.objects.values_list("customer_id", flat=True)) == {ann.pk, bob.pk}

    # Undo by the same user after losing Bob: only Ann's change is cancelled.
    GroupMembership.objects.filter(customer=bob).delete()
    reverted = undo(Actor(user=staff), job)
    assert reverted.result_summary["changed"] == 1
    assert list(reverted.failures.values_list("customer_id", "message")) == [
        (None, f"Customer #{bob.pk} is not one you may change; not reverted.")
    ]
    assert set(pending_for(four)) == {bob.pk}


# --- API --------------------------------------------------------------------------------------


@frozen
def test_api_previews_schedules_and_undoes(api, users, four):
    client = api["staff"]
    body = {
        "action": "change_status",
        "status": status("Suspended").pk,
        "reason": "Moving",
        "effective_date": DUE.isoformat(),
        "ids": ids(four),
    }
    response = client.post("/api/jobs/bulk/preview/", body, format="json")
    assert response.status_code == 200, response.data
    assert response.data["will_change"] == 4
    assert response.data["description"] == "Status change to “Suspended” scheduled for 09 Mar 2026"
    assert response.data["sample"][0]["after"] == "Suspended from 09 Mar 2026"
    assert response.data["scheduled"] == "to change to “Suspended” on 09 Mar 2026"
    assert StatusChange.objects.count() == 0

    response = client.post("/api/jobs/bulk/", body, format="json")
    assert response.status_code == 202, response.data
    job_id = response.data["id"]
    job_run(job_id)
    response = client.get(f"/api/jobs/{job_id}/")
    assert response.data["state"] == "succeeded"
    assert response.data["result_summary"]["changed"] == 4
    assert len(pending_for(four)) == 4

    response = client.post(f"/api/jobs/{job_id}/undo/")
    assert response.status_code == 202
    undone = job_run(response.data["id"])
    assert undone.result_summary["changed"] == 4
    assert pending_for(four) == {}


@frozen
def test_api_bad_date_is_keyed_by_field_and_starts_nothing(api, users, four):
    response = api["staff"].post(
        "/api/jobs/bulk/",
        {
            "action": "change_status",
            "status": status("Suspended").pk,
            "reason": "x",
            "effective_date": "09/03/2026",
            "ids": ids(four),
        },
        format="json",
    )
    assert response.status_code == 400
    (message,) = response.data["effective_date"]
    assert "YYYY-MM-DD" in message
    assert Job.objects.count() == 0 and StatusChange.objects.count() == 0


@frozen
def test_read_only_user_cannot_schedule(api, users, four):
    response = api["readonly"].post(
        "/api/jobs/bulk/",
        {
            "action": "change_status",
            "status": status("Suspended").pk,
            "reason": "x",
            "effective_date": DUE.isoformat(),
            "ids": ids(four),
        },
        format="json",
    )
    assert response.status_code == 403
    assert Job.objects.count() == 0 and StatusChange.objects.count() == 0


# --- set-based --------------------------------------------------------------------------------


def _queries_to_schedule(actor, n):
    customers = [CustomerFactory() for _ in range(n)]
    job = start(
        actor,
        status=status("Suspended").pk,
        reason="x",
        effective_date=DUE.isoformat(),
        ids=ids(customers),
    )
    with CaptureQueriesContext(connection) as queries:
        done = job_run(job.pk)
    assert done.result_summary["changed"] == n
    reverting = job_enqueue(actor=actor, kind=engine.UNDO_KIND, params={"job": job.pk})
    with CaptureQueriesContext(connection) as undo_queries:
        reverted = job_run(reverting.pk)
    assert reverted.result_summary["changed"] == n
    return len(queries), len(undo_queries)


@frozen
def test_scheduling_is_set_based(actor):
    """The number of statements does not grow with the number of customers, nor does undo's."""
    _queries_to_schedule(actor, 1)  # fills the per-process caches (content types)
    assert _queries_to_schedule(actor, 3) == _queries_to_schedule(actor, 60)
