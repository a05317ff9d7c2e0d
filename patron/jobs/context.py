"""The job types Patron knows, and the context a job function runs with.

A job type is a function registered under a dotted name::

    @job_type("customers.bulk_tag", label="Bulk tag", permissions=["customers.change_customer"])
    def customers_bulk_tag(job, context) -> dict:
        ...
        return {"message": "Added “VIP” to 120 customers."}

See docs/jobs.md for the contract a job function must keep.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, connections
from django.utils import timezone

from patron.core.actor import Actor


class Cancelled(Exception):
    """Raised by `context.check_cancelled()` when someone asked the job to stop."""


class HandedBack(Exception):
    """Raised by `context.check_cancelled()` when the job must go back to the queue.

    Either the process running it is stopping (`request_live_handback`), or its
    claim was released or taken over by another worker meanwhile.
    """


@dataclass
class JobType:
    name: str
    func: Callable
    label: str
    atomic: bool = True
    permissions: tuple[str, ...] = ()
    validate: Callable | None = None


_registry: dict[str, JobType] = {}


def job_type(
    name: str,
    *,
    label: str = "",
    atomic: bool = True,
    permissions: tuple[str, ...] | list[str] = (),
    validate: Callable | None = None,
):
    """Register `func(job, context) -> summary dict` as the job type `name`.

    `atomic=True` (the default) runs the whole function and the job's final
    state in one transaction: a job that raises, is cancelled or loses its
    worker leaves nothing behind. `atomic=False` is for jobs that commit in
    chunks; each chunk must be idempotent (see docs/jobs.md).
    `permissions` are checked against the actor when the job is enqueued, and
    `validate(actor, params)` may raise ValidationError to refuse bad input
    before a row is created.
    """

    def register(func):
        if name in _registry and _registry[name].func is not func:
            raise ValueError(f"Job type {name!r} is registered twice.")
        _registry[name] = JobType(
            name=name,
            func=func,
            label=label or name,
            atomic=atomic,
            permissions=tuple(permissions),
            validate=validate,
        )
        return func

    return register


def get_job_type(name: str) -> JobType | None:
    return _registry.get(name)


def job_types() -> dict[str, JobType]:
    return dict(_registry)


def job_label(name: str) -> str:
    jt = _registry.get(name)
    return jt.label if jt else name


# What the running jobs of this process report between database writes. Inside
# an atomic job on SQLite no other connection can write, so the progress bar of
# the embedded worker (same process as the web server) reads it from here.
_live_lock = threading.Lock()
_live_progress: dict[int, tuple[int, int]] = {}
_live_cancel: set[int] = set()
_live_handback: set[int] = set()
# Set once, for good, when this whole process stops (a `patron worker` that got SIGTERM).
# A plain flag: a signal handler sets it while the job thread may hold `_live_lock`.
_process_stopping = False


def live_progress(job_id: int) -> tuple[int, int] | None:
    with _live_lock:
        return _live_progress.get(job_id)


def request_live_cancel(job_id: int) -> bool:
    """Ask a job running in this process to stop; False when it is not running here."""
    with _live_lock:
        if job_id not in _live_progress:
            return False
        _live_cancel.add(job_id)
        return True


def request_live_handback() -> list[int]:
    """Ask every job running in this process to stop at its next checkpoint and go back
    to the queue (the process is shutting down); returns their ids."""
    with _live_lock:
        _live_handback.update(_live_progress)
        return sorted(_live_progress)


def request_process_handback() -> None:
    """This process is stopping: every job it runs goes back to the queue at its next
    checkpoint, and it claims no new job. Safe to call from a signal handler."""
    global _process_stopping
    _process_stopping = True


def process_stopping() -> bool:
    return _process_stopping


def running_here() -> bool:
    """Whether a job is running in this process."""
    return bool(_live_progress)


def _live_start(job_id: int) -> None:
    with _live_lock:
        _live_progress[job_id] = (0, 0)
        _live_cancel.discard(job_id)
        _live_handback.discard(job_id)


def _live_end(job_id: int) -> None:
    with _live_lock:
        _live_progress.pop(job_id, None)
        _live_cancel.discard(job_id)
        _live_handback.discard(job_id)


def side_connection():
    """A separate autocommit connection, for progress and heartbeats during a transaction.

    None on SQLite, where a second writer would wait for the job's own
    transaction to end.
    """
    if connection.vendor == "sqlite":
        return None
    return connections.create_connection("default")


@dataclass
class JobContext:
    """What a job function gets besides its row: the actor, progress, cancel, failures."""

    job: object
    job_type: JobType
    actor: Actor
    progress_interval: float = 0.5
    failures: list = field(default_factory=list)
    _last_write: float = 0.0
    _last_cancel_check: float = 0.0
    _side: object = None

    @property
    def params(self) -> dict:
        return self.job.params

    def progress(self, done: int, total: int | None = None) -> None:
        """Report progress; written at most every `progress_interval` seconds."""
        total = self.job.progress_total if total is None else total
        done, total = int(done), int(total)
        self.job.progress_done, self.job.progress_total = done, total
        with _live_lock:
            if self.job.pk in _live_progress:
                _live_progress[self.job.pk] = (done, total)
        now = time.monotonic()
        if now - self._last_write < self.progress_interval and done < total:
            return
        self._last_write = now
        self._write(progress_done=done, progress_total=total, heartbeat_at=timezone.now())

    def check_cancelled(self) -> None:
        """Raise `Cancelled` if someone asked this job to stop, `HandedBack` if it must go
        back to the queue (its process is stopping, or its claim is no longer its own)."""
        if _process_stopping:
            raise HandedBack()
        with _live_lock:
            if self.job.pk in _live_handback:
                raise HandedBack()
            if self.job.pk in _live_cancel:
                raise Cancelled()
        now = time.monotonic()
        if now - self._last_cancel_check < self.progress_interval:
            return
        self._last_cancel_check = now
        from patron.jobs.models import Job

        row = Job.objects.filter(pk=self.job.pk).values_list("cancel_requested", "claim").first()
        if row is None or row[1] != self.job.claim:
            raise HandedBack()
        if row[0]:
            raise Cancelled()

    def fail(self, customer, message: str) -> None:
        """Record that `customer` (or None for an input that named no customer) was skipped."""
        self.failures.append((customer, str(message)[:500]))

    def _write(self, **values) -> None:
        from patron.jobs.models import Job

        if not self.job_type.atomic or not connection.in_atomic_block:
            # Chunked jobs: the write joins the chunk's transaction, so progress
            # is the chunk's marker and commits or rolls back with its work.
            Job.objects.filter(pk=self.job.pk, claim=self.job.claim).update(**values)
            return
        if self._side is None:
            self._side = side_connection() or False
        if not self._side:
            return
        assignments = ", ".join(f"{name} = %s" for name in values)
        try:
            with self._side.cursor() as cursor:
                cursor.execute(
                    f"UPDATE {Job._meta.db_table} SET {assignments} WHERE id = %s AND claim = %s",
                    [
                        *(
                            self._side.ops.adapt_datetimefield_value(v) if k.endswith("_at") else v
                            for k, v in values.items()
                        ),
                        self.job.pk,
                        self.job.claim,
                    ],
                )
        except DatabaseError:
            # Progress is a courtesy; the job itself must not fail because of it.
            pass

    def close(self) -> None:
        if self._side:
            self._side.close()
        self._side = None
