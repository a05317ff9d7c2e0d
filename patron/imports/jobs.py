"""The job types of imports and exports; the jobs app imports this module at start-up."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from patron.core.errors import ValidationError
from patron.customers.selection import selection_data
from patron.imports import exporting
from patron.imports.models import CustomerImport
from patron.imports.services import (
    APPLY_JOB,
    CHECK_JOB,
    IMPORT_PERMISSION,
    check_file,
    import_file_apply,
    import_record_check,
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


@job_type(
    CHECK_JOB,
    label="Check customer file",
    atomic=False,
    permissions=[IMPORT_PERMISSION],
    validate=_import_param,
)
def imports_check_customers(job, context) -> dict:
    """The dry run: read every row, store the errors; writes nothing but the import row."""
    customer_import = CustomerImport.objects.get(pk=job.params["import"])
    outcome = check_file(
        actor=context.actor,
        path=customer_import.path,
        file_format=customer_import.file_format,
        context=context,
    )
    with transaction.atomic():
        import_record_check(customer_import, outcome)
    if outcome.error_count:
        message = (
            f"Checked {outcome.rows:,} rows of {customer_import.original_name}: "
            f"{outcome.error_count:,} error(s) to correct before it can be imported."
        )
    else:
        message = (
            f"Checked {outcome.rows:,} rows of {customer_import.original_name}: "
            "no errors, ready to import."
        )
    return {"message": message, "rows": outcome.rows, "errors": outcome.error_count}


@job_type(
    APPLY_JOB,
    label="Import customers",
    permissions=[IMPORT_PERMISSION],
    validate=_import_param,
)
def imports_apply_customers(job, context) -> dict:
    """Write every customer of the file in the job's one transaction, or none."""
    customer_import = CustomerImport.objects.select_for_update().get(pk=job.params["import"])
    if customer_import.state == CustomerImport.State.APPLIED:
        return {"message": "This file was already imported.", "created": 0}
    context.progress(0, customer_import.row_count)
    outcome = import_file_apply(
        actor=context.actor,
        path=customer_import.path,
        file_format=customer_import.file_format,
        label=f"{customer_import.original_name} (import #{customer_import.pk})",
        context=context,
    )
    customer_import.state = CustomerImport.State.APPLIED
    customer_import.created_count = outcome.created
    customer_import.applied_at = timezone.now()
    customer_import.save(update_fields=["state", "created_count", "applied_at"])
    path = customer_import.path
    transaction.on_commit(lambda: path.unlink(missing_ok=True))
    return {
        "message": f"Imported {outcome.created:,} customers from {customer_import.original_name}.",
        "created": outcome.created,
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
