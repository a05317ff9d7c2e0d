"""The Celery application behind `patron worker`.

Configured from Django settings (the CELERY_* names, broker from
PATRON_BROKER_URL). Jobs are rows in the database; the broker only carries
their ids, so any number of workers on any number of machines can share it.
"""

import os
import threading

from celery import Celery
from celery.signals import worker_ready, worker_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patron.settings")

app = Celery("patron", include=["patron.jobs.tasks"])
app.config_from_object("django.conf:settings", namespace="CELERY")

# The tasks are registered the moment the app exists, not only once a worker starts
# (`include` alone is read at worker start): a process that sends or inspects a job
# knows `patron.jobs.run` whatever it imported before. patron.jobs.tasks does not
# import this module, so there is no cycle.
import patron.jobs.tasks  # noqa: E402, F401

_maintenance_stopped = threading.Event()


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
