"""Starting, cancelling and running jobs.

`job_enqueue` creates the row and hands it to whoever runs jobs once the
caller's transaction commits; `job_run` claims it with one conditional UPDATE,
so however many workers receive the same job id only one of them runs it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import uuid
from functools import partial

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from patron.accounts.models import ApiToken, User
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.jobs import live, registry
from patron.jobs.context import Cancelled, HandedBack, JobContext
from patron.jobs.dispatch import dispatch
from patron.jobs.models import Job, JobFailure

logger = logging.getLogger(__name__)


def worker_name(pid: int | None = None) -> str:
    """How a job names the process running it: `host:pid` (read again after a fork)."""
    return f"{socket.gethostname()}:{pid or os.getpid()}"[:200]


class LostClaim(Exception):
    """Another attempt took the job over; this one must not finish it."""


def _stale_seconds() -> int:
    return int(getattr(settings, "PATRON_JOB_STALE_SECONDS", 120))


def _heartbeat_seconds() -> float:
    return float(getattr(settings, "PATRON_JOB_HEARTBEAT_SECONDS", 10))


def _max_attempts() -> int:
    return int(getattr(settings, "PATRON_JOB_MAX_ATTEMPTS", 3))


# --- enqueue and cancel -----------------------------------------------------------------


def _same_request(job: Job, actor: Actor, kind: str, params: dict) -> bool:
    user_id = actor.user.pk if actor.user is not None else None
    return (
        job.actor_user_id == user_id
        and job.actor_kind == actor.kind
        and job.kind == kind
        and job.params == params
    )


def _existing_for_key(key: str, actor: Actor, kind: str, params: dict) -> Job | None:
    job = Job.objects.filter(idempotency_key=key).first()
    if job is None:
        return None
    if not _same_request(job, actor, kind, params):
        raise ValidationError(
            {"idempotency_key": "This idempotency key was already used for a different job."}
        )
    return job


def job_enqueue(
    *, actor: Actor, kind: str, params: dict, idempotency_key: str | None = None
) -> Job:
    """Create a queued job and dispatch it once the surrounding transaction commits.

    The same `idempotency_key` with the same actor, kind and parameters
    returns the job created the first time instead of starting another.
    """
    job_type = registry.get_job_type(kind)
    if job_type is None:
        raise ValidationError({"kind": f"Patron has no job type “{kind}”."})
    for perm in job_type.permissions:
        if not actor.has_perm(perm):
            raise PermissionDenied(f"Your role does not allow you to run “{job_type.label}”.")
    params = dict(params or {})
    if job_type.validate is not None:
        params = job_type.validate(actor, params) or params
    key = (idempotency_key or "").strip() or None
    if key is not None:
        if len(key) > 200:
            raise ValidationError(
                {"idempotency_key": "Use an idempotency key of at most 200 characters."}
            )
        existing = _existing_for_key(key, actor, kind, params)
        if existing is not None:
            return existing
    try:
        with transaction.atomic():
            job = Job.objects.create(
                kind=kind,
                actor_kind=actor.kind,
                actor_user=actor.user if actor.user is not None and actor.user.pk else None,
                actor_token=actor.token,
                actor_label=actor.label[:200],
                params=params,
                idempotency_key=key,
                queued_at=timezone.now(),
            )
    except IntegrityError:
        # Two requests with the same key at the same moment: the first one won.
        existing = _existing_for_key(key, actor, kind, params) if key else None
        if existing is None:
            raise
        return existing
    transaction.on_commit(partial(dispatch, job.pk))
    return job


def job_cancel(*, actor: Actor, job: Job) -> Job:
    """Cancel a queued job at once, or ask a running one to stop at its next check."""
    if (
        actor.user is not None
        and job.actor_user_id != actor.user.pk
        and not actor.has_perm("jobs.change_job")
    ):
        raise PermissionDenied("You can cancel only the jobs you started.")
    job.refresh_from_db()
    if job.is_finished:
        raise ValidationError(f"Job #{job.pk} has already finished ({job.get_state_display()}).")
    now = timezone.now()
    cancelled_queued = Job.objects.filter(pk=job.pk, state=Job.State.QUEUED).update(
        state=Job.State.CANCELLED,
        cancel_requested=True,
        finished_at=now,
        result_summary={"message": "Cancelled before it started; nothing was changed."},
    )
    if not cancelled_queued:
        running_here = live.request_live_cancel(job.pk)
        # On SQLite the running job holds the only write lock; the in-process flag
        # reaches it without waiting for that lock.
        if not (running_here and connection.vendor == "sqlite"):
            Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).update(cancel_requested=True)
    job.refresh_from_db()
    if not job.is_finished:
        job.cancel_requested = True
    return job


# --- running ----------------------------------------------------------------------------


def job_actor(job: Job) -> Actor:
    """The actor the job acts as: the same user (and token), with today's role and groups."""
    if job.actor_kind == "system":
        return Actor.system_actor(job.actor_label)
    user = User.objects.select_related("role").filter(pk=job.actor_user_id).first()
    if user is None or not user.is_active:
        raise PermissionDenied("The user who started this job no longer has an active account.")
    token = None
    if job.actor_kind == "token":
        token = ApiToken.objects.select_related("user").filter(pk=job.actor_token_id).first()
        if token is None or not token.is_usable:
            raise PermissionDenied("The API token that started this job was revoked or expired.")
    return Actor(user=user, token=token)


def _error_text(exc: BaseException, atomic: bool) -> str:
    if isinstance(exc, ValidationError | PermissionDenied):
        text = "; ".join(getattr(exc, "messages", None) or [str(exc)])
    else:
        text = f"The job stopped because of an unexpected error ({type(exc).__name__}: {exc})."
    if atomic:
        text += " Nothing was changed."
    return text


def _finish(job: Job, context: JobContext | None, **values) -> None:
    """Write the final state, only if this attempt still holds the claim."""
    values.setdefault("finished_at", timezone.now())
    updated = Job.objects.filter(pk=job.pk, claim=job.claim, state=Job.State.RUNNING).update(
        **values
    )
    if not updated:
        raise LostClaim()
    if context is not None and context.failures:
        _save_failures(job, context)


def _save_failures(job: Job, context: JobContext) -> None:
    JobFailure.objects.bulk_create(
        [
            JobFailure(
                job_id=job.pk,
                customer=customer,
                customer_label=str(customer)[:250] if customer is not None else "",
                message=message,
            )
            for customer, message in context.failures
        ],
        batch_size=1000,
    )


def _success_values(job: Job, summary) -> dict:
    if not isinstance(summary, dict):
        summary = {"message": str(summary or "")}
    total = max(job.progress_total, job.progress_done)
    return {
        "state": Job.State.SUCCEEDED,
        "result_summary": summary,
        "progress_done": total,
        "progress_total": total,
        "error": "",
    }


class _Heartbeat(threading.Thread):
    """Marks the job alive every few seconds so a stopped worker can be told apart."""

    def __init__(self, job: Job):
        super().__init__(name=f"patron-job-{job.pk}-heartbeat", daemon=True)
        self.job = job
        self.stopped = threading.Event()

    def run(self):
        try:
            while not self.stopped.wait(_heartbeat_seconds()):
                # On SQLite the job's own transaction may hold the write lock: skip a beat.
                with contextlib.suppress(DatabaseError):
                    Job.objects.filter(pk=self.job.pk, claim=self.job.claim).update(
                        heartbeat_at=timezone.now()
                    )
        finally:
            connection.close()

    def stop(self):
        self.stopped.set()


def job_claim(job_id: int) -> Job | None:
    """Move a queued job to running for this worker; None when it is not queued."""
    claim = uuid.uuid4().hex
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, state=Job.State.QUEUED).update(
        state=Job.State.RUNNING,
        claim=claim,
        worker=worker_name(),
        started_at=now,
        heartbeat_at=now,
        attempts=F("attempts") + 1,
    )
    if not claimed:
        return None
    return Job.objects.get(pk=job_id)


def job_run(job_id: int) -> Job | None:
    """Run the job if it is queued; do nothing when it already ran or another worker has it.

    Atomic job types run their function and their final state in one
    transaction: a job that raises, is cancelled, or whose claim was taken
    over leaves no writes behind.
    """
    if live.process_stopping():
        # This worker is shutting down: leave the job queued for another one.
        transaction.on_commit(partial(dispatch, job_id))
        return Job.objects.filter(pk=job_id).first()
    job = job_claim(job_id)
    if job is None:
        return Job.objects.filter(pk=job_id).first()
    job_type = registry.get_job_type(job.kind)
    if job_type is None:
        _finish(job, None, state=Job.State.FAILED, error=f"Patron has no job type “{job.kind}”.")
        return Job.objects.get(pk=job_id)
    heartbeat = _Heartbeat(job)
    live.live_start(job.pk)
    context = None
    try:
        heartbeat.start()
        context = JobContext(job=job, job_type=job_type, actor=job_actor(job))
        for perm in job_type.permissions:
            if not context.actor.has_perm(perm):
                raise PermissionDenied(
                    f"{context.actor.label} may no longer run “{job_type.label}”."
                )
        if job_type.atomic:
            with transaction.atomic():
                summary = job_type.func(job, context)
                _finish(job, context, **_success_values(job, summary))
        else:
            summary = job_type.func(job, context)
            with transaction.atomic():
                _finish(job, context, **_success_values(job, summary))
    except LostClaim:
        logger.warning(
            "Job #%s was taken over by another worker; this attempt was discarded.", job_id
        )
    except HandedBack:
        # Anything an atomic job wrote has been rolled back; a chunked job keeps its
        # finished chunks and resumes from its progress marker.
        if not job_hand_back(job, context):
            logger.warning(
                "Job #%s was taken over by another worker; this attempt was discarded.", job_id
            )
    except Cancelled:
        message = (
            "Cancelled; nothing was changed."
            if job_type.atomic
            else f"Cancelled after {job.progress_done} of {job.progress_total}."
        )
        _finish_quietly(
            job, context, state=Job.State.CANCELLED, result_summary={"message": message}
        )
    except Exception as exc:
        logger.exception("Job #%s (%s) failed", job_id, job.kind)
        _finish_quietly(
            job, context, state=Job.State.FAILED, error=_error_text(exc, job_type.atomic)
        )
    finally:
        heartbeat.stop()
        live.live_end(job.pk)
        if context is not None:
            context.close()
    return Job.objects.get(pk=job_id)


def _finish_quietly(job: Job, context: JobContext | None, **values) -> None:
    keep = context if context is not None and not context.job_type.atomic else None
    try:
        with transaction.atomic():
            _finish(job, keep, **values)
    except LostClaim:
        logger.warning("Job #%s was taken over by another worker.", job.pk)


def job_hand_back(job: Job, context: JobContext | None = None) -> bool:
    """Put a running job back in the queue at once, for another worker to take.

    Called when the process running it stops (SIGTERM): the attempt does not
    count against PATRON_JOB_MAX_ATTEMPTS. A job someone asked to cancel ends
    cancelled instead. Only the attempt holding the claim is released; False
    when the job already moved on (finished, or taken over by another worker).
    """
    now = timezone.now()
    job_type = registry.get_job_type(job.kind)
    atomic = job_type is None or job_type.atomic
    where = f"The worker {job.worker or worker_name()} stopped at {timezone.localtime(now):%H:%M}"
    if atomic:
        note = f"{where} and handed the job back; it runs again from the start."
        cancelled = "Cancelled; nothing was changed."
    else:
        done = f"{job.progress_done:,} of {job.progress_total:,}"
        note = f"{where} and handed the job back after {done}; it resumes there."
        cancelled = f"Cancelled after {done}."
    attempt = Job.objects.filter(pk=job.pk, claim=job.claim, state=Job.State.RUNNING)
    try:
        with transaction.atomic():
            if attempt.filter(cancel_requested=True).update(
                state=Job.State.CANCELLED, finished_at=now, result_summary={"message": cancelled}
            ):
                keep = context if context is not None and not atomic else None
                if keep is not None and keep.failures:
                    _save_failures(job, keep)
                return True
            released = attempt.update(
                state=Job.State.QUEUED,
                claim="",
                worker="",
                attempts=Greatest(F("attempts") - 1, 0),
                queued_at=now,
                error=note,
            )
            if released:
                transaction.on_commit(partial(dispatch, job.pk))
    except DatabaseError:
        logger.warning("Job #%s could not be handed back; the sweep will requeue it.", job.pk)
        return False
    if released:
        logger.warning("Job #%s was handed back to the queue.", job.pk)
    return bool(released)


def jobs_hand_back(workers: list[str]) -> list[int]:
    """Hand back every job running on the named worker processes (see `job_hand_back`).

    The processes themselves notice at their next checkpoint that their claim
    is gone and throw their attempt away.
    """
    returned = []
    for job in Job.objects.filter(state=Job.State.RUNNING, worker__in=workers):
        if job_hand_back(job):
            returned.append(job.pk)
    return returned


def jobs_recover_stale() -> list[int]:
    """Queue again (or fail) running jobs whose worker stopped sending heartbeats.

    An atomic job that lost its worker never committed anything, so running
    it again is safe; chunked jobs are written to resume. After
    PATRON_JOB_MAX_ATTEMPTS attempts the job fails instead.
    """
    cutoff = timezone.now() - timezone.timedelta(seconds=_stale_seconds())
    requeued = []
    for job in Job.objects.filter(state=Job.State.RUNNING, heartbeat_at__lt=cutoff):
        same_attempt = Job.objects.filter(pk=job.pk, state=Job.State.RUNNING, claim=job.claim)
        note = f"The worker {job.worker} stopped responding during attempt {job.attempts}."
        if job.cancel_requested:
            same_attempt.update(
                state=Job.State.CANCELLED,
                finished_at=timezone.now(),
                result_summary={"message": "Cancelled."},
                error=note,
            )
        elif job.attempts < _max_attempts():
            if same_attempt.update(
                state=Job.State.QUEUED,
                claim="",
                worker="",
                queued_at=timezone.now(),
                error=note,
            ):
                requeued.append(job.pk)
                transaction.on_commit(partial(dispatch, job.pk))
        else:
            same_attempt.update(
                state=Job.State.FAILED,
                finished_at=timezone.now(),
                error=f"{note} The job was given up after {job.attempts} attempts.",
            )
    return requeued


def jobs_redispatch_waiting(older_than_seconds: int = 60) -> list[int]:
    """Send again the jobs queued for a while (a broker that was down when they were created)."""
    cutoff = timezone.now() - timezone.timedelta(seconds=older_than_seconds)
    ids = list(
        Job.objects.filter(state=Job.State.QUEUED, created__lt=cutoff).values_list("pk", flat=True)
    )
    for job_id in ids:
        dispatch(job_id)
    return ids


def next_queued_job_id() -> int | None:
    return (
        Job.objects.filter(state=Job.State.QUEUED)
        .order_by("id")
        .values_list("pk", flat=True)
        .first()
    )
