"""A job that is not moving says why (issue #15, item 13), and jobs go back to the queue.

- Queued with a broker and no worker taking it: "Waiting for a worker (…is
  `patron worker` running?)", on the job page, in the list and in the API.
- Running, but its worker silent past PATRON_JOB_STALE_SECONDS: "Worker … lost
  at HH:MM; it will be retried by HH:MM", or that it will fail on its last
  attempt; `retry_at` in the API is when the sweep queues it again.
- Handing a job back (a stopping worker): queued again, the attempt not counted.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from patron.core.actor import Actor
from patron.customers.models import CustomerTag
from patron.jobs import dispatch, live, services
from patron.jobs.models import Job
from patron.jobs.registry import job_type
from patron.jobs.runner import MAINTENANCE_SECONDS
from patron.jobs.services import job_enqueue, job_run
from patron.jobs.waiting import WAITING_SECONDS, job_waiting
from tests.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db


def hhmm(moment) -> str:
    return f"{timezone.localtime(moment):%H:%M}"


@job_type("tests.tag_then_hand_back", label="Tag then hand back")
def tag_then_hand_back(job, context):
    """Writes a tag link, then its process starts stopping: back to the queue at the checkpoint."""
    CustomerTag.objects.create(customer_id=job.params["customer"], tag_id=job.params["tag"])
    context.progress(1, 2)
    live.request_live_handback()
    context.check_cancelled()
    return {"message": "should not get here"}


@job_type("tests.chunked_hand_back", label="Chunked hand back", atomic=False)
def chunked_hand_back(job, context):
    context.progress(5, 10)
    live.request_live_handback()
    context.check_cancelled()
    return {"message": "should not get here"}


@pytest.fixture
def sent(monkeypatch):
    """Job ids handed to the broker (or the embedded worker), instead of sending them."""
    ids = []
    monkeypatch.setattr(services, "dispatch", ids.append)
    monkeypatch.setattr(dispatch, "dispatch", ids.append)
    return ids


@pytest.fixture
def job(owner, sent):
    tag = TagFactory(name="VIP")
    customer = CustomerFactory()
    return job_enqueue(
        actor=Actor(user=owner),
        kind="customers.bulk_add_tag",
        params={"tag": tag.pk, "ids": [customer.pk]},
    )


def age(job, seconds: int, **fields) -> Job:
    """Make the job's queue time (or the given fields) `seconds` old."""
    moment = timezone.now() - datetime.timedelta(seconds=seconds)
    values = fields or {"queued_at": moment, "created": moment}
    Job.objects.filter(pk=job.pk).update(**dict.fromkeys(values, moment))
    job.refresh_from_db()
    return job


# --- queued ------------------------------------------------------------------------------


def test_a_freshly_queued_job_is_just_queued(job, settings):
    settings.PATRON_BROKER_URL = "redis://127.0.0.1:6379/15"
    assert job_waiting(job) is None
    assert job_waiting(age(job, WAITING_SECONDS - 3)) is None


def test_queued_with_a_broker_and_no_worker_says_it_waits_for_a_worker(
    job, settings, client, api, owner
):
    settings.PATRON_BROKER_URL = "redis://127.0.0.1:6379/15"
    job = age(job, 300)
    expected = (
        f"Waiting for a worker (queued {hhmm(job.queued_at)}; no worker has taken it yet — "
        "is `patron worker` running?)"
    )
    data = api["owner"].get(f"/api/jobs/{job.pk}/").json()
    assert (data["state"], data["waiting_reason"], data["state_detail"], data["retry_at"]) == (
        "queued",
        "waiting_for_worker",
        expected,
        None,
    )
    client.force_login(owner)
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    assert "Waiting for a worker</span>" in page
    assert 'data-waiting-reason="waiting_for_worker"' in page
    assert "no worker has taken it yet — is `patron worker` running?" in page
    listing = client.get(reverse("jobs:list")).content.decode()
    assert "Waiting for a worker</span>" in listing


def test_queued_without_a_broker_waits_its_turn_in_patron_serve(job, settings):
    settings.PATRON_BROKER_URL = ""
    waiting = job_waiting(age(job, 60))
    assert waiting.reason == "waiting_its_turn"
    assert waiting.text.startswith(f"Waiting its turn (queued {hhmm(job.queued_at)})")


def test_queued_yesterday_names_the_day(job, settings):
    settings.PATRON_BROKER_URL = "redis://127.0.0.1:6379/15"
    job = age(job, 2 * 24 * 3600)
    day = f"{timezone.localtime(job.queued_at):%d %b %H:%M}"
    assert f"(queued {day};" in job_waiting(job).text


def test_a_job_without_queued_at_counts_from_its_creation(job, settings):
    settings.PATRON_BROKER_URL = "redis://127.0.0.1:6379/15"
    job = age(job, 120, created=True)
    Job.objects.filter(pk=job.pk).update(queued_at=None)
    job.refresh_from_db()
    assert job_waiting(job).reason == "waiting_for_worker"


# --- running, worker lost ----------------------------------------------------------------


def test_running_with_a_fresh_heartbeat_is_just_running(job):
    claimed = services.job_claim(job.pk)
    assert job_waiting(claimed) is None


def test_running_with_a_silent_worker_says_when_it_will_be_retried(job, settings, api):
    settings.PATRON_JOB_STALE_SECONDS = 60
    claimed = services.job_claim(job.pk)
    claimed = age(claimed, 61, heartbeat_at=True)
    due = claimed.heartbeat_at + datetime.timedelta(seconds=60 + MAINTENANCE_SECONDS)
    expected = (
        f"Worker {claimed.worker} lost at {hhmm(claimed.heartbeat_at)}; it will be retried by "
        f"{hhmm(due)} (attempt 2 of 3)."
    )
    data = api["owner"].get(f"/api/jobs/{job.pk}/").json()
    assert (data["state"], data["waiting_reason"], data["state_detail"]) == (
        "running",
        "worker_lost",
        expected,
    )
    assert datetime.datetime.fromisoformat(data["retry_at"]) == due
    assert data["worker"] == claimed.worker and data["heartbeat_at"]
    # The sweep agrees: it queues the job again.
    assert services.jobs_recover_stale() == [job.pk]
    job.refresh_from_db()
    assert (job.state, job.attempts) == ("queued", 1)
    assert job.queued_at > claimed.heartbeat_at


def test_a_lost_worker_long_ago_asks_whether_any_worker_runs(job, settings):
    settings.PATRON_JOB_STALE_SECONDS = 60
    claimed = age(services.job_claim(job.pk), 600, heartbeat_at=True)
    assert job_waiting(claimed).text.endswith(
        "No worker has swept since: is `patron worker` (or `patron serve` without a broker) "
        "running?"
    )


def test_a_lost_worker_on_the_last_attempt_says_the_job_will_fail(job, settings, client, owner):
    settings.PATRON_JOB_STALE_SECONDS = 60
    settings.PATRON_JOB_MAX_ATTEMPTS = 1
    claimed = age(services.job_claim(job.pk), 61, heartbeat_at=True)
    waiting = job_waiting(claimed)
    assert waiting.retry_at is None
    assert "that was its last attempt (1 of 1), so it will fail by" in waiting.text
    client.force_login(owner)
    page = client.get(reverse("jobs:progress", args=[job.pk])).content.decode()
    assert "Worker lost</span>" in page
    assert "progress-bar-animated" not in page


def test_a_job_running_in_this_process_is_never_lost(job, settings):
    settings.PATRON_JOB_STALE_SECONDS = 60
    claimed = age(services.job_claim(job.pk), 600, heartbeat_at=True)
    live.live_start(claimed.pk)
    try:
        assert job_waiting(claimed) is None
    finally:
        live.live_end(claimed.pk)


def test_a_job_of_the_serve_process_above_a_gunicorn_worker_is_never_lost(
    job, settings, monkeypatch
):
    """`patron serve --workers N` tells its web processes which process runs the jobs."""
    import os

    settings.PATRON_JOB_STALE_SECONDS = 60
    claimed = age(services.job_claim(job.pk), 600, heartbeat_at=True)
    assert job_waiting(claimed).reason == "worker_lost"
    monkeypatch.setenv("PATRON_SERVE_JOBS_PID", str(os.getpid()))
    assert job_waiting(claimed) is None


# --- handing back ------------------------------------------------------------------------


def test_a_job_handed_back_at_its_checkpoint_is_queued_again_without_an_attempt(
    owner, sent, django_capture_on_commit_callbacks
):
    tag, customer = TagFactory(name="VIP"), CustomerFactory()
    with django_capture_on_commit_callbacks(execute=True):
        job = job_enqueue(
            actor=Actor(user=owner),
            kind="tests.tag_then_hand_back",
            params={"tag": tag.pk, "customer": customer.pk},
        )
    with django_capture_on_commit_callbacks(execute=True):
        job = job_run(job.pk)
    assert (job.state, job.attempts, job.claim, job.worker) == ("queued", 0, "", "")
    assert "handed the job back; it runs again from the start." in job.error
    assert not CustomerTag.objects.exists()  # the atomic attempt was rolled back
    assert sent == [job.pk, job.pk]  # enqueued, then handed back


def test_a_chunked_job_handed_back_resumes_where_it_was(owner, sent):
    job = job_enqueue(actor=Actor(user=owner), kind="tests.chunked_hand_back", params={})
    job = job_run(job.pk)
    assert (job.state, job.attempts) == ("queued", 0)
    assert "handed the job back after 5 of 10; it resumes there." in job.error


def test_hand_back_of_a_job_someone_cancelled_cancels_it(job):
    claimed = services.job_claim(job.pk)
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    assert services.job_hand_back(claimed)
    job.refresh_from_db()
    assert (job.state, job.result_summary["message"]) == (
        "cancelled",
        "Cancelled; nothing was changed.",
    )


def test_hand_back_leaves_an_attempt_that_was_taken_over(job):
    claimed = services.job_claim(job.pk)
    claimed.claim = "an-older-attempt"
    assert not services.job_hand_back(claimed)
    job.refresh_from_db()
    assert (job.state, job.attempts) == ("running", 1)


def test_jobs_hand_back_releases_the_jobs_of_named_workers(job):
    claimed = services.job_claim(job.pk)
    assert services.jobs_hand_back(["elsewhere:1"]) == []
    assert services.jobs_hand_back([claimed.worker]) == [job.pk]
    job.refresh_from_db()
    assert (job.state, job.attempts) == ("queued", 0)


def test_a_stopping_worker_process_claims_no_new_job(
    job, sent, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(live, "_process_stopping", True)
    with django_capture_on_commit_callbacks(execute=True):
        assert job_run(job.pk).state == "queued"
    assert sent == [job.pk]  # sent on for another worker
