"""The Celery application behind `patron worker`.

Configured from Django settings (the CELERY_* names, broker from
PATRON_BROKER_URL). Jobs are rows in the database; the broker only carries
their ids, so any number of workers on any number of machines can share it.
What a worker does besides running jobs (the maintenance sweep, handing jobs
back on SIGTERM) is in `patron/jobs/runner.py`.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "patron.settings")

app = Celery("patron", include=["patron.jobs.tasks"])
app.config_from_object("django.conf:settings", namespace="CELERY")

# Imported here, where the app is configured, not only once a worker starts (`include`
# alone is read at worker start): a process that sends or inspects a job knows
# `patron.jobs.run` whatever it imported before, and every worker has its hooks.
# Neither module imports this one: the jobs package names the app (dispatch.CELERY_APP).
import patron.jobs.runner  # noqa: E402, F401
import patron.jobs.tasks  # noqa: E402, F401
