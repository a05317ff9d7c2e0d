"""Handing a queued job to whoever runs jobs: the Celery broker or the embedded worker."""

from __future__ import annotations

import logging

from django.conf import settings

logger = logging.getLogger(__name__)

RUN_TASK = "patron.jobs.run"


def celery_app():
    from patron.celery import app

    return app


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
    from patron.jobs.runner import wake_embedded_worker

    wake_embedded_worker()
