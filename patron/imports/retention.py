"""Export files and uploaded customer files do not stay for ever.

An export's file is kept for `PATRON_EXPORT_RETENTION_DAYS` days after its
job finished (0 keeps it for ever); the hourly scheduler then deletes it and
notes on the job when it expired, so the download answers "This export
expired on DATE; run it again" (HTTP 410) and the job's pages say so. An
uploaded customer file goes once its import is applied, or once it has been
left unapplied for the same number of days. Files in those folders that no
row needs any more (a job that stopped half-way, say) go by the same age.

`exports_expire()` is idempotent: running it twice, or from two processes at
once, deletes and notes each file once, and a file already gone is no error.
"""

from __future__ import annotations

import datetime
import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format

from patron.imports.storage import storage_dir

logger = logging.getLogger("patron.imports")

EXPIRED_AT = "expired_at"  # key in an export job's result_summary


def retention_days() -> int:
    return max(0, int(settings.PATRON_EXPORT_RETENTION_DAYS))


def _cutoff(now: datetime.datetime) -> datetime.datetime | None:
    days = retention_days()
    return now - datetime.timedelta(days=days) if days else None


def export_expires_at(job) -> datetime.datetime | None:
    """When a finished export's file expires (or expired); None when it never does."""
    recorded = (job.result_summary or {}).get(EXPIRED_AT)
    if recorded:
        return datetime.datetime.fromisoformat(recorded)
    days = retention_days()
    if not days or job.finished_at is None:
        return None
    return job.finished_at + datetime.timedelta(days=days)


def export_expired_on(job, *, now=None) -> datetime.date | None:
    """The day a succeeded export's file expired, or None while it may still be downloaded."""
    expires = export_expires_at(job)
    if expires is None or expires > (now or timezone.now()):
        return None
    return timezone.localdate(expires)


def export_expired_message(day: datetime.date) -> str:
    return f"This export expired on {date_format(day, 'j F Y')}; run it again."


def _unlink(path: Path) -> bool:
    """Delete `path`; False when it was already gone or cannot be deleted (logged)."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        logger.warning("Could not delete %s: %s", path, exc)
        return False
    return True


def _expire_export_job(pk: int, now: datetime.datetime, dry_run: bool) -> bool:
    from patron.imports.exporting import export_path
    from patron.jobs.models import Job

    if dry_run:
        return True
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=pk).first()
        summary = dict(job.result_summary or {}) if job is not None else {}
        if job is None or summary.get(EXPIRED_AT):
            return False  # another pass got there first
        name = summary.get("file")
        if name:
            _unlink(export_path(name))
        # The day its retention ended, which may be before this pass deleted it.
        expired = min(now, export_expires_at(job) or now)
        summary[EXPIRED_AT] = expired.isoformat()
        when = date_format(timezone.localdate(expired), "j F Y")
        summary["message"] = f"{summary.get('message', '')} The file expired on {when}.".strip()
        job.result_summary = summary
        job.save(update_fields=["result_summary"])
    return True


def _old_files(folder: Path, cutoff: datetime.datetime, keep: set[str]) -> list[Path]:
    """Files in `folder` last written before `cutoff` whose names are not in `keep`."""
    stamp = cutoff.timestamp()
    old = []
    for path in folder.iterdir():
        try:
            if path.is_file() and path.name not in keep and path.stat().st_mtime < stamp:
                old.append(path)
        except FileNotFoundError:
            continue  # deleted meanwhile
    return old


def exports_expire(*, now=None, dry_run: bool = False) -> dict:
    """Delete export files and import uploads past the retention period; return the counts.

    With `dry_run` nothing is deleted or noted: the counts say what would be.
    """
    from patron.imports.jobs import EXPORT_JOB
    from patron.imports.models import CustomerImport
    from patron.jobs.models import Job

    result = {"exports_expired": 0, "export_files_removed": 0, "import_files_removed": 0}
    now = now or timezone.now()
    cutoff = _cutoff(now)
    if cutoff is None:
        return result

    exports = Job.objects.filter(kind=EXPORT_JOB)
    due = dict(
        exports.filter(state=Job.State.SUCCEEDED, finished_at__lt=cutoff)
        .exclude(result_summary__has_key=EXPIRED_AT)
        .order_by("pk")
        .values_list("pk", "result_summary")
    )
    for pk in due:
        result["exports_expired"] += _expire_export_job(pk, now, dry_run)
    # Leftovers of exports that stopped half-way, or whose job row is gone.
    live = exports.filter(Q(finished_at__gte=cutoff) | Q(finished_at__isnull=True))
    keep = {
        str((summary or {}).get("file"))
        for summary in [*live.values_list("result_summary", flat=True), *due.values()]
    }
    for path in _old_files(storage_dir("exports"), cutoff, keep):
        result["export_files_removed"] += dry_run or _unlink(path)

    # An upload is needed while its import may still be applied: not applied and
    # younger than the retention period, or with its check or apply job still going.
    # Older files of applied or abandoned imports go by their age; a file the apply
    # job left behind (it deletes its file itself) goes at once.
    needed = CustomerImport.objects.filter(
        (~Q(state=CustomerImport.State.APPLIED) & Q(created__gte=cutoff))
        | Q(apply_job__state__in=Job.UNFINISHED)
        | Q(check_job__state__in=Job.UNFINISHED)
    )
    keep = set(needed.values_list("stored_name", flat=True))
    folder = storage_dir("imports")
    removable = {p.name: p for p in _old_files(folder, cutoff, keep)}
    applied = CustomerImport.objects.filter(
        state=CustomerImport.State.APPLIED, applied_at__gte=cutoff
    ).exclude(stored_name__in=keep)
    for name in applied.values_list("stored_name", flat=True):
        if name and (folder / name).is_file():
            removable.setdefault(name, folder / name)
    for path in removable.values():
        result["import_files_removed"] += dry_run or _unlink(path)
    return result
