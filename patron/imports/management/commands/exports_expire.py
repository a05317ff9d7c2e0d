"""Delete export files and uploaded customer files past PATRON_EXPORT_RETENTION_DAYS.

The hourly scheduler of `patron serve` (and `run_status_schedule`) does this
already; the command is for a cron job or for a look first with `--dry-run`.
"""

from django.core.management.base import BaseCommand

from patron.imports.retention import exports_expire, retention_days


class Command(BaseCommand):
    help = "Delete export files and uploaded customer files older than the retention period."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Only say what would be deleted."
        )

    def handle(self, *args, dry_run=False, **options):
        days = retention_days()
        if not days:
            self.stdout.write("PATRON_EXPORT_RETENTION_DAYS is 0: files are kept for ever.")
            return
        result = exports_expire(dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(
            f"{verb} the files of {result['exports_expired']} export(s) older than {days} "
            f"day(s), {result['export_files_removed']} other export file(s) and "
            f"{result['import_files_removed']} uploaded customer file(s)."
        )
