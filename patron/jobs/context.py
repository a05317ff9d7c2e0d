"""What a job function runs with besides its row: the `JobContext`.

The context carries the actor, reports progress (through a second connection
while an atomic job's transaction is open, and to `live.py` for this
process), answers "should I stop?" at each checkpoint and collects the
customers the job could not act on. The job types are in `registry.py`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, connections
from django.utils import timezone

from patron.core.actor import Actor
from patron.jobs import live
from patron.jobs.models import Job
from patron.jobs.registry import JobType


class Cancelled(Exception):
    """Raised by `context.check_cancelled()` when someone asked the job to stop."""


class HandedBack(Exception):
    """Raised by `context.check_cancelled()` when the job must go back to the queue.

    Either the process running it is stopping (`request_live_handback`), or its
    claim was released or taken over by another worker meanwhile.
    """


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
        live.report_progress(self.job.pk, done, total)
        now = time.monotonic()
        if now - self._last_write < self.progress_interval and done < total:
            return
        self._last_write = now
        self._write(progress_done=done, progress_total=total, heartbeat_at=timezone.now())

    def check_cancelled(self) -> None:
        """Raise `Cancelled` if someone asked this job to stop, `HandedBack` if it must go
        back to the queue (its process is stopping, or its claim is no longer its own)."""
        asked = live.stop_asked(self.job.pk)
        if asked == "handback":
            raise HandedBack()
        if asked == "cancel":
            raise Cancelled()
        now = time.monotonic()
        if now - self._last_cancel_check < self.progress_interval:
            return
        self._last_cancel_check = now
        row = Job.objects.filter(pk=self.job.pk).values_list("cancel_requested", "claim").first()
        if row is None or row[1] != self.job.claim:
            raise HandedBack()
        if row[0]:
            raise Cancelled()

    def fail(self, customer, message: str) -> None:
        """Record that `customer` (or None for an input that named no customer) was skipped."""
        self.failures.append((customer, str(message)[:500]))

    def _write(self, **values) -> None:
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
