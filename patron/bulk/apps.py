from django.apps import AppConfig


class BulkConfig(AppConfig):
    """Bulk actions on customers, with preview and undo; their job types are in `jobs.py`."""

    name = "patron.bulk"
    label = "bulk"
    verbose_name = "Bulk actions"
