"""The scheduled pass: the work Patron does on its own, every few minutes or daily.

One pass, in this order:

1. pending status changes whose day has come are applied;
2. customers whose status has run its course move on to the next status;
3. temporary group memberships end and scheduled ones start, and dynamic
   groups note who entered and left (after 1 and 2, since a segment may
   name a status);
4. export files and import uploads past their retention period are removed;
5. idempotency keys older than `PATRON_IDEMPOTENCY_HOURS` are forgotten
   (`core/idempotency.py`).

Each step belongs to its app (`customers/services/status.py`,
`groups/schedule.py`, `imports/retention.py`) and is idempotent, so running
the pass twice, or from several processes, moves each customer once. The
pass lives here on the top floor because it is the one place that calls all
three apps: `patron serve` runs it in its scheduler thread, and
`patron manage run_status_schedule` runs it from cron.
"""

from __future__ import annotations

import datetime

from patron.core.idempotency import idempotency_purge
from patron.customers.services.status import status_changes_apply_due, statuses_progress_due
from patron.groups.schedule import groups_schedule_run
from patron.imports.retention import exports_expire


def scheduled_pass(*, today: datetime.date | None = None) -> dict:
    """One pass of the scheduler; the counts of what each step did, for the log."""
    return {
        "applied": status_changes_apply_due(today=today),
        "progressed": statuses_progress_due(today=today),
        **groups_schedule_run(today=today),
        **exports_expire(),
        "idempotency_keys_expired": idempotency_purge(),
    }
