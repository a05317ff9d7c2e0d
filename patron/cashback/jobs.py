"""The cashback job types: `cashback.run` and `cashback.undo` (found by `JobsConfig.ready`).

Both are atomic: every entry of the run, its run row and the job's final
state commit together, or nothing does. A run records its job (one run per
job), so a job taken over or run again never posts twice.
"""

from __future__ import annotations

from patron.cashback import services
from patron.cashback.models import CashbackRun
from patron.cashback.views import job_page_context
from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.jobs.registry import job_type

RUN_KIND, UNDO_KIND = services.RUN_KIND, services.UNDO_KIND


def validate_undo(actor: Actor, params: dict) -> dict:
    services._require(actor)
    run = None
    try:
        run_id = int(params.get("run"))
    except (TypeError, ValueError):
        run_id = None
    if run_id is not None:
        run = CashbackRun.objects.filter(pk=run_id, undo_of__isnull=True).first()
    if run is None:
        raise ValidationError({"run": "Choose a cashback run."})
    return {"run": run.pk}


@job_type(
    RUN_KIND,
    label="Cashback",
    permissions=[services.PERMISSION],
    validate=services.cashback_params,
    page_context=job_page_context,
)
def cashback_run_job(job, context) -> dict:
    params = services.cashback_params(context.actor, job.params)
    return services.cashback_run(actor=context.actor, params=params, job=job, context=context)


@job_type(
    UNDO_KIND,
    label="Undo a cashback run",
    permissions=[services.PERMISSION],
    validate=validate_undo,
    page_context=job_page_context,
)
def cashback_undo_job(job, context) -> dict:
    run = CashbackRun.objects.get(pk=validate_undo(context.actor, job.params)["run"])
    # A second attempt of this very job finds its own undo row and posts nothing.
    existing = CashbackRun.objects.filter(job=job).first()
    if existing is None:
        refusal = services.undo_refusal(run)
        if refusal:
            raise ValidationError({"run": refusal})
    return services.cashback_undo(actor=context.actor, run=run, job=job, context=context)
