"""The processes that run jobs.

Embedded mode (no PATRON_BROKER_URL): `patron serve` calls
`start_embedded_worker()`, a thread that takes queued jobs from the database
one at a time. With a broker, `patron worker` calls `run_celery_worker()`,
and the Celery worker's hooks below (imported by `patron/celery.py`) run the
maintenance sweep beside it and hand running jobs back on SIGTERM.

The job services are imported inside the functions that run jobs: the Celery
app imports this module before Django is set up, when no model can load yet.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time

from billiard import process as billiard_process
from celery.signals import task_prerun, worker_ready, worker_shutdown, worker_shutting_down
from celery.worker import state as celery_worker_state
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection

from patron.jobs import dispatch, live

logger = logging.getLogger(__name__)
worker_logger = logging.getLogger("patron.worker")

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
        from patron.jobs import services  # app registry not ready when this module loads

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
        self.stopped.set()
        self.wakeup.set()
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.is_alive():
            # Asked again each round: a job claimed just as the stop began is marked too.
            live.request_live_handback()
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
            dispatch.wake_embedded_worker_with(_embedded.wakeup)
            _embedded.start()
        return _embedded


def stop_embedded_worker(timeout: float | None = 10) -> bool:
    """Stop this process's job thread: a running job goes back to the queue at its next
    checkpoint (`services.job_hand_back`). False when it was still running at `timeout`."""
    global _embedded
    with _embedded_lock:
        worker, _embedded = _embedded, None
        dispatch.wake_embedded_worker_with(None)
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
    args = ["worker", "--loglevel=INFO", *(argv or [])]
    dispatch.celery_app().worker_main(args)
    return 0


def maintenance_loop(stopped: threading.Event, interval: float = MAINTENANCE_SECONDS) -> None:
    """Recover jobs of stopped workers and resend jobs a broker outage left waiting."""
    from patron.jobs import services  # app registry not ready when this module loads

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


# --- the Celery worker's hooks ------------------------------------------------------------
#
# Connected when `patron/celery.py` imports this module, so in every `patron worker`.
# The maintenance sweep runs beside the worker of Patron's own app (not beside a test
# worker of another app in the same process) from `worker_ready` to `worker_shutdown`.

_maintenance_stopped = threading.Event()
_worker = {"stopping": False}


CELERY_APP_NAME = "patron"  # the name `patron/celery.py` gives its Celery app


def _is_patron_worker(sender) -> bool:
    return getattr(getattr(sender, "app", None), "main", None) == CELERY_APP_NAME


@worker_ready.connect
def _start_maintenance(sender=None, **kwargs):
    if not _is_patron_worker(sender):
        return
    threading.Thread(
        target=maintenance_loop,
        args=(_maintenance_stopped,),
        name="patron-job-maintenance",
        daemon=True,
    ).start()


@worker_shutdown.connect
def _stop_maintenance(sender=None, **kwargs):
    _maintenance_stopped.set()


# SIGTERM: hand the running jobs back. Celery's warm shutdown waits for the running
# tasks however long they take. A job is asked instead to stop at its next checkpoint
# and go back to the queue for another worker (`services.job_hand_back`);
# PATRON_SHUTDOWN_GRACE_SECONDS bounds the wait, after which a pool process still busy
# is killed and its job handed back here.


def _is_pool_child() -> bool:
    return billiard_process.current_process()._name != "MainProcess"


def _child_sigterm(signum, frame):
    if live.process_stopping():  # asked twice: stop now
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        return
    live.request_process_handback()


@task_prerun.connect
def _hand_back_on_sigterm(**kwargs):
    """In a prefork pool process about to run a job: the first SIGTERM hands it back.

    Installed here rather than at `worker_process_init`, after which billiard sets
    its own SIGTERM handler (exit at once).
    """
    if _is_pool_child() and signal.getsignal(signal.SIGTERM) is not _child_sigterm:
        signal.signal(signal.SIGTERM, _child_sigterm)


def _busy_pool_pids() -> list[int]:
    """The pool processes running a task now (not this process: solo and threads pools)."""
    requests = list(celery_worker_state.active_requests)
    pids = {getattr(request, "worker_pid", None) for request in requests}
    return sorted(pid for pid in pids if pid and pid != os.getpid())


@worker_shutting_down.connect
def _hand_back_running_jobs(sender=None, **kwargs):
    if _worker["stopping"]:
        return
    _worker["stopping"] = True
    live.request_process_handback()  # jobs of a solo or threads pool run in this process
    pids = _busy_pool_pids()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    grace = max(0, int(settings.PATRON_SHUTDOWN_GRACE_SECONDS))
    threading.Thread(
        target=_end_of_grace, args=(pids, grace), name="patron-shutdown-grace", daemon=True
    ).start()


def _end_of_grace(pids: list[int], grace: int) -> None:
    """Still running after the grace period: kill the pool processes and hand their jobs back."""
    time.sleep(grace)
    from patron.jobs import services  # app registry not ready when this module loads

    if live.running_here():
        worker_logger.warning(
            "A job did not reach a checkpoint within %s seconds; stopping without it (it is "
            "queued again once its heartbeat is PATRON_JOB_STALE_SECONDS old).",
            grace,
        )
        os._exit(1)
    killed = []
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        except ProcessLookupError:
            pass
    if not killed:
        return
    time.sleep(0.5)  # the database notices the closed connections and rolls back
    try:
        close_old_connections()
        returned = services.jobs_hand_back([services.worker_name(pid) for pid in killed])
        if returned:
            worker_logger.warning(
                "Jobs %s did not reach a checkpoint within %s seconds; handed back.",
                ", ".join(f"#{pk}" for pk in returned),
                grace,
            )
    finally:
        connection.close()
