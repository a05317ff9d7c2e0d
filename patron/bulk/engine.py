"""Running a bulk action: validate, preview, run as a job, undo.

The job runs in one transaction (an atomic job type): if the worker dies or
the job is cancelled, nothing it did survives, and the retry starts again
from a clean slate. Within the run, customers that already have the new
value are left alone, so even a second job with the same parameters changes
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from patron.bulk import sql
from patron.bulk.actions import get_action, undo_summary
from patron.bulk.targets import (
    clean_target,
    describe_target,
    ids_in,
    missing_ids,
    target_from_data,
    target_queryset,
)
from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.customers.models import Customer
from patron.events.models import Event
from patron.jobs.models import Job, JobChange

SAMPLE_SIZE = 10
KIND_PREFIX = "customers.bulk_"
UNDO_KIND = "customers.bulk_undo"
# What starting a bulk action, or its undo, asks of the actor's role.
PERMISSIONS = ("customers.change_customer",)


def kind_for(action_name: str) -> str:
    return f"{KIND_PREFIX}{action_name}"


def action_for_kind(kind: str):
    if not kind.startswith(KIND_PREFIX) or kind == UNDO_KIND:
        return None
    try:
        return get_action(kind[len(KIND_PREFIX) :])
    except ValidationError:
        return None


def bulk_params(actor: Actor, action_name: str, data) -> dict:
    """Job parameters from request data: the action's own fields plus the target.

    `data` is a dict (API) or QueryDict (form); the target comes from
    `target` (already a stored target) or from ids / q / filter.
    """
    action = get_action(action_name)
    errors = {}
    try:
        params = action.clean(actor, {k: data.get(k) for k in data})
    except ValidationError as exc:
        errors.update(exc.message_dict)
        params = {}
    target = data.get("target")
    try:
        params["target"] = clean_target(
            actor, target if isinstance(target, dict) else target_from_data(data)
        )
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return params


def validator(action_name: str):
    """The `validate` hook of the job type: parameters checked again as the job starts."""

    def validate(actor: Actor, params: dict) -> dict:
        return bulk_params(actor, action_name, params)

    return validate


@dataclass
class Plan:
    """What a bulk action would do now: the customers it changes and those it cannot."""

    matched: int
    changing: object  # queryset of the customers that will change
    failures: list = field(default_factory=list)  # (customer or None, message)
    failure_count: int = 0

    @property
    def will_change(self) -> int:
        return self.changing.count()


def bulk_plan(actor: Actor, action, params: dict) -> Plan:
    """The customers that will change, and the ones reported as failures, for `params`."""
    target = params["target"]
    chosen = target_queryset(actor, target)
    failures = [(None, f"Customer #{pk} was not found.") for pk in missing_ids(target, chosen)]
    archived = Customer.objects.filter(archived=True)
    # Few accounts are archived: start from them (a partial index holds just those)
    # rather than test every chosen customer, and skip the lookup when there are none.
    if not action.acts_on_archived and archived.exists():
        chosen_archived = archived.filter(pk__in=chosen.values("pk")).order_by("pk")
        for customer in chosen_archived.only("id", "name", "account_number"):
            failures.append(
                (customer, f"{customer.name} is archived; restore the account before changing it.")
            )
    changing = action.changing(action.candidates(chosen, params), params)
    exclude, refused = action.conflicts(changing, params)
    failures.extend(refused)
    return Plan(
        matched=chosen.count(),
        changing=changing.exclude(exclude),
        failures=failures,
        failure_count=len(failures),
    )


@dataclass
class Preview:
    description: str
    target: str
    matched: int
    will_change: int
    unchanged: int
    failure_count: int
    failures: list
    sample: list  # (customer, before, after)
    scheduled: str = ""  # "to change to “Suspended” on 09 Mar 2026" when the action schedules


def bulk_preview(actor: Actor, action_name: str, params: dict) -> Preview:
    """How many customers the action changes, a sample before → after, and who is refused."""
    action = get_action(action_name).for_params(params)
    plan = bulk_plan(actor, action, params)
    will_change = plan.will_change
    customers = list(plan.changing.order_by("name", "pk")[:SAMPLE_SIZE])
    sample = [
        (customer, before, after)
        for customer, (before, after) in zip(
            customers, action.sample(customers, params), strict=True
        )
    ]
    refused = sum(1 for customer, _ in plan.failures if customer is not None)
    return Preview(
        description=action.describe(params),
        target=describe_target(params["target"]),
        matched=plan.matched,
        will_change=will_change,
        unchanged=max(0, plan.matched - will_change - refused),
        failure_count=plan.failure_count,
        failures=plan.failures[:SAMPLE_SIZE],
        sample=sample,
        scheduled=action.preview_headline(params),
    )


# --- events ------------------------------------------------------------------------------


def _log(job, context, action, params, when, *, message: str, reason: str = "") -> int:
    """One event per changed customer, written by INSERT … SELECT in batches; how many."""
    total = context.job.progress_total
    logged = 0
    for hi, logged in sql.insert_events(
        job,
        context.actor,
        field=action.field,
        action=action.event_action,
        changes_sql=action.changes_sql(),
        join=action.changes_join(),
        message=message,
        reason=reason,
        when=when,
    ):
        action.after_write(job, context.actor, params, when, hi)
        context.progress(min(total, logged), total)
        context.check_cancelled()
    return logged


# --- the job -----------------------------------------------------------------------------


def run_bulk_action(action_name: str, job, context) -> dict:
    """The job function of every `customers.bulk_<action>` job type."""
    actor = context.actor
    params = bulk_params(actor, action_name, job.params)
    action = get_action(action_name).for_params(params)
    plan = bulk_plan(actor, action, params)
    sql.roomy_sorts()
    for customer, message in plan.failures:
        context.fail(customer, message)
    when = timezone.now()
    changed = action.record(job, plan.changing, params, when)
    late = action.late_failures(job, params)
    for customer, message in late:
        context.fail(customer, message)
    failures = [*plan.failures, *late]
    context.progress(0, changed)
    context.check_cancelled()
    action.write(job, when)
    description = action.describe(params)
    _log(
        job,
        context,
        action,
        params,
        when,
        message=f"{description} (bulk action, job #{job.pk})"[:300],
        reason=params.get("reason", ""),
    )
    refused = sum(1 for customer, _ in failures if customer is not None)
    unchanged = max(0, plan.matched - changed - refused)
    text = f"{description}: {changed:,} customers {action.done_word}, {unchanged:,} already so."
    if failures:
        text += f" {len(failures):,} could not be changed (listed below)."
    return {
        "message": text,
        "action": action_name,
        "matched": plan.matched,
        "changed": changed,
        "unchanged": unchanged,
        "failed": len(failures),
        "applied_at": when.isoformat(),
        "undoable": changed > 0,
    }


# --- undo --------------------------------------------------------------------------------


def undo_refusal(job: Job, *, running: Job | None = None) -> str:
    """Why `job` cannot be undone, or "" when it can."""
    if job.kind == UNDO_KIND:
        return "An undo cannot itself be undone; run the bulk action again instead."
    if action_for_kind(job.kind) is None:
        return "Only bulk actions can be undone."
    if job.state != Job.State.SUCCEEDED:
        return "Only a finished bulk action can be undone."
    if not (job.result_summary or {}).get("changed"):
        return "This bulk action changed nothing, so there is nothing to undo."
    previous = (
        Job.objects.filter(kind=UNDO_KIND, params__job=job.pk)
        .exclude(state__in=[Job.State.FAILED, Job.State.CANCELLED])
        .exclude(pk=running.pk if running is not None else None)
        .first()
    )
    if previous is not None:
        return f"This bulk action was already undone by job #{previous.pk}."
    return ""


def validate_undo(actor: Actor, params: dict, *, running: Job | None = None) -> dict:
    job = None
    try:
        job_id = int(params.get("job"))
    except (TypeError, ValueError):
        job_id = None
    if job_id is not None:
        jobs = Job.objects.restrict(actor)
        job = jobs.filter(pk=job_id).first()
    if job is None:
        raise ValidationError({"job": "Choose a bulk action job you can see."})
    refusal = undo_refusal(job, running=running)
    if refusal:
        raise ValidationError({"job": refusal})
    return {"job": job.pk}


def _applied_at(job: Job):
    value = (job.result_summary or {}).get("applied_at")
    return (parse_datetime(value) if value else None) or job.started_at or job.created


def run_bulk_undo(job, context) -> dict:
    """Put back what a bulk action changed, for every customer no later change touched."""
    actor = context.actor
    original = Job.objects.get(pk=validate_undo(actor, job.params, running=job)["job"])
    sql.roomy_sorts()
    action = action_for_kind(original.kind).for_job(original)
    summary = action.undo(original, job, context)
    if summary is not None:
        return summary
    params = original.params
    since = _applied_at(original)
    rows = JobChange.objects.filter(job=original)
    main_rows = rows.filter(field=action.field)

    # Later changes to the same field, from the event log.
    later = Event.objects.filter(
        customer_id__in=main_rows.values("customer_id"),
        created__gt=since,
        changes__has_key=action.field,
    ).order_by("created", "id")
    blocked: dict[int, str] = {}
    for customer_id, changes, who, when in later.values_list(
        "customer_id", "changes", "actor_label", "created"
    ).iterator():
        if customer_id in blocked or not action.touches(changes.get(action.field), params):
            continue
        blocked[customer_id] = (
            f"{action.field.capitalize()} changed again by {who} on "
            f"{timezone.localtime(when):%d %b %Y %H:%M} after job #{original.pk}; not reverted."
        )
    visible = Customer.objects.restrict(actor, "change")
    hidden = main_rows.exclude(customer_id__in=visible.values("pk"))
    for customer_id in hidden.values_list("customer_id", flat=True):
        context.fail(None, f"Customer #{customer_id} is not one you may change; not reverted.")
    for customer in Customer.objects.filter(pk__in=list(blocked)).only(
        "id", "name", "account_number"
    ):
        context.fail(customer, blocked[customer.pk])

    revertible = rows.filter(customer_id__in=visible.values("pk"))
    if blocked:
        revertible = revertible.exclude(ids_in(list(blocked), "customer_id"))
    when = timezone.now()
    sql.copy_changes_swapped(original, job, revertible)
    changed = JobChange.objects.filter(job=job, field=action.field).count()
    context.progress(0, changed)
    context.check_cancelled()
    action.write(job, when)
    reason = f"Undo of bulk action job #{original.pk}"
    _log(
        job,
        context,
        action,
        {**params, "reason": reason},
        when,
        message=f"Undo of job #{original.pk}: {action.describe(params)}"[:300],
        reason=reason,
    )
    return undo_summary(context, f"Reverted job #{original.pk}", original, changed, when)


def undo_job_for(job: Job) -> Job | None:
    """The undo job started for `job`, if any."""
    return Job.objects.filter(kind=UNDO_KIND, params__job=job.pk).order_by("-id").first()


__all__ = [
    "UNDO_KIND",
    "action_for_kind",
    "bulk_params",
    "bulk_plan",
    "bulk_preview",
    "kind_for",
    "run_bulk_action",
    "run_bulk_undo",
    "undo_refusal",
]
