"""Celery tasks: thin wrappers around the job services."""

from celery import shared_task

from patron.jobs.dispatch import RUN_TASK


@shared_task(name=RUN_TASK, ignore_result=True, acks_late=True, reject_on_worker_lost=True)
def run_job(job_id: int) -> None:
    """Run one job by id; a duplicate delivery finds it claimed and does nothing."""
    from patron.jobs.services import job_run  # app registry not ready when the app imports this

    job_run(int(job_id))
