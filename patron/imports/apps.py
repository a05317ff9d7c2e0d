from django.apps import AppConfig


class ImportsConfig(AppConfig):
    """Customer import and export files, and groups built from phone lists.

    Its job types live in `patron/imports/jobs.py`, which the jobs app
    discovers when Django starts.
    """

    name = "patron.imports"
    label = "imports"
    verbose_name = "Import and export"
