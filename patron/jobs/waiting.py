"""What an unfinished job is waiting for, in words: shown on its page and in the API.

A queued job that no worker has taken, or a running job whose worker has gone
silent, would otherwise read "Queued" or "Running 40%" for minutes. `job_waiting`
says instead that it waits for a worker (and asks whether `patron worker` runs),
or that its worker was lost and when the sweep (`services.jobs_recover_stale`)
will queue it again or give it up. It reads only the job's row and settings.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from patron.jobs.live import live_progress
from patron.jobs.models import Job
from patron.jobs.runner import MAINTENANCE_SECONDS
from patron.jobs.services import worker_name

# A worker takes a job within a second or two; past this, the page says it is waiting.
WAITING_SECONDS = 10

WAITING_FOR_WORKER = "waiting_for_worker"
WAITING_ITS_TURN = "waiting_its_turn"
WORKER_LOST = "worker_lost"


@dataclass(frozen=True)
class Waiting:
    reason: str  # one of the constants above
    badge: str  # the state badge's text
    colour: str  # its Bootstrap colour
    text: str
    retry_at: datetime | None = None


def _at(moment: datetime, now: datetime) -> str:
    local = timezone.localtime(moment)
    if local.date() != timezone.localtime(now).date():
        return f"{local:%d %b %H:%M}"
    return f"{local:%H:%M}"


def job_waiting(job: Job, now: datetime | None = None) -> Waiting | None:
    """Why the job is not moving, or None when nothing is amiss (or it has finished)."""
    now = now or timezone.now()
    if job.state == Job.State.QUEUED:
        return _queued(job, now)
    if job.state == Job.State.RUNNING:
        return _running(job, now)
    return None


def _queued(job: Job, now: datetime) -> Waiting | None:
    since = job.queued_at or job.created
    if since is None or (now - since).total_seconds() < WAITING_SECONDS:
        return None
    at = _at(since, now)
    if getattr(settings, "PATRON_BROKER_URL", ""):
        return Waiting(
            WAITING_FOR_WORKER,
            "Waiting for a worker",
            "warning",
            f"Waiting for a worker (queued {at}; no worker has taken it yet — "
            "is `patron worker` running?)",
        )
    return Waiting(
        WAITING_ITS_TURN,
        "Queued",
        "secondary",
        f"Waiting its turn (queued {at}): without a broker, `patron serve` runs one job at "
        "a time in its own process, and starts this one when the jobs before it are done.",
    )


def _jobs_parent() -> str | None:
    """Under `patron serve --workers N`, the worker name of the parent that runs the jobs:
    alive while this web process is (on SQLite an atomic job cannot write its heartbeat,
    so its silence says nothing)."""
    parent = os.environ.get("PATRON_SERVE_JOBS_PID", "")
    return worker_name(int(parent)) if parent.isdigit() else None


def _running(job: Job, now: datetime) -> Waiting | None:
    if live_progress(job.pk) is not None or (job.worker and job.worker == _jobs_parent()):
        return None  # running in this very process, or in the `patron serve` above it
    beat = job.heartbeat_at or job.started_at
    stale = int(getattr(settings, "PATRON_JOB_STALE_SECONDS", 120))
    if beat is None or (now - beat).total_seconds() <= stale:
        return None
    worker = job.worker or "(unknown)"
    lost = f"Worker {worker} lost at {_at(beat, now)}"
    # The sweep runs every MAINTENANCE_SECONDS in every worker (and in `patron serve`
    # without a broker): it takes the job back at the latest this long after `stale`.
    due = beat + timedelta(seconds=stale + MAINTENANCE_SECONDS)
    attempts = int(getattr(settings, "PATRON_JOB_MAX_ATTEMPTS", 3))
    if job.cancel_requested:
        outcome, retry_at = f"it will be marked cancelled by {_at(due, now)}", None
    elif job.attempts < attempts:
        next_attempt = f"attempt {job.attempts + 1} of {attempts}"
        outcome = f"it will be retried by {_at(due, now)} ({next_attempt})"
        retry_at = due
    else:
        outcome = (
            f"that was its last attempt ({job.attempts} of {attempts}), so it will fail "
            f"by {_at(due, now)}"
        )
        retry_at = None
    text = f"{lost}; {outcome}."
    if due < now:
        text += (
            " No worker has swept since: is `patron worker` (or `patron serve` without a "
            "broker) running?"
        )
    return Waiting(WORKER_LOST, "Worker lost", "danger", text, retry_at)
