"""Billing's job types: the preview (a dry run, rolled back) and the run itself.

The preview is atomic: it bills everything inside the job's transaction and
rolls it back, so what it reports is exactly what the run would do now. The
run commits chunk by chunk (`atomic=False`); each chunk is idempotent by
construction (docs/billing.md), so a run that stops is resumed by running it
again for the same date.
"""

from __future__ import annotations

import datetime

from django.utils.dateparse import parse_date

from patron.billing.models import BillingRun
from patron.billing.runs import billing_run, check_may_run, plan_for, run_message
from patron.core.errors import ValidationError
from patron.jobs.registry import job_type

PERMISSIONS = ["billing.run_billing"]


def _date(params: dict, key: str, required: bool) -> datetime.date | None:
    text = str(params.get(key) or "").strip()
    if not text:
        if required:
            raise ValidationError({key: "Choose the billing date (YYYY-MM-DD)."})
        return None
    value = parse_date(text)
    if value is None:
        raise ValidationError({key: f"“{text}” is not a date (YYYY-MM-DD)."})
    return value


def validate_billing(actor, params: dict) -> dict:
    check_may_run(actor)
    billing_date = _date(params, "billing_date", True)
    cutoff = _date(params, "cutoff_date", False)
    plan = plan_for(billing_date, cutoff)
    done = BillingRun.objects.filter(billing_date=billing_date, state=BillingRun.State.DONE)
    if done.exists():
        run = done.get()
        raise ValidationError(
            {
                "billing_date": f"Billing for {billing_date:%d %b %Y} has been run "
                f"({run.invoice_count:,} invoices); nothing is billed twice."
            }
        )
    return {
        "billing_date": plan.billing_date.isoformat(),
        "cutoff_date": plan.cutoff_date.isoformat(),
    }


def job_page_context(request, job) -> dict:
    """A billing job's page links to the run it billed (or, for a preview, to its result)."""
    summary = job.result_summary or {}
    run = None
    if summary.get("run_id"):
        run = BillingRun.objects.filter(pk=summary["run_id"]).first()
    elif job.kind == "billing.run" and job.params.get("billing_date"):
        run = BillingRun.objects.filter(billing_date=job.params["billing_date"]).first()
    return {
        "job_type_template": "billing/_job_links.html",
        "billing_run": run,
        "preview_job": job if job.kind == "billing.preview" else None,
    }


def _dates(job):
    return parse_date(job.params["billing_date"]), parse_date(job.params["cutoff_date"])


@job_type(
    "billing.preview",
    label="Billing preview",
    permissions=PERMISSIONS,
    validate=validate_billing,
    page_context=job_page_context,
)
def preview(job, context) -> dict:
    billing_date, cutoff = _dates(job)
    _, summary = billing_run(
        actor=context.actor, billing_date=billing_date, cutoff_date=cutoff, dry_run=True
    )
    return summary


@job_type(
    "billing.run",
    label="Billing run",
    permissions=PERMISSIONS,
    validate=validate_billing,
    atomic=False,
    page_context=job_page_context,
)
def run(job, context) -> dict:
    billing_date, cutoff = _dates(job)
    billed, summary = billing_run(
        actor=context.actor, billing_date=billing_date, cutoff_date=cutoff, context=context
    )
    plan = plan_for(billed.billing_date, billed.cutoff_date)
    return {**summary, "run_id": billed.pk, "message": run_message(plan, summary)}
