"""Background jobs: enqueue, run once, roll back on failure, cancel, restrictions, bulk tag.

The jobs here are mostly bulk tags (`patron.bulk.bulk_tag`): the request of
`/api/jobs/bulk-tag/`, carried out by the bulk actions "Add the tag" and
"Remove the tag". What every bulk action does is in test_bulk.py.
"""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone

from patron.accounts.models import Role
from patron.bulk.bulk_tag import bulk_tag_enqueue
from patron.bulk.engine import UNDO_KIND, kind_for
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.customers.models import Customer, CustomerTag, GroupMembership
from patron.events.models import Event
from patron.jobs import services
from patron.jobs.models import Job, JobFailure
from patron.jobs.registry import job_type
from patron.jobs.services import job_cancel, job_enqueue, job_run
from tests.factories import CustomerFactory, GroupFactory, TagFactory, UserFactory

pytestmark = pytest.mark.django_db

ADD_TAG, REMOVE_TAG = kind_for("add_tag"), kind_for("remove_tag")
FORMER_BULK_TAG = "customers.bulk_tag"


@job_type("tests.tag_then_explode", label="Tag then explode")
def tag_then_explode(job, context):
    """Writes a tag link, then fails: the link must not survive."""
    CustomerTag.objects.create(customer_id=job.params["customer"], tag_id=job.params["tag"])
    context.progress(1, 2)
    raise RuntimeError("disk full")


@job_type("tests.tag_then_cancel", label="Tag then cancel")
def tag_then_cancel(job, context):
    """Writes a tag link, is cancelled by its owner, and notices at the next checkpoint."""
    CustomerTag.objects.create(customer_id=job.params["customer"], tag_id=job.params["tag"])
    job_cancel(actor=context.actor, job=job)
    context.check_cancelled()
    return {"message": "should not get here"}


@job_type("tests.taken_over", label="Taken over")
def taken_over(job, context):
    """This attempt's claim no longer matches the row, as when another worker took it over."""
    CustomerTag.objects.create(customer_id=job.params["customer"], tag_id=job.params["tag"])
    job.claim = "an-attempt-given-up-as-stopped"
    return {"message": "done"}


def bulk_tag(actor, tag, **params):
    return bulk_tag_enqueue(actor=actor, params={"tag": tag.pk, **params})


def summary(job) -> dict:
    """The job's summary without its timestamp."""
    return {k: v for k, v in job.result_summary.items() if k != "applied_at"}


def tagged(tag):
    return set(CustomerTag.objects.filter(tag=tag).values_list("customer_id", flat=True))


@pytest.fixture
def vip():
    return TagFactory(name="VIP")


@pytest.fixture
def three(db):
    return [CustomerFactory(name=n) for n in ("Ann", "Bob", "Cat")]


# --- enqueue and run ---------------------------------------------------------------------


def test_enqueue_then_run_succeeds_with_full_progress(actor, vip, three):
    """A queued job runs to `succeeded` with progress 3 of 3 and its summary."""
    job = bulk_tag(actor, vip, customers=[c.pk for c in three])
    assert (job.state, job.actor_label, job.actor_user) == ("queued", "olivia", actor.user)
    assert (job.kind, job.label) == (ADD_TAG, "Bulk add tag")
    assert job.params == {"tag": vip.pk, "target": {"ids": [c.pk for c in three]}}
    job = job_run(job.pk)
    assert (job.state, job.progress_done, job.progress_total, job.percent) == (
        "succeeded",
        3,
        3,
        100,
    )
    assert job.attempts == 1
    assert job.started_at is not None and job.finished_at >= job.started_at
    assert job.result_summary["applied_at"] >= job.started_at.isoformat()
    assert summary(job) == {
        "message": "Add the tag “VIP”: 3 customers changed, 0 already so.",
        "action": "add_tag",
        "matched": 3,
        "changed": 3,
        "unchanged": 0,
        "failed": 0,
        "undoable": True,
    }
    assert tagged(vip) == {c.pk for c in three}


def test_enqueue_dispatches_only_after_commit(
    actor, vip, three, monkeypatch, django_capture_on_commit_callbacks
):
    """The job is handed to the worker once the creating transaction commits, not before."""
    sent = []
    monkeypatch.setattr(services, "dispatch", sent.append)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = bulk_tag(actor, vip, customers=[three[0].pk])
    assert sent == []
    for callback in callbacks:
        callback()
    assert sent == [job.pk]


def test_running_twice_changes_nothing_the_second_time(actor, vip, three):
    """A second job_run of the same job is a no-op; a second job finds every tag there."""
    first = job_run(bulk_tag(actor, vip, customers=[c.pk for c in three]).pk)
    versions = dict(Customer.objects.values_list("pk", "version"))
    events = Event.objects.count()

    again = job_run(first.pk)
    assert (again.state, again.attempts, again.finished_at) == (
        "succeeded",
        1,
        first.finished_at,
    )
    second = job_run(bulk_tag(actor, vip, customers=[c.pk for c in three]).pk)
    assert (
        second.result_summary["message"] == "Add the tag “VIP”: 0 customers changed, 3 already so."
    )
    assert Event.objects.count() == events
    assert dict(Customer.objects.values_list("pk", "version")) == versions
    assert CustomerTag.objects.filter(tag=vip).count() == 3


def test_same_idempotency_key_returns_the_first_job(actor, vip, three):
    """Enqueueing twice with one key creates one job; the key with other parameters is refused."""
    params = {"tag": vip.pk, "customers": [three[0].pk]}
    first = bulk_tag_enqueue(actor=actor, params=params, idempotency_key="abc-1")
    job_run(first.pk)
    second = bulk_tag_enqueue(actor=actor, params=params, idempotency_key="abc-1")
    assert second.pk == first.pk
    assert Job.objects.count() == 1
    assert Event.objects.filter(action="tags_changed").count() == 1
    with pytest.raises(ValidationError) as exc:
        bulk_tag_enqueue(
            actor=actor, params={**params, "action": "remove"}, idempotency_key="abc-1"
        )
    assert exc.value.message_dict == {
        "idempotency_key": ["This idempotency key was already used for a different job."]
    }
    assert Job.objects.count() == 1


def test_job_that_raises_midway_leaves_no_writes(actor, vip, three):
    """The job's writes roll back; it ends failed with a readable error."""
    job = job_enqueue(
        actor=actor,
        kind="tests.tag_then_explode",
        params={"customer": three[0].pk, "tag": vip.pk},
    )
    job = job_run(job.pk)
    assert job.state == "failed"
    assert job.error == (
        "The job stopped because of an unexpected error (RuntimeError: disk full). "
        "Nothing was changed."
    )
    assert job.finished_at is not None
    assert not CustomerTag.objects.exists()


def test_attempt_that_lost_its_claim_is_discarded(actor, vip, three):
    """When another worker took the job over, this attempt's writes are rolled back."""
    job = job_enqueue(
        actor=actor, kind="tests.taken_over", params={"customer": three[0].pk, "tag": vip.pk}
    )
    claimed_by = []
    real_claim = services.job_claim

    def claim_and_remember(job_id):
        claimed = real_claim(job_id)
        claimed_by.append(claimed.claim)
        return claimed

    services.job_claim = claim_and_remember
    try:
        job = job_run(job.pk)
    finally:
        services.job_claim = real_claim
    assert (job.state, job.claim, job.finished_at) == ("running", claimed_by[0], None)
    assert not CustomerTag.objects.exists()


def test_unknown_job_type_is_refused(actor):
    """Only registered job types can be enqueued."""
    with pytest.raises(ValidationError) as exc:
        job_enqueue(actor=actor, kind="customers.teleport", params={})
    assert exc.value.message_dict == {"kind": ["Patron has no job type “customers.teleport”."]}
    assert not Job.objects.exists()


def test_read_only_user_cannot_start_a_bulk_tag(readonly, vip, three):
    """The permissions are checked before anything else; nothing is created."""
    for start in (
        lambda: bulk_tag(Actor(user=readonly), vip, customers=[three[0].pk]),
        lambda: bulk_tag(Actor(user=readonly), vip, action="toggle"),
        lambda: job_enqueue(
            actor=Actor(user=readonly), kind=FORMER_BULK_TAG, params={"tag": vip.pk}
        ),
    ):
        with pytest.raises(PermissionDenied) as exc:
            start()
        assert str(exc.value) == "Your role does not allow you to run “Bulk tag”."
    assert not Job.objects.exists()


@pytest.mark.parametrize(
    "params, errors",
    [
        (
            {"tag": 999999, "customers": [1]},
            {"tag": ["Choose an existing tag."]},
        ),
        (
            {"action": "toggle", "customers": [1]},
            {"action": ["Choose “add” or “remove”."]},
        ),
        (
            {"customers": [1], "filter": "city=Leeds"},
            {"customers": ["Choose the customers: give either a list of ids or a filter."]},
        ),
        (
            {"customers": ["one"]},
            {"customers": ["Give the customers as a non-empty list of customer ids."]},
        ),
        (
            {"customers": []},
            {"customers": ["Give the customers as a non-empty list of customer ids."]},
        ),
        (
            {"customers": "1,2"},
            {"customers": ["Give the customers as a non-empty list of customer ids."]},
        ),
        (
            {},
            {"customers": ["Choose the customers: give either a list of ids or a filter."]},
        ),
        (
            {"filter": "status=999999"},
            {
                "filter": [
                    "status: Select a valid choice. 999999 is not one of the available choices."
                ]
            },
        ),
        (
            {"filter": "q=tag:nosuchtag"},
            {"filter": ["q: unknown tag 'nosuchtag' at column 5 (at character 5)"]},
        ),
        (
            {"filter": 12},
            {"filter": ["Give the filter as a query string or an object."]},
        ),
    ],
)
@pytest.mark.parametrize("start", ["request", "former kind"])
def test_bad_bulk_tag_parameters_are_refused_by_field(actor, vip, params, errors, start):
    """Bad parameters answer per field, named as the bulk tag request names them (the
    engine's `ids` and `q` are `customers` and `filter` here), before any job exists: from
    the bulk tag request, and from the former job type started by name."""
    params = {"tag": vip.pk, **params}
    with pytest.raises(ValidationError) as exc:
        if start == "request":
            bulk_tag_enqueue(actor=actor, params=params)
        else:
            job_enqueue(actor=actor, kind=FORMER_BULK_TAG, params=params)
    assert exc.value.message_dict == errors
    assert not Job.objects.exists()


def test_the_former_bulk_tag_kind_started_by_name_keeps_its_parameters(actor, vip, three):
    """Code that still starts `customers.bulk_tag` gets the engine's checks and work, with the
    parameters stored as that job type kept them; it has no undo."""
    ann, bob, cat = three
    job = job_enqueue(
        actor=actor, kind=FORMER_BULK_TAG, params={"tag": str(vip.pk), "filter": "?city=Leeds"}
    )
    assert (job.label, job.params) == (
        "Bulk tag",
        {"tag": vip.pk, "action": "add", "filter": {"city": ["Leeds"]}},
    )
    job = job_run(job.pk)
    assert job.result_summary["message"] == "Add the tag “VIP”: 3 customers changed, 0 already so."
    assert tagged(vip) == {ann.pk, bob.pk, cat.pk}
    with pytest.raises(ValidationError) as exc:
        job_enqueue(actor=actor, kind=UNDO_KIND, params={"job": job.pk})
    assert exc.value.message_dict == {"job": ["Only bulk actions can be undone."]}


def test_job_of_a_deactivated_user_fails_and_changes_nothing(staff, vip, three):
    """A job runs as its user today: an account disabled since it was queued stops it."""
    job = bulk_tag(Actor(user=staff), vip, customers=[three[0].pk])
    staff.is_active = False
    staff.save()
    job = job_run(job.pk)
    assert (job.state, job.error) == (
        "failed",
        "The user who started this job no longer has an active account. Nothing was changed.",
    )
    assert not CustomerTag.objects.exists()


# --- stopped workers ---------------------------------------------------------------------


def test_job_of_a_stopped_worker_is_queued_again_and_runs_once(actor, vip, three, settings):
    """No heartbeat for longer than PATRON_JOB_STALE_SECONDS: queued again, then runs once."""
    settings.PATRON_JOB_STALE_SECONDS = 60
    job = services.job_claim(bulk_tag(actor, vip, customers=[three[0].pk]).pk)
    Job.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - datetime.timedelta(seconds=61)
    )
    assert services.jobs_recover_stale() == [job.pk]
    job.refresh_from_db()
    assert (job.state, job.attempts, job.claim) == ("queued", 1, "")
    assert job.error.startswith("The worker ") and job.error.endswith("during attempt 1.")
    job = job_run(job.pk)
    assert (job.state, job.attempts, job.error) == ("succeeded", 2, "")
    assert Event.objects.filter(action="tags_changed").count() == 1


def test_fresh_heartbeat_is_left_alone(actor, vip, three, settings):
    """A running job that reported recently is not taken over."""
    settings.PATRON_JOB_STALE_SECONDS = 60
    job = services.job_claim(bulk_tag(actor, vip, customers=[three[0].pk]).pk)
    assert services.jobs_recover_stale() == []
    job.refresh_from_db()
    assert job.state == "running"


def test_job_that_keeps_losing_its_worker_ends_failed(actor, vip, three, settings):
    """After PATRON_JOB_MAX_ATTEMPTS attempts the job is given up."""
    settings.PATRON_JOB_STALE_SECONDS = 60
    settings.PATRON_JOB_MAX_ATTEMPTS = 1
    job = services.job_claim(bulk_tag(actor, vip, customers=[three[0].pk]).pk)
    Job.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - datetime.timedelta(seconds=61)
    )
    assert services.jobs_recover_stale() == []
    job.refresh_from_db()
    assert job.state == "failed"
    assert job.error.endswith("The job was given up after 1 attempts.")
    assert not CustomerTag.objects.exists()


# --- cancel ------------------------------------------------------------------------------


def test_cancel_a_queued_job(actor, vip, three):
    """A queued job is cancelled at once and never runs."""
    job = job_cancel(actor=actor, job=bulk_tag(actor, vip, customers=[three[0].pk]))
    assert (job.state, job.message) == (
        "cancelled",
        "Cancelled before it started; nothing was changed.",
    )
    job = job_run(job.pk)
    assert job.state == "cancelled"
    assert not CustomerTag.objects.exists()


def test_cancel_a_running_job_rolls_back_its_work(actor, vip, three):
    """A running job stops at its next checkpoint; its writes are rolled back."""
    job = job_enqueue(
        actor=actor, kind="tests.tag_then_cancel", params={"customer": three[0].pk, "tag": vip.pk}
    )
    job = job_run(job.pk)
    assert (job.state, job.message, job.error) == (
        "cancelled",
        "Cancelled; nothing was changed.",
        "",
    )
    assert not CustomerTag.objects.exists()


def test_cancel_someone_elses_job_is_refused(actor, staff, vip, three):
    """Staff may cancel only their own jobs; the job is untouched."""
    job = bulk_tag(actor, vip, customers=[three[0].pk])
    with pytest.raises(PermissionDenied) as exc:
        job_cancel(actor=Actor(user=staff), job=job)
    assert str(exc.value) == "You can cancel only the jobs you started."
    job.refresh_from_db()
    assert (job.state, job.cancel_requested) == ("queued", False)


def test_cancel_a_finished_job_is_refused(actor, vip, three):
    """A finished job cannot be cancelled."""
    job = job_run(bulk_tag(actor, vip, customers=[three[0].pk]).pk)
    with pytest.raises(ValidationError) as exc:
        job_cancel(actor=actor, job=job)
    assert exc.value.messages == [f"Job #{job.pk} has already finished (Succeeded)."]
    job.refresh_from_db()
    assert job.state == "succeeded"


# --- bulk tag ----------------------------------------------------------------------------


def test_bulk_tag_writes_one_event_per_affected_customer(actor, vip, three):
    """Each customer that gained the tag gets one event naming the job; versions bump once."""
    ann, bob, cat = three
    gold = TagFactory(name="Gold")
    CustomerTag.objects.create(customer=ann, tag=vip)
    CustomerTag.objects.create(customer=bob, tag=gold)
    versions = dict(Customer.objects.values_list("pk", "version"))
    job = job_run(bulk_tag(actor, vip, customers=[ann.pk, bob.pk, cat.pk]).pk)
    assert job.result_summary["message"] == "Add the tag “VIP”: 2 customers changed, 1 already so."
    events = Event.objects.filter(action="tags_changed").order_by("customer_id")
    assert [(e.customer_id, e.actor_label, e.message, e.changes) for e in events] == [
        (
            bob.pk,
            "olivia",
            f"Add the tag “VIP” (bulk action, job #{job.pk})",
            {"tags": [["Gold"], ["Gold", "VIP"]], "job": [None, job.pk]},
        ),
        (
            cat.pk,
            "olivia",
            f"Add the tag “VIP” (bulk action, job #{job.pk})",
            {"tags": [[], ["VIP"]], "job": [None, job.pk]},
        ),
    ]
    assert dict(Customer.objects.values_list("pk", "version")) == {
        ann.pk: versions[ann.pk],
        bob.pk: versions[bob.pk] + 1,
        cat.pk: versions[cat.pk] + 1,
    }


def test_bulk_remove_takes_the_tag_off(actor, vip, three):
    """Remove deletes the links of the chosen customers only, one event each."""
    ann, bob, cat = three
    for customer in three:
        CustomerTag.objects.create(customer=customer, tag=vip)
    job = job_run(bulk_tag(actor, vip, action="remove", customers=[ann.pk, bob.pk]).pk)
    assert job.kind == REMOVE_TAG
    assert job.result_summary["message"] == (
        "Remove the tag “VIP”: 2 customers changed, 0 already so."
    )
    assert tagged(vip) == {cat.pk}
    event = Event.objects.get(customer=ann)
    assert event.changes == {"tags": [["VIP"], []], "job": [None, job.pk]}
    assert event.message == f"Remove the tag “VIP” (bulk action, job #{job.pk})"


def test_bulk_tag_by_the_customer_list_filter(actor, vip, three):
    """The filter is the customer list's query string, evaluated when the job runs."""
    ann, bob, cat = three
    Customer.objects.filter(pk=cat.pk).update(service_city="York")
    job = job_run(bulk_tag(actor, vip, filter="?city=leeds&page=2&sort=name").pk)
    assert job.params["target"] == {"filter": {"city": ["leeds"]}}
    assert tagged(vip) == {ann.pk, bob.pk}
    assert job.progress_total == 2


def test_archived_and_unknown_customers_are_listed_as_failures(actor, vip, three):
    """Archived accounts and ids that match nothing are reported, not silently skipped."""
    ann, bob, cat = three
    Customer.objects.filter(pk=bob.pk).update(archived=True)
    job = job_run(bulk_tag(actor, vip, customers=[ann.pk, bob.pk, 987654]).pk)
    assert job.result_summary["message"] == (
        "Add the tag “VIP”: 1 customers changed, 0 already so. 2 could not be changed "
        "(listed below)."
    )
    assert list(JobFailure.objects.values_list("customer_id", "customer_label", "message")) == [
        (None, "", "Customer #987654 was not found."),
        (bob.pk, str(bob), "Bob is archived; restore the account before changing it."),
    ]
    assert tagged(vip) == {ann.pk}


def test_restricted_users_job_never_touches_customers_outside_their_groups(staff, vip, three):
    """A job runs with its user's restriction: customers outside their groups are not found."""
    ann, bob, cat = three
    north = GroupFactory(name="North")
    GroupMembership.objects.create(customer=ann, group=north, group_set=north.group_set)
    staff.restricted_groups.add(north)
    by_ids = job_run(bulk_tag(Actor(user=staff), vip, customers=[ann.pk, bob.pk]).pk)
    assert tagged(vip) == {ann.pk}
    assert list(by_ids.failures.values_list("message", flat=True)) == [
        f"Customer #{bob.pk} was not found."
    ]
    by_filter = job_run(bulk_tag(Actor(user=staff), vip, action="remove", filter="").pk)
    assert by_filter.result_summary["matched"] == 1
    assert tagged(vip) == set()
    assert set(Event.objects.values_list("customer_id", flat=True)) == {ann.pk}


def test_restriction_added_after_enqueue_applies_when_the_job_runs(staff, vip, three):
    """The restriction is read when the job runs, not when it was queued."""
    ann, bob, cat = three
    north = GroupFactory(name="North")
    GroupMembership.objects.create(customer=ann, group=north, group_set=north.group_set)
    job = bulk_tag(Actor(user=staff), vip, filter="")
    staff.restricted_groups.add(north)
    job_run(job.pk)
    assert tagged(vip) == {ann.pk}


# --- who sees which jobs -----------------------------------------------------------------


def test_staff_see_their_own_jobs_owners_see_all(owner, staff, vip, three):
    """Without `jobs.view_job` a user sees only their own jobs."""
    mine = bulk_tag(Actor(user=staff), vip, customers=[three[0].pk])
    theirs = bulk_tag(Actor(user=owner), vip, customers=[three[1].pk])
    assert list(Job.objects.restrict(staff)) == [mine]
    assert list(Job.objects.restrict(owner)) == [theirs, mine]


def test_a_role_with_view_job_sees_everyones_jobs(owner, vip, three):
    """`jobs.view_job` is what lets a role (e.g. Administrator) see all jobs."""
    role = Role.objects.create(name="Supervisor")
    role.permissions.add(Permission.objects.get(codename="view_job"))
    supervisor = UserFactory(role=role)
    job = bulk_tag(Actor(user=owner), vip, customers=[three[0].pk])
    assert list(Job.objects.restrict(supervisor)) == [job]
    assert list(Job.objects.restrict(supervisor, "change")) == []


# --- pages -------------------------------------------------------------------------------


def test_job_list_shows_own_jobs(client, owner, staff, vip, three):
    """The list page shows a staff member their jobs only."""
    mine = bulk_tag(Actor(user=staff), vip, customers=[three[0].pk])
    bulk_tag(Actor(user=owner), vip, customers=[three[1].pk])
    client.force_login(staff)
    response = client.get(reverse("jobs:list"))
    assert response.status_code == 200
    assert [obj for obj, cells in response.context["rows"]] == [mine]


def test_detail_of_someone_elses_job_is_404(client, owner, staff, vip, three):
    """A job the user may not see does not exist for them."""
    job = bulk_tag(Actor(user=owner), vip, customers=[three[0].pk])
    client.force_login(staff)
    assert client.get(reverse("jobs:detail", args=[job.pk])).status_code == 404
    assert client.get(reverse("jobs:progress", args=[job.pk])).status_code == 404
    assert client.post(reverse("jobs:cancel", args=[job.pk])).status_code == 404
    job.refresh_from_db()
    assert job.state == "queued"


def test_progress_partial_polls_until_the_job_finishes(client, owner, vip, three):
    """The partial carries hx-get while queued and drops it once finished, showing the summary."""
    job = bulk_tag(Actor(user=owner), vip, customers=[three[0].pk])
    client.force_login(owner)
    url = reverse("jobs:progress", args=[job.pk])
    queued = client.get(url).content.decode()
    assert f'hx-get="{url}"' in queued and 'hx-trigger="every 1s"' in queued
    assert "Cancel job" in queued
    job_run(job.pk)
    done = client.get(url).content.decode()
    assert "hx-get" not in done
    assert "Add the tag “VIP”: 1 customers changed, 0 already so." in done
    assert 'aria-valuenow="100"' in done
    assert "Cancel job" not in done


def test_detail_page_lists_failures(client, owner, vip, three):
    """The job page shows the customers the job could not change, and why."""
    Customer.objects.filter(pk=three[1].pk).update(archived=True)
    job = job_run(bulk_tag(Actor(user=owner), vip, customers=[three[1].pk]).pk)
    client.force_login(owner)
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "Not changed (1)" in page
    assert "Bob is archived; restore the account before changing it." in page


def test_cancel_button_cancels_a_queued_job(client, staff, vip, three):
    """POST jobs:cancel on one's own queued job cancels it and returns to its page."""
    job = bulk_tag(Actor(user=staff), vip, customers=[three[0].pk])
    client.force_login(staff)
    response = client.post(reverse("jobs:cancel", args=[job.pk]))
    assert response.status_code == 302 and response.url == job.get_absolute_url()
    job.refresh_from_db()
    assert job.state == "cancelled"


def test_bulk_tag_view_starts_a_job_on_the_list_filter(client, staff, vip, three):
    """POST tag, action and the list's query string: a job is queued and the job page opens."""
    client.force_login(staff)
    response = client.post(
        reverse("jobs:bulk_tag"), {"tag": vip.pk, "action": "add", "query": "city=Leeds&sort=name"}
    )
    job = Job.objects.get()
    assert response.status_code == 302 and response.url == job.get_absolute_url()
    assert (job.kind, job.actor_user, job.params) == (
        ADD_TAG,
        staff,
        {"tag": vip.pk, "target": {"filter": {"city": ["Leeds"]}}},
    )


def test_bulk_tag_view_refusal_goes_back_to_the_list(client, readonly, vip, three):
    """A role that may not change customers is sent back to the list with the reason."""
    client.force_login(readonly)
    response = client.post(
        reverse("jobs:bulk_tag"), {"tag": vip.pk, "action": "add", "query": "city=Leeds"}
    )
    assert response.status_code == 302
    assert response.url == reverse("customers:list") + "?city=Leeds"
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "Your role does not allow you to run “Bulk tag”."
    ]
    assert not Job.objects.exists()


def test_bulk_tag_view_without_a_tag_is_refused(client, staff, three):
    """A missing tag is reported by name; no job is created."""
    client.force_login(staff)
    response = client.post(reverse("jobs:bulk_tag"), {"action": "add", "query": ""})
    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == ["Tag: This field is required."]
    assert not Job.objects.exists()


# --- API ---------------------------------------------------------------------------------


def test_api_lists_own_jobs_and_owners_see_all(api, users, vip, three):
    """`/api/jobs/`: Staff get their own jobs, Owners everyone's; anonymous callers nothing."""
    mine = bulk_tag(Actor(user=users["staff"]), vip, customers=[three[0].pk])
    theirs = bulk_tag(Actor(user=users["owner"]), vip, customers=[three[1].pk])
    staff_ids = [j["id"] for j in api["staff"].get("/api/jobs/").json()["results"]]
    owner_ids = [j["id"] for j in api["owner"].get("/api/jobs/").json()["results"]]
    assert staff_ids == [mine.pk]
    assert owner_ids == [theirs.pk, mine.pk]
    assert api["anon"].get("/api/jobs/").status_code in (401, 403)
    assert api["staff"].get(f"/api/jobs/{theirs.pk}/").status_code == 404


def test_api_bulk_tag_answers_202_with_the_job(api, users, vip, three):
    """POST /api/jobs/bulk-tag/ queues the job; the same Idempotency-Key returns the same job."""
    body = {"tag": vip.pk, "action": "add", "customers": [three[0].pk, three[1].pk]}
    first = api["staff"].post("/api/jobs/bulk-tag/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == 202
    data = first.json()
    assert (data["state"], data["kind"], data["actor_label"], data["percent"]) == (
        "queued",
        ADD_TAG,
        "sam (token tests)",
        0,
    )
    assert first["Location"] == f"/api/jobs/{data['id']}/"
    again = api["staff"].post("/api/jobs/bulk-tag/", body, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert again.json()["id"] == data["id"]
    job_run(data["id"])
    done = api["staff"].get(f"/api/jobs/{data['id']}/").json()
    assert (done["state"], done["percent"], done["result_summary"]["changed"]) == (
        "succeeded",
        100,
        2,
    )
    assert Event.objects.filter(action="tags_changed").first().actor_label == "sam (token tests)"


def test_api_bulk_tag_errors_are_keyed_by_field(api, vip):
    """Bad input answers 400 with field-keyed messages; nothing is queued."""
    response = api["staff"].post(
        "/api/jobs/bulk-tag/", {"tag": 424242, "action": "add", "filter": {}}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"tag": ["Choose an existing tag."]}
    assert not Job.objects.exists()


def test_api_bulk_tag_by_read_only_is_forbidden(api, vip, three):
    """Read-only users get 403 and no job."""
    response = api["readonly"].post(
        "/api/jobs/bulk-tag/", {"tag": vip.pk, "customers": [three[0].pk]}, format="json"
    )
    assert response.status_code == 403
    assert not Job.objects.exists()


def test_api_cancel_and_failures(api, users, vip, three):
    """POST /api/jobs/<id>/cancel/ cancels one's own job; another user's is 404."""
    job = bulk_tag(Actor(user=users["staff"]), vip, customers=[three[0].pk])
    assert api["readonly"].post(f"/api/jobs/{job.pk}/cancel/").status_code == 404
    response = api["staff"].post(f"/api/jobs/{job.pk}/cancel/")
    assert response.status_code == 200
    assert response.json()["state"] == "cancelled"
    again = api["staff"].post(f"/api/jobs/{job.pk}/cancel/")
    assert again.status_code == 400
    assert again.json() == {
        "non_field_errors": [f"Job #{job.pk} has already finished (Cancelled)."]
    }


def test_api_failures_lists_what_was_not_changed(api, users, vip, three):
    """GET /api/jobs/<id>/failures/ lists every failure with its customer."""
    Customer.objects.filter(pk=three[0].pk).update(archived=True)
    job = job_run(bulk_tag(Actor(user=users["staff"]), vip, customers=[three[0].pk]).pk)
    response = api["staff"].get(f"/api/jobs/{job.pk}/failures/")
    assert response.status_code == 200
    assert [(f["customer"], f["message"]) for f in response.json()["results"]] == [
        (three[0].pk, "Ann is archived; restore the account before changing it.")
    ]


# --- the bulk tag is a bulk action ---------------------------------------------------------


def test_api_bulk_tag_can_be_undone(api, users, vip, three):
    """A job started by POST /api/jobs/bulk-tag/ is the engine's: POST …/undo/ reverts it."""
    ann, bob, cat = three
    CustomerTag.objects.create(customer=ann, tag=vip)
    body = {"tag": vip.pk, "action": "add", "customers": [ann.pk, bob.pk]}
    started = api["staff"].post("/api/jobs/bulk-tag/", body, format="json").json()
    job = job_run(started["id"])
    assert (job.result_summary["changed"], job.result_summary["undoable"]) == (1, True)
    assert tagged(vip) == {ann.pk, bob.pk}
    undo = api["staff"].post(f"/api/jobs/{job.pk}/undo/")
    assert undo.status_code == 202
    assert undo.json()["kind"] == UNDO_KIND
    undone = job_run(undo.json()["id"])
    assert (undone.state, undone.result_summary["changed"]) == ("succeeded", 1)
    assert tagged(vip) == {ann.pk}  # Ann had the tag before the job; she keeps it
    assert Event.objects.filter(customer=bob, action="tags_changed").count() == 2


def test_bulk_tag_with_an_empty_filter_tags_every_active_account(actor, vip, three):
    """No filter means what the list shows without one: every active account, archived ones
    left out (not reported as failures)."""
    ann, bob, cat = three
    Customer.objects.filter(pk=cat.pk).update(archived=True)
    job = job_run(bulk_tag(actor, vip, filter={}).pk)
    assert tagged(vip) == {ann.pk, bob.pk}
    assert (job.result_summary["matched"], job.result_summary["failed"]) == (2, 0)
    assert job.params["target"] == {"q": "archived:false"}


def test_bulk_tag_filter_may_hold_a_segment_query(actor, vip, three):
    """A `q` in the filter is a segment query, combined with the list's filter controls."""
    ann, bob, cat = three
    gold = TagFactory(name="Gold")
    for customer in (ann, cat):
        CustomerTag.objects.create(customer=customer, tag=gold)
    Customer.objects.filter(pk=cat.pk).update(service_city="York")
    job = job_run(bulk_tag(actor, vip, filter="q=tag:Gold&city=Leeds").pk)
    assert job.params["target"] == {"q": "tag:Gold", "filter": {"city": ["Leeds"]}}
    assert tagged(vip) == {ann.pk}


def former_bulk_tag_row(user, tag, **fields) -> Job:
    """A job row as the former `customers.bulk_tag` job type left it."""
    values = {
        "kind": FORMER_BULK_TAG,
        "actor_kind": "user",
        "actor_user": user,
        "actor_label": user.username,
        "params": {"tag": tag.pk, "action": "add", "filter": {"city": ["Leeds"]}},
        "queued_at": timezone.now(),
        **fields,
    }
    return Job.objects.create(**values)


def test_former_bulk_tag_jobs_are_still_listed_by_name(client, api, owner, vip, three):
    """Rows of the former kind keep their name in the job list, its Type filter, their page
    and the API; they have no Undo button (they kept no record of their changes)."""
    old = former_bulk_tag_row(
        owner,
        vip,
        state=Job.State.SUCCEEDED,
        result_summary={"message": "Added “VIP” to 2 customers; 0 already had it.", "changed": 2},
    )
    bulk_tag(Actor(user=owner), vip, customers=[three[0].pk])
    client.force_login(owner)
    listed = client.get(reverse("jobs:list"), {"kind": FORMER_BULK_TAG})
    assert [(obj, obj.label) for obj, cells in listed.context["rows"]] == [(old, "Bulk tag")]
    page = client.get(reverse("jobs:detail", args=[old.pk])).content.decode()
    assert f"Job #{old.pk}: Bulk tag" in page
    assert "Added “VIP” to 2 customers; 0 already had it." in page
    assert "City: Leeds" in page  # the filter in words
    assert 'data-testid="job-undo"' not in page
    assert api["owner"].get(f"/api/jobs/{old.pk}/").json()["label"] == "Bulk tag"
    refused = api["owner"].post(f"/api/jobs/{old.pk}/undo/")
    assert refused.status_code == 400
    assert refused.json() == {"job": ["Only bulk actions can be undone."]}


@pytest.mark.parametrize(
    "params",
    [
        {"action": "add", "filter": {"city": ["Leeds"]}},
        {"action": "add", "customers": "ids"},
    ],
)
def test_a_former_bulk_tag_job_left_queued_runs_as_the_bulk_action(owner, vip, three, params):
    """A `customers.bulk_tag` job queued before the upgrade still runs, through the engine,
    with the parameters it was stored with."""
    ann, bob, cat = three
    Customer.objects.filter(pk=cat.pk).update(service_city="York")
    if params.get("customers") == "ids":
        params = {**params, "customers": [ann.pk, bob.pk]}
    job = former_bulk_tag_row(owner, vip, params={"tag": vip.pk, **params})
    job = job_run(job.pk)
    assert (job.state, job.kind, job.params) == (
        "succeeded",
        FORMER_BULK_TAG,
        {"tag": vip.pk, **params},
    )
    assert job.result_summary["message"] == "Add the tag “VIP”: 2 customers changed, 0 already so."
    assert tagged(vip) == {ann.pk, bob.pk}
    assert Event.objects.filter(action="tags_changed").count() == 2
