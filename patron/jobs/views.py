"""Job pages: the list, and one job with its live progress and its cancel button.

A job type may add to its page (`JobType.page_context`): the bulk actions add
their Undo button that way, so this module knows no job type.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.http import urlencode

from patron.core.errors import PermissionDenied, ValidationError, error_messages
from patron.core.tables import Column
from patron.core.views import ObjectListView, PatronView, get_restricted_object
from patron.jobs import services
from patron.jobs.filters import JobFilterSet
from patron.jobs.live import live_progress
from patron.jobs.models import Job
from patron.jobs.registry import get_job_type
from patron.jobs.waiting import job_waiting

STATE_COLOURS = {
    Job.State.QUEUED: "secondary",
    Job.State.RUNNING: "primary",
    Job.State.SUCCEEDED: "success",
    Job.State.FAILED: "danger",
    Job.State.CANCELLED: "warning",
}
FAILURES_SHOWN = 200


def state_badge(job: Job, waiting=False):
    """The state, or what the job waits for ("Waiting for a worker", "Worker lost")."""
    if waiting is False:
        waiting = job_waiting(job)
    if waiting is not None:
        return format_html(
            '<span class="badge text-bg-{}" title="{}">{}</span>',
            waiting.colour,
            waiting.text,
            waiting.badge,
        )
    undone_by = _undone_by(job)
    if undone_by is not None:
        return format_html(
            '<span class="badge text-bg-secondary" title="Succeeded, undone by job #{}"'
            ' data-testid="job-undone">Undone</span>'
            ' <span class="small text-secondary">by <a href="{}">#{}</a></span>',
            undone_by.pk,
            undone_by.get_absolute_url(),
            undone_by.pk,
        )
    return format_html(
        '<span class="badge text-bg-{}">{}</span>',
        STATE_COLOURS.get(job.state, "secondary"),
        job.get_state_display(),
    )


def _undone_by(job: Job) -> Job | None:
    """The undo job that undid `job` (a succeeded bulk action), if it succeeded."""
    from patron.bulk.engine import KIND_PREFIX, UNDO_KIND, undo_job_for

    if job.state != Job.State.SUCCEEDED or not job.kind.startswith(KIND_PREFIX):
        return None
    if job.kind == UNDO_KIND:
        return None
    undo = undo_job_for(job)
    return undo if undo is not None and undo.state == Job.State.SUCCEEDED else None


def with_live_progress(job: Job) -> Job:
    """Progress of a job running in this process, newer than its row while in a transaction."""
    live = live_progress(job.pk) if job.state == Job.State.RUNNING else None
    if live and live[0] >= job.progress_done:
        job.progress_done, job.progress_total = live
    return job


class JobListView(ObjectListView):
    """My jobs; everyone's for users who may see all jobs (Owners, Administrators)."""

    model = Job
    required_action = ""  # own jobs need no permission; `restrict` decides the rows
    filterset_class = JobFilterSet
    title = "Jobs"
    default_ordering = ("-id",)
    select_related = ("actor_user",)
    columns = [
        Column("id", label="Job", link=True, accessor=lambda j: f"#{j.pk}", order_by="id"),
        Column("kind", label="Type", accessor=lambda j: j.label),
        Column("actor_label", label="Started by"),
        Column("state", html=state_badge),
        Column(
            "progress",
            sortable=False,
            accessor=lambda j: (
                f"{j.percent}%"
                + (f" ({j.progress_done:,} of {j.progress_total:,})" if j.progress_total else "")
            ),
        ),
        Column("message", label="Result", sortable=False, accessor=lambda j: j.message or j.error),
        Column("created", label="Started"),
        Column("finished_at", label="Finished"),
    ]


# Parameters that hold the id of a row people know by name: key → (app label, model).
NAMED_PARAMS = {
    "tag": ("tags", "Tag"),
    "group": ("groups", "Group"),
    "status": ("statuses", "Status"),
    "department": ("departments", "Department"),
    "customer_class": ("classes", "CustomerClass"),
}


def _named(key, value, user) -> str | None:
    """The name of the row a parameter points at (`tag: 4` → `VIP`); None when
    the key names no such row. A row the user may not see, or one deleted
    since, stays "#id"."""
    from django.apps import apps

    if key not in NAMED_PARAMS or isinstance(value, bool):
        return None
    values = value if isinstance(value, list) else [value]
    if not values or not all(str(v).isdigit() for v in values):
        return None
    try:
        model = apps.get_model(*NAMED_PARAMS[key])
    except LookupError:
        return None
    rows = model.objects.all() if user is None else model.objects.restrict(user, "view")
    names = {row.pk: str(row) for row in rows.filter(pk__in=[int(v) for v in values])}
    return ", ".join(names.get(int(v), f"#{v}") for v in values)


def _selection_words(value, user) -> str:
    """A list filter or a bulk target ({"ids"}, {"q", "filter"}) in words, with names."""
    from patron.customers.selection import describe_selection

    if isinstance(value, dict) and ("ids" in value or "q" in value or "filter" in value):
        if "ids" in value:
            count = len(value["ids"] or [])
            return f"{count:,} selected customer{'s' if count != 1 else ''}"
        data = dict(value.get("filter") or {})
        if value.get("q"):
            data["q"] = value["q"]
        value = data
    return "; ".join(describe_selection(value, user)) or "every customer"


def params_display(params: dict, user=None) -> list[tuple[str, str]]:
    """Parameters as short text: rows by name (a tag, not its id), a filter or
    target in words, long id lists counted. With `user`, names come only from
    rows that user may see."""
    rows = []
    for key, value in (params or {}).items():
        named = _named(key, value, user)
        if named is not None:
            text = named
        elif (key == "filter" and isinstance(value, dict | str)) or (
            key == "target" and isinstance(value, dict)
        ):
            text = _selection_words(value, user)
        elif key == "job" and str(value).isdigit():
            text = f"#{value}"
        elif isinstance(value, list) and len(value) > 10:
            shown = ", ".join(str(v) for v in value[:10])
            text = f"{len(value):,} ({shown}, …)"
        elif isinstance(value, dict):
            text = urlencode(value, doseq=True) or "(everything)"
        elif isinstance(value, list):
            text = ", ".join(str(v) for v in value)
        else:
            text = str(value)
        rows.append((key, text))
    return rows


def _detail_context(request, job: Job) -> dict:
    job = with_live_progress(job)
    failures = job.failures.select_related("customer").visible_to(request.user)
    can_cancel = not job.is_finished and (
        job.actor_user_id == request.user.pk or request.user.has_perm("jobs.change_job")
    )
    waiting = job_waiting(job)
    job_type = get_job_type(job.kind)
    extra = job_type.page_context(request, job) if job_type and job_type.page_context else {}
    return {
        "job": job,
        "title": f"Job #{job.pk}: {job.label}",
        "waiting": waiting,
        "state_badge": state_badge(job, waiting),
        "failures": failures[:FAILURES_SHOWN],
        "failure_count": failures.count(),
        "failures_shown": FAILURES_SHOWN,
        "can_cancel": can_cancel,
        "params": params_display(job.params, request.user),
        # The job type's own part of the page, drawn under the progress bar.
        "job_type_template": None,
        **extra,
    }


class JobDetailView(PatronView):
    def get(self, request, pk):
        job = get_restricted_object(request, Job, "view", pk=pk)
        return TemplateResponse(request, "jobs/job_detail.html", _detail_context(request, job))


class JobProgressView(PatronView):
    """The htmx partial polled every second; it stops polling once the job has finished."""

    def get(self, request, pk):
        job = get_restricted_object(request, Job, "view", pk=pk)
        return TemplateResponse(request, "jobs/_progress.html", _detail_context(request, job))


class JobCancelView(PatronView):
    def post(self, request, pk):
        job = get_restricted_object(request, Job, "view", pk=pk)
        try:
            job = services.job_cancel(actor=self.actor, job=job)
        except (ValidationError, PermissionDenied) as exc:
            for message in error_messages(exc):
                messages.error(request, message)
        else:
            if job.state == Job.State.CANCELLED:
                messages.success(request, f"Cancelled job #{job.pk}.")
            else:
                messages.info(request, f"Job #{job.pk} will stop at its next checkpoint.")
        return HttpResponseRedirect(job.get_absolute_url())
