"""Handing a queued job to whoever runs jobs: the Celery broker or the embedded worker.

Both are reached without importing them. The embedded worker of this process
(`runner.EmbeddedWorker`) lends its wake-up event here while it runs. The
Celery app is named, as `celery -A` names it: `patron/celery.py` configures
it and imports the job task and the worker hooks from this package, so this
package never imports it back.
"""

from __future__ import annotations

import logging
import threading

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

RUN_TASK = "patron.jobs.run"
CELERY_APP = "patron.celery.app"

# The wake-up event of the embedded worker running in this process, if one runs.
_embedded_wakeup: threading.Event | None = None


def wake_embedded_worker_with(event: threading.Event | None) -> None:
    """The embedded worker starting (its event) or stopping (None) in this process."""
    global _embedded_wakeup
    _embedded_wakeup = event


def celery_app():
    """The Celery app of `patron worker`, loaded the first time a job goes to a broker."""
    return import_string(CELERY_APP)


def dispatch(job_id: int) -> None:
    """Send the job to the broker, or wake the embedded worker when there is none.

    A job that cannot be sent stays queued; the workers' periodic sweep sends
    it again, and the atomic claim makes a duplicate message harmless.
    """
    if getattr(settings, "PATRON_BROKER_URL", ""):
        try:
            celery_app().send_task(RUN_TASK, args=[job_id])
        except Exception:
            logger.exception("Could not send job #%s to the broker; it stays queued.", job_id)
        return
    event = _embedded_wakeup
    if event is not None:
        event.set()
