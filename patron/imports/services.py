"""Customer imports: upload, dry run, all-or-nothing apply.

    imp = import_upload(actor=actor, upload=file)      # stores the file, queues the check
    ... the check job fills imp.errors / imp.row_count
    job = import_apply_start(actor=actor, customer_import=imp)

`customers_import_file()` is the same check and apply in one call, for the
command line and the benchmark.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.imports.applying import CustomerRowsWriter
from patron.imports.checking import (
    CustomerFileChecker,
    RowError,
    existing_account_numbers,
    preview_row,
)
from patron.imports.models import CustomerImport
from patron.imports.reading import FileProblem, detect_format, read_rows
from patron.imports.storage import storage_dir

MAX_UPLOAD_BYTES = 512 * 1024 * 1024
ERRORS_KEPT = 1000
PREVIEW_ROWS = 10
IMPORT_PERMISSION = "customers.add_customer"
CHECK_JOB = "imports.check_customers"
APPLY_JOB = "imports.apply_customers"


def require_import_perm(actor: Actor) -> None:
    if not actor.has_perm(IMPORT_PERMISSION):
        raise PermissionDenied("Your role does not allow you to add customers.")


@dataclass
class ImportOutcome:
    """What checking (and perhaps applying) a file found."""

    rows: int = 0
    created: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    preview: list[dict] = field(default_factory=list)


def _progress(context, done: int) -> None:
    if context is not None:
        context.progress(done, max(done, context.job.progress_total))
        context.check_cancelled()


def check_file(
    *, actor: Actor, path: Path, file_format: str, writer=None, context=None
) -> ImportOutcome:
    """Read and check every row; with `writer`, also write the valid chunks.

    Once a single error is found nothing more is written, and the caller's
    transaction must be rolled back (`import_file_apply` does that).
    """
    outcome = ImportOutcome()
    checker = CustomerFileChecker(actor)
    if writer is not None:
        # The writer must see the account numbers met so far, so an automatic
        # number never repeats one named further down the file.
        checker.seen = writer.taken
    try:
        rows = read_rows(path, file_format)
        header = next(rows, None)
        if header is None or not any(header):
            outcome.errors.append(RowError(1, "", "The file is empty: it has no header row."))
            outcome.error_count = 1
            return outcome
        header_errors = checker.check_header(header)
        if header_errors:
            outcome.errors.extend(header_errors)
            outcome.error_count = len(header_errors)
            return outcome
        for chunk, errors in checker.check_rows(rows, existing_account_numbers):
            outcome.rows += len(chunk) + len({e.row for e in errors})
            outcome.error_count += len(errors)
            room = ERRORS_KEPT - len(outcome.errors)
            if room > 0:
                outcome.errors.extend(errors[:room])
            if len(outcome.preview) < PREVIEW_ROWS:
                outcome.preview.extend(
                    preview_row(r) for r in chunk[: PREVIEW_ROWS - len(outcome.preview)]
                )
            if writer is not None:
                if outcome.error_count:
                    # Nothing of this file may be applied: stop at the first bad chunk.
                    return outcome
                outcome.created += writer.write(chunk)
            _progress(context, outcome.rows)
    except FileProblem as exc:
        outcome.errors.append(RowError(exc.row or 1, "", exc.message))
        outcome.error_count += 1
    return outcome


def import_file_apply(
    *, actor: Actor, path: Path, file_format: str, label: str, context=None
) -> ImportOutcome:
    """Check and write the whole file in one transaction; any error → nothing written.

    Raises ValidationError listing the first errors when the file is not clean.
    """
    require_import_perm(actor)
    with transaction.atomic():
        writer = CustomerRowsWriter(actor=actor, message=f"Imported from {label}", taken_numbers={})
        outcome = check_file(
            actor=actor, path=path, file_format=file_format, writer=writer, context=context
        )
        if outcome.error_count:
            transaction.set_rollback(True)
            shown = "; ".join(
                f"row {e.row}{f' ({e.column})' if e.column else ''}: {e.message}"
                for e in outcome.errors[:5]
            )
            more = outcome.error_count - min(5, len(outcome.errors))
            raise ValidationError(
                f"The file has {outcome.error_count} error(s), so nothing was imported: {shown}"
                + (f"; and {more} more." if more > 0 else ".")
            )
        writer.finish()
    return outcome


def customers_import_file(*, actor: Actor, path: Path | str, dry_run: bool = False):
    """Check (and unless `dry_run`, apply) a CSV or XLSX file in this process."""
    path = Path(path)
    with open(path, "rb") as handle:
        file_format = detect_format(path.name, handle.read(8))
    if dry_run:
        return check_file(actor=actor, path=path, file_format=file_format)
    return import_file_apply(actor=actor, path=path, file_format=file_format, label=path.name)


# --- uploads ---------------------------------------------------------------------------


def import_upload(*, actor: Actor, upload) -> CustomerImport:
    """Store an uploaded file and queue its dry run; refuse what is not a customer file."""
    from patron.jobs.services import job_enqueue

    require_import_perm(actor)
    if upload is None:
        raise ValidationError({"file": "Choose a CSV or XLSX file to upload."})
    if upload.size == 0:
        raise ValidationError({"file": "The file is empty."})
    if upload.size > MAX_UPLOAD_BYTES:
        raise ValidationError(
            {"file": f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB."}
        )
    head = upload.read(8)
    upload.seek(0)
    try:
        file_format = detect_format(upload.name or "", head)
    except FileProblem as exc:
        raise ValidationError({"file": exc.message}) from None
    stored_name = f"{uuid.uuid4().hex}.{file_format}"
    target = storage_dir("imports") / stored_name
    with open(target, "wb") as out:
        for piece in upload.chunks():
            out.write(piece)
    with transaction.atomic():
        customer_import = CustomerImport.objects.create(
            uploaded_by=actor.user if actor.user is not None and actor.user.pk else None,
            actor_label=actor.label[:200],
            original_name=(upload.name or "upload")[:255],
            file_format=file_format,
            stored_name=stored_name,
            size=upload.size,
        )
        job = job_enqueue(actor=actor, kind=CHECK_JOB, params={"import": customer_import.pk})
        customer_import.check_job = job
        customer_import.save(update_fields=["check_job"])
    return customer_import


def import_record_check(customer_import: CustomerImport, outcome: ImportOutcome) -> None:
    """Store what the dry run found on the import."""
    customer_import.row_count = outcome.rows
    customer_import.error_count = outcome.error_count
    customer_import.errors = [e.as_dict() for e in outcome.errors[:ERRORS_KEPT]]
    customer_import.preview = outcome.preview
    customer_import.state = (
        CustomerImport.State.INVALID if outcome.error_count else CustomerImport.State.READY
    )
    customer_import.checked_at = timezone.now()
    customer_import.save(
        update_fields=["row_count", "error_count", "errors", "preview", "state", "checked_at"]
    )


def import_apply_start(*, actor: Actor, customer_import: CustomerImport, idempotency_key=None):
    """Queue the apply job of a checked, error-free import."""
    from patron.jobs.models import Job
    from patron.jobs.services import job_enqueue

    require_import_perm(actor)
    with transaction.atomic():
        locked = CustomerImport.objects.select_for_update().get(pk=customer_import.pk)
        if locked.state == CustomerImport.State.CHECKING:
            if locked.check_job is not None and locked.check_job.is_finished:
                raise ValidationError("The check of this file did not finish; upload it again.")
            raise ValidationError("The file is still being checked; apply it once the check ends.")
        if locked.state == CustomerImport.State.INVALID:
            raise ValidationError(
                f"The file has {locked.error_count} error(s). Correct them and upload it again."
            )
        if locked.state == CustomerImport.State.APPLIED:
            raise ValidationError("This file has already been imported.")
        if locked.apply_job is not None and not locked.apply_job.is_finished:
            return locked.apply_job
        if locked.apply_job is not None and locked.apply_job.state == Job.State.SUCCEEDED:
            raise ValidationError("This file has already been imported.")
        job = job_enqueue(
            actor=actor,
            kind=APPLY_JOB,
            params={"import": locked.pk},
            idempotency_key=idempotency_key,
        )
        locked.apply_job = job
        locked.save(update_fields=["apply_job"])
    customer_import.apply_job = job
    return job
