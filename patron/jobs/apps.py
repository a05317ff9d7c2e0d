from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class JobsConfig(AppConfig):
    name = "patron.jobs"
    label = "jobs"
    verbose_name = "Background jobs"

    def ready(self):
        # Job types register one way: each app's `jobs.py` (bulk/jobs.py, imports/jobs.py).
        autodiscover_modules("jobs")
