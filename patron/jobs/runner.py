"""The processes that run jobs.

Embedded mode (no PATRON_BROKER_URL): `patron serve` calls
`start_embedded_worker()`, a thread that takes queued jobs from the database
one at a time. With a broker, `patron worker` calls `run_celery_worker()`.
"""

from __future__ import annotations

import logging
import threading
import time

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection

logger = logging.getLogger(__name__)

MAINTENANCE_SECONDS = 30


class EmbeddedWorker(threading.Thread):
    """Polls the job table and runs one queued job at a time, in this process.

    Several web processes may each run one: the atomic claim in `job_run`
    gives every job to exactly one of them.
    """

    def __init__(self, poll_interval: float = 1.0):
        super().__init__(name="patron-embedded-worker", daemon=True)
        self.poll_interval = poll_interval
        self.wakeup = threading.Event()
        self.stopped = threading.Event()
        self._last_maintenance = 0.0

    def run(self):
        from patron.jobs import services

        try:
            while not self.stopped.is_set():
                job_id = None
                try:
                    close_old_connections()
                    if time.monotonic() - self._last_maintenance > MAINTENANCE_SECONDS:
                        self._last_maintenance = time.monotonic()
                        services.jobs_recover_stale()
                    job_id = services.next_queued_job_id()
                    if job_id is not None:
                        services.job_run(job_id)
                except DatabaseError:
                    # A busy SQLite file or a database restart: try again shortly.
                    logger.warning(
                        "The embedded worker could not reach the database.", exc_info=True
                    )
                    job_id = None
                except Exception:
                    logger.exception("The embedded worker failed on job #%s", job_id)
                if job_id is None:
                    self.wakeup.wait(self.poll_interval)
                    self.wakeup.clear()
        finally:
            connection.close()

    def stop(self, timeout: float | None = 10) -> bool:
        """Take no new job, hand the running one back at its next checkpoint, wait for it.

        True when the thread has ended within `timeout` seconds (None: no limit).
        """
        from patron.jobs import registry

        self.stopped.set()
        self.wakeup.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.is_alive():
            # Asked again each round: a job claimed just as the stop began is marked too.
            registry.request_live_handback()
            left = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
            if left <= 0:
                break
            self.join(left)
        return not self.is_alive()


_embedded: EmbeddedWorker | None = None
_embedded_lock = threading.Lock()


def start_embedded_worker(poll_interval: float = 1.0) -> EmbeddedWorker | None:
    """Start this process's job thread (idempotent); None when a broker is configured.

    Called by `patron serve` once Django is set up.
    """
    global _embedded
    if getattr(settings, "PATRON_BROKER_URL", ""):
        return None
    with _embedded_lock:
        if _embedded is None or not _embedded.is_alive():
            _embedded = EmbeddedWorker(poll_interval=poll_interval)
            _embedded.start()
        return _embedded


def stop_embedded_worker(timeout: float | None = 10) -> bool:
    """Stop this process's job thread: a running job goes back to the queue at its next
    checkpoint (`services.job_hand_back`). False when it was still running at `timeout`."""
    global _embedded
    with _embedded_lock:
        worker, _embedded = _embedded, None
    if worker is None:
        return True
    stopped = worker.stop(timeout)
    if not stopped:
        logger.warning(
            "A job was still running after %s seconds; the sweep will queue it again once its "
            "heartbeat is PATRON_JOB_STALE_SECONDS old.",
            timeout,
        )
    return stopped


def wake_embedded_worker() -> None:
    """Let the embedded worker pick up a new job now rather than at its next poll."""
    worker = _embedded
    if worker is not None:
        worker.wakeup.set()


def run_celery_worker(argv: list[str] | None = None) -> int:
    """`patron worker`: a Celery worker for PATRON_BROKER_URL, plus the recovery sweep.

    `argv` are extra `celery worker` options (e.g. ["--concurrency=4"]).
    Returns the exit status.
    """
    if not getattr(settings, "PATRON_BROKER_URL", ""):
        print(
            "PATRON_BROKER_URL is not set, so `patron serve` runs jobs itself. "
            "Set it to redis://… or amqp://… to run jobs in separate workers."
        )
        return 2
    from patron.celery import app

    args = ["worker", "--loglevel=INFO", *(argv or [])]
    app.worker_main(args)
    return 0


def maintenance_loop(stopped: threading.Event, interval: float = MAINTENANCE_SECONDS) -> None:
    """Recover jobs of stopped workers and resend jobs a broker outage left waiting."""
    from patron.jobs import services

    try:
        while not stopped.wait(interval):
            try:
                close_old_connections()
                services.jobs_recover_stale()
                services.jobs_redispatch_waiting()
            except Exception:
                logger.exception("Job maintenance sweep failed")
    finally:
        connection.close()
