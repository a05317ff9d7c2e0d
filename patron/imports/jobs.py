"""The job types of imports and exports; the jobs app imports this module at start-up."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from patron.core.errors import ValidationError
from patron.customers.selection import selection_data
from patron.imports import exporting
from patron.imports.checking import ImportOptions
from patron.imports.mapping import remembered_mapping
from patron.imports.models import CustomerImport
from patron.imports.reading import FileProblem, read_rows
from patron.imports.services import (
    APPLY_JOB,
    CHECK_JOB,
    ERRORS_KEPT,
    IMPORT_PERMISSION,
    check_file,
    import_file_apply,
    import_record_check,
    rejected_file_name,
)
from patron.jobs.registry import job_type

EXPORT_JOB = "imports.export_customers"


def _import_param(actor, params: dict) -> dict:
    try:
        pk = int(params.get("import"))
    except (TypeError, ValueError):
        raise ValidationError({"import": "Name the import by its id."}) from None
    if not CustomerImport.objects.filter(pk=pk).exists():
        raise ValidationError({"import": f"There is no import #{pk}."})
    return {"import": pk}


def _first_row(customer_import: CustomerImport) -> list[str]:
    try:
        return next(read_rows(customer_import.path, customer_import.file_format), None) or []
    except FileProblem:
        return []


@job_type(
    CHECK_JOB,
    label="Check customer file",
    atomic=False,
    permissions=[IMPORT_PERMISSION],
    validate=_import_param,
)
def imports_check_customers(job, context) -> dict:
    """The dry run: read every row, store the errors; writes nothing but the import row.

    A file whose headers were mapped before (another file with the same header row)
    is read through that mapping; the page says so.
    """
    customer_import = CustomerImport.objects.get(pk=job.params["import"])
    if not customer_import.mapping:
        headers = _first_row(customer_import)
        remembered = remembered_mapping(headers)
        if remembered:
            customer_import.mapping = remembered
            customer_import.summary = {**customer_import.summary, "mapping_remembered": True}
    customer_import.rejected_name = rejected_file_name(customer_import)
    outcome = check_file(
        actor=context.actor,
        path=customer_import.path,
        file_format=customer_import.file_format,
        options=ImportOptions.of(customer_import),
        context=context,
        rejected_path=customer_import.rejected_path,
    )
    if not outcome.rejected:
        customer_import.rejected_path.unlink(missing_ok=True)
        customer_import.rejected_name = ""
    with transaction.atomic():
        import_record_check(customer_import, outcome)
    name = customer_import.original_name
    if outcome.header_errors:
        message = (
            f"Checked {name}: {outcome.header_errors:,} problem(s) with its columns to "
            "resolve before it can be imported."
        )
    elif outcome.error_count:
        message = (
            f"Checked {outcome.rows:,} rows of {name}: {outcome.rejected:,} row(s) with "
            f"{outcome.error_count:,} error(s)."
        )
    else:
        message = f"Checked {outcome.rows:,} rows of {name}: no errors, ready to import."
    return {"message": message, "rows": outcome.rows, "errors": outcome.error_count}


@job_type(
    APPLY_JOB,
    label="Import customers",
    permissions=[IMPORT_PERMISSION],
    validate=_import_param,
)
def imports_apply_customers(job, context) -> dict:
    """Write the customers of the file in the job's one transaction: every row or none,
    or the valid rows only, as the import's options say."""
    customer_import = CustomerImport.objects.select_for_update().get(pk=job.params["import"])
    if customer_import.state == CustomerImport.State.APPLIED:
        return {"message": "This file was already imported.", "created": 0}
    context.progress(0, customer_import.row_count)
    customer_import.rejected_name = rejected_file_name(customer_import)
    outcome = import_file_apply(
        actor=context.actor,
        path=customer_import.path,
        file_format=customer_import.file_format,
        label=f"{customer_import.original_name} (import #{customer_import.pk})",
        options=ImportOptions.of(customer_import),
        missing=(customer_import.summary or {}).get("missing") or None,
        context=context,
        rejected_path=customer_import.rejected_path,
    )
    if not outcome.rejected:
        customer_import.rejected_path.unlink(missing_ok=True)
        customer_import.rejected_name = ""
    customer_import.state = CustomerImport.State.APPLIED
    customer_import.created_count = outcome.created
    customer_import.updated_count = outcome.updated
    customer_import.unchanged_count = outcome.unchanged
    customer_import.rejected_count = outcome.rejected
    customer_import.error_count = outcome.error_count
    customer_import.errors = [e.as_dict() for e in outcome.errors[:ERRORS_KEPT]]
    customer_import.summary = {**(customer_import.summary or {}), **outcome.summary()}
    customer_import.applied_at = timezone.now()
    customer_import.save(
        update_fields=[
            "state",
            "created_count",
            "updated_count",
            "unchanged_count",
            "rejected_count",
            "rejected_name",
            "error_count",
            "errors",
            "summary",
            "applied_at",
        ]
    )
    path = customer_import.path
    transaction.on_commit(lambda: path.unlink(missing_ok=True))
    parts = [f"created {outcome.created:,}", f"updated {outcome.updated:,}"]
    if outcome.unchanged:
        parts.append(f"{outcome.unchanged:,} unchanged")
    if outcome.rejected:
        parts.append(f"{outcome.rejected:,} rejected (download them to correct and import again)")
    return {
        "message": f"Imported {customer_import.original_name}: {', '.join(parts)}.",
        "created": outcome.created,
        "updated": outcome.updated,
        "unchanged": outcome.unchanged,
        "rejected": outcome.rejected,
        "import": customer_import.pk,
    }


@job_type(
    EXPORT_JOB,
    label="Export customers",
    atomic=False,
    permissions=["customers.view_customer"],
    validate=exporting.validate_export,
)
def imports_export_customers(job, context) -> dict:
    """Write the chosen customers to a file under the data directory."""
    params = job.params  # checked by `validate_export` when the job was queued
    queryset = exporting.export_queryset(context.actor, selection_data(params["filter"]))
    total = queryset.count()
    context.progress(0, total)
    name = exporting.export_file_name(job.pk, params["format"])
    target = exporting.export_path(name)

    def progress(done):
        context.progress(done, total)
        context.check_cancelled()

    try:
        count = exporting.write_export(queryset, params["format"], target, progress)
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return {
        "message": f"Exported {count:,} customers to {params['format'].upper()}.",
        "file": name,
        "format": params["format"],
        "rows": count,
    }
