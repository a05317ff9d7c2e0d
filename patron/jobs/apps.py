from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "patron.jobs"
    label = "jobs"
    verbose_name = "Background jobs"

    def ready(self):
        from django.utils.module_loading import autodiscover_modules

        # Patron's own job types, then any `<app>/jobs.py` module that registers more.
        import patron.jobs.types  # noqa: F401

        autodiscover_modules("jobs")
