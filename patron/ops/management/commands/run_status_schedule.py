"""Run the scheduled pass once (daily from cron, or every few minutes inside `patron serve`):
due status changes, automatic progressions, group schedules, export retention."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from patron.customers.services import statuses_progress_preview
from patron.ops.schedule import scheduled_pass


class Command(BaseCommand):
    help = "Apply pending status changes whose day has come and move customers on to next statuses."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Run as if today were this date (YYYY-MM-DD).")
        parser.add_argument(
            "--preview", action="store_true", help="Only say how many customers would move."
        )

    def handle(self, *args, date=None, preview=False, **options):
        try:
            day = datetime.date.fromisoformat(date) if date else None
        except ValueError as exc:
            raise CommandError(f"--date must look like 2026-03-31, not “{date}”.") from exc
        if preview:
            rows = statuses_progress_preview(on_date=day)
            for row in rows:
                self.stdout.write(
                    f"{row.count} customer(s) will move from {row.status} to {row.next_status}"
                )
            if not rows:
                self.stdout.write("No status has a next status.")
            return
        result = scheduled_pass(today=day)
        self.stdout.write(
            f"Applied {result['applied']} scheduled change(s); "
            f"moved {result['progressed']} customer(s) on to their next status."
        )
        self.stdout.write(
            f"Ended {result['memberships_ended']} temporary group membership(s); dynamic groups: "
            f"{result['dynamic_entered']} customer(s) entered, {result['dynamic_left']} left."
        )
