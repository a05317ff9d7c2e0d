"""The Celery application behind `patron worker`.

Configured from Django settings (the CELERY_* names, broker from
PATRON_BROKER_URL). Jobs are rows in the database; the broker only carries
their ids, so any number of workers on any number of machines can share it.
"""

import contextlib
import logging
import os
import signal
import threading
import time

from celery import Celery
from celery.signals import (
    task_prerun,
    worker_ready,
    worker_shutdown,
    worker_shutting_down,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patron.settings")

app = Celery("patron", include=["patron.jobs.tasks"])
app.config_from_object("django.conf:settings", namespace="CELERY")

# The tasks are registered the moment the app exists, not only once a worker starts
# (`include` alone is read at worker start): a process that sends or inspects a job
# knows `patron.jobs.run` whatever it imported before. patron.jobs.tasks does not
# import this module, so there is no cycle.
import patron.jobs.tasks  # noqa: E402, F401

logger = logging.getLogger("patron.worker")

_maintenance_stopped = threading.Event()
_worker = {"stopping": False}


@worker_ready.connect
def _start_maintenance(sender=None, **kwargs):
    if getattr(sender, "app", None) is not app:
        return
    from patron.jobs.runner import maintenance_loop

    threading.Thread(
        target=maintenance_loop,
        args=(_maintenance_stopped,),
        name="patron-job-maintenance",
        daemon=True,
    ).start()


@worker_shutdown.connect
def _stop_maintenance(sender=None, **kwargs):
    _maintenance_stopped.set()


# --- SIGTERM: hand the running jobs back ---------------------------------------------------
#
# Celery's warm shutdown waits for the running tasks however long they take. A job is
# asked instead to stop at its next checkpoint and go back to the queue for another
# worker (`patron.jobs.services.job_hand_back`); PATRON_SHUTDOWN_GRACE_SECONDS bounds the
# wait, after which a pool process still busy is killed and its job handed back here.


def _is_pool_child() -> bool:
    from billiard.process import current_process

    return current_process()._name != "MainProcess"


def _child_sigterm(signum, frame):
    from patron.jobs import registry

    if registry.process_stopping():  # asked twice: stop now
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        return
    registry.request_process_handback()


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
    from celery.worker import state

    pids = {getattr(request, "worker_pid", None) for request in list(state.active_requests)}
    return sorted(pid for pid in pids if pid and pid != os.getpid())


@worker_shutting_down.connect
def _hand_back_running_jobs(sender=None, **kwargs):
    if _worker["stopping"]:
        return
    _worker["stopping"] = True
    from django.conf import settings

    from patron.jobs import registry

    registry.request_process_handback()  # jobs of a solo or threads pool run in this process
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
    from django.db import close_old_connections, connection

    from patron.jobs import registry, services

    if registry.running_here():
        logger.warning(
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
            logger.warning(
                "Jobs %s did not reach a checkpoint within %s seconds; handed back.",
                ", ".join(f"#{pk}" for pk in returned),
                grace,
            )
    finally:
        connection.close()
