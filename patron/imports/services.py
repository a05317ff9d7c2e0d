"""Customer imports: upload, dry run, all-or-nothing apply.

    imp = import_upload(actor=actor, upload=file)      # stores the file, queues the check
    ... the check job fills imp.errors / imp.row_count
    job = import_apply_start(actor=actor, customer_import=imp)

`customers_import_file()` is the same check and apply in one call, for the
command line and the benchmark.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.imports.applying import CustomerRowsWriter
from patron.imports.checking import (
    CustomerFileChecker,
    ImportOptions,
    RowError,
    preview_row,
)
from patron.imports.matching import Matcher, existing_account_numbers, names_by_id
from patron.imports.models import CustomerImport
from patron.imports.names import missing_names_create
from patron.imports.reading import FileProblem, detect_format, read_rows
from patron.imports.rejected import RejectedRowsFile
from patron.imports.storage import storage_dir
from patron.imports.updating import CustomerRowsUpdater

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
    updated: int = 0
    unchanged: int = 0
    to_create: int = 0
    to_update: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    header_errors: int = 0
    preview: list[dict] = field(default_factory=list)
    headers: list[str] = field(default_factory=list)
    unknown_headers: list[str] = field(default_factory=list)
    missing: list[dict] = field(default_factory=list)
    missing_refusal: str = ""
    notes: dict = field(default_factory=dict)
    names_created: dict = field(default_factory=dict)

    @property
    def applicable(self) -> bool:
        """Whether the file can be applied with its options as they are."""
        return not self.header_errors

    def summary(self) -> dict:
        return {
            "to_create": self.to_create,
            "to_update": self.to_update,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
            "missing": self.missing,
            "missing_refusal": self.missing_refusal,
            "unknown_headers": self.unknown_headers,
            "home_country_rows": self.notes.get("home_country", 0),
            "phones_kept": self.notes.get("phone_kept", 0),
            "names_created": self.names_created,
        }


def _progress(context, done: int) -> None:
    if context is not None:
        context.progress(done, max(done, context.job.progress_total))
        context.check_cancelled()


def check_file(
    *,
    actor: Actor,
    path: Path,
    file_format: str,
    options: ImportOptions | None = None,
    writer=None,
    context=None,
    rejected_path: Path | None = None,
) -> ImportOutcome:
    """Read and check every row; with `writer`, also write the valid chunks.

    All or nothing: once a single error is found nothing more is written, and
    the caller's transaction must be rolled back (`import_file_apply` does
    that). Apply the valid rows: rows with errors are left out (and written to
    `rejected_path`), the others are written.
    """
    options = options or ImportOptions()
    outcome = ImportOutcome()
    checker = CustomerFileChecker(actor, options)
    matcher = Matcher(checker, names_by_id=names_by_id(), existing_numbers=existing_account_numbers)
    updater = None
    if writer is not None:
        # The writer must see the account numbers met so far, so an automatic
        # number never repeats one named further down the file.
        checker.seen = writer.taken
        updater = CustomerRowsUpdater(writer)
    rejected = None
    try:
        rows = read_rows(path, file_format)
        header = next(rows, None)
        if header is None or not any(header):
            outcome.errors.append(RowError(1, "", "The file is empty: it has no header row."))
            outcome.error_count = outcome.header_errors = 1
            return outcome
        outcome.headers = list(header)
        header_errors = checker.check_header(header)
        outcome.unknown_headers = checker.unknown_headers
        if header_errors:
            outcome.errors.extend(header_errors)
            outcome.error_count = outcome.header_errors = len(header_errors)
        if checker.fatal_header:
            return outcome  # the rows cannot be read without the column
        if rejected_path is not None:
            rejected = RejectedRowsFile(rejected_path, list(header))
        all_or_nothing = options.on_error == "all_or_nothing"
        for chunk, errors, rejected_rows in checker.check_rows(rows, matcher):
            outcome.rows += len(chunk) + len(rejected_rows)
            outcome.error_count += len(errors)
            outcome.rejected += len(rejected_rows)
            room = ERRORS_KEPT - len(outcome.errors)
            if room > 0:
                outcome.errors.extend(errors[:room])
            if rejected is not None:
                for _row, cells, reason in rejected_rows:
                    rejected.add(cells, reason)
            if len(outcome.preview) < PREVIEW_ROWS:
                outcome.preview.extend(
                    preview_row(r) for r in chunk[: PREVIEW_ROWS - len(outcome.preview)]
                )
            if writer is not None:
                if outcome.header_errors or (all_or_nothing and outcome.error_count):
                    # Nothing of this file may be applied: stop at the first bad chunk.
                    return outcome
                creates = [r for r in chunk if r.existing_id is None]
                outcome.created += writer.write(creates)
                outcome.updated += updater.write([r for r in chunk if r.existing_id is not None])
            _progress(context, outcome.rows)
    except FileProblem as exc:
        outcome.errors.append(RowError(exc.row or 1, "", exc.message))
        outcome.error_count += 1
        outcome.header_errors += 1
    finally:
        if rejected is not None:
            rejected.close()
    outcome.to_create = matcher.counts["create"]
    outcome.to_update = matcher.counts["update"]
    outcome.unchanged = matcher.counts["unchanged"]
    outcome.missing = checker.missing.as_list()
    outcome.notes = dict(checker.notes_count)
    if outcome.missing and options.create_missing:
        outcome.missing_refusal = checker.creating_refusal()
    return outcome


def _failure_message(outcome: ImportOutcome) -> str:
    shown = "; ".join(
        f"row {e.row}{f' ({e.column})' if e.column else ''}: {e.message}"
        for e in outcome.errors[:5]
    )
    more = outcome.error_count - min(5, len(outcome.errors))
    return f"The file has {outcome.error_count} error(s), so nothing was imported: {shown}" + (
        f"; and {more} more." if more > 0 else "."
    )


def import_file_apply(
    *,
    actor: Actor,
    path: Path,
    file_format: str,
    label: str,
    options: ImportOptions | None = None,
    missing: list[dict] | None = None,
    context=None,
    rejected_path: Path | None = None,
) -> ImportOutcome:
    """Check and write the file in one transaction.

    All or nothing (the default): any error → nothing written, and a
    ValidationError lists the first errors. Apply the valid rows: the rows
    without errors are written, the others listed (and written to
    `rejected_path`). A header the import cannot read always stops the file.
    With `create_missing`, the names the dry run found missing (`missing`)
    are created first, in the same transaction.
    """
    require_import_perm(actor)
    options = options or ImportOptions()
    names_created = {}
    with transaction.atomic():
        if options.create_missing and missing:
            names_created = missing_names_create(actor=actor, missing=missing)
        # The names now exist; one still missing (named since the dry run) is an error.
        applied = replace(options, create_missing=False)
        writer = CustomerRowsWriter(actor=actor, message=f"Imported from {label}", taken_numbers={})
        outcome = check_file(
            actor=actor,
            path=path,
            file_format=file_format,
            options=applied,
            writer=writer,
            context=context,
            rejected_path=rejected_path,
        )
        outcome.names_created = names_created
        if outcome.header_errors or (options.on_error == "all_or_nothing" and outcome.error_count):
            transaction.set_rollback(True)
            raise ValidationError(_failure_message(outcome))
        writer.finish()
    return outcome


def customers_import_file(
    *, actor: Actor, path: Path | str, dry_run: bool = False, options: ImportOptions | None = None
):
    """Check (and unless `dry_run`, apply) a CSV or XLSX file in this process."""
    path = Path(path)
    options = options or ImportOptions()
    with open(path, "rb") as handle:
        file_format = detect_format(path.name, handle.read(8))
    if dry_run:
        return check_file(actor=actor, path=path, file_format=file_format, options=options)
    missing = None
    if options.create_missing:
        missing = check_file(
            actor=actor, path=path, file_format=file_format, options=options
        ).missing
    return import_file_apply(
        actor=actor,
        path=path,
        file_format=file_format,
        label=path.name,
        options=options,
        missing=missing,
    )


# --- uploads ---------------------------------------------------------------------------


OPTION_FIELDS = ("mode", "match_on", "on_error", "create_missing", "keep_invalid_phones")


def clean_options(options: dict | None) -> dict:
    """The import options in stored form; a clear message for each bad one."""
    options = dict(options or {})
    cleaned, errors = {}, {}
    for name, choices in (
        ("mode", CustomerImport.Mode),
        ("match_on", CustomerImport.MatchOn),
        ("on_error", CustomerImport.OnError),
    ):
        if name in options and options[name] not in (None, ""):
            value = str(options[name])
            if value not in choices.values:
                errors[name] = f"Choose one of: {', '.join(choices.values)}."
            else:
                cleaned[name] = value
    for name in ("create_missing", "keep_invalid_phones"):
        if name in options and options[name] is not None:
            value = options[name]
            if isinstance(value, str):
                value = value.strip().lower() in {"1", "true", "yes", "on"}
            cleaned[name] = bool(value)
    if cleaned.get("match_on") == CustomerImport.MatchOn.EXTERNAL_REFERENCE:
        from django.core.exceptions import FieldDoesNotExist

        from patron.customers.models import Customer

        try:
            Customer._meta.get_field("external_reference")
        except FieldDoesNotExist:
            errors["match_on"] = (
                "Customers have no external reference yet; match on the account number."
            )
    if errors:
        raise ValidationError(errors)
    return cleaned


def import_upload(*, actor: Actor, upload, options: dict | None = None) -> CustomerImport:
    """Store an uploaded file and queue its dry run; refuse what is not a customer file."""
    from patron.jobs.services import job_enqueue

    require_import_perm(actor)
    chosen = clean_options(options)
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
            **chosen,
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
    customer_import.headers = outcome.headers
    customer_import.summary = {**(customer_import.summary or {}), **outcome.summary()}
    customer_import.rejected_count = outcome.rejected
    valid = outcome.to_create + outcome.to_update + outcome.unchanged
    all_or_nothing = customer_import.on_error == CustomerImport.OnError.ALL_OR_NOTHING
    blocked = (
        outcome.header_errors
        or outcome.missing_refusal
        or (all_or_nothing and outcome.error_count)
        or not valid
    )
    customer_import.state = CustomerImport.State.INVALID if blocked else CustomerImport.State.READY
    customer_import.checked_at = timezone.now()
    customer_import.save(
        update_fields=[
            "row_count",
            "error_count",
            "errors",
            "preview",
            "headers",
            "summary",
            "rejected_count",
            "rejected_name",
            "state",
            "checked_at",
            "mapping",
        ]
    )


def rejected_file_name(customer_import: CustomerImport) -> str:
    return f"{Path(customer_import.stored_name).stem}-rejected.csv"


def import_options_set(
    *,
    actor: Actor,
    customer_import: CustomerImport,
    options: dict | None = None,
    mapping: dict | None = None,
    remember: bool = True,
) -> CustomerImport:
    """Change the options or the column mapping of an import not yet applied, and check
    the file again with them. A mapping is remembered for files with the same headers."""
    from patron.imports.mapping import clean_mapping, mapping_remember
    from patron.jobs.services import job_enqueue

    require_import_perm(actor)
    chosen = clean_options(options)
    with transaction.atomic():
        locked = CustomerImport.objects.select_for_update().get(pk=customer_import.pk)
        if locked.state == CustomerImport.State.APPLIED:
            raise ValidationError("This file has already been imported.")
        if locked.apply_job is not None and not locked.apply_job.is_finished:
            raise ValidationError("The file is being imported; wait for the import to end.")
        if mapping is not None:
            if not locked.headers:
                raise ValidationError(
                    {"mapping": "The file is still being checked; map its columns once it is."}
                )
            locked.mapping = {**(locked.mapping or {}), **clean_mapping(locked.headers, mapping)}
            if remember:
                mapping_remember(actor=actor, headers=locked.headers, mapping=locked.mapping)
        for name, value in chosen.items():
            setattr(locked, name, value)
        locked.state = CustomerImport.State.CHECKING
        locked.save(update_fields=["mapping", "state", *OPTION_FIELDS])
        job = job_enqueue(actor=actor, kind=CHECK_JOB, params={"import": locked.pk})
        locked.check_job = job
        locked.save(update_fields=["check_job"])
    return locked


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
