"""The bulk action page (choose, preview, run), the bulk tag form, and a bulk job's undo.

The job page itself is the jobs app's; `job_page_context` is what a bulk
action adds to it (registered with the job types in `jobs.py`).
"""

from __future__ import annotations

import json
import uuid

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse

from patron.bulk.bulk_tag import bulk_tag_enqueue
from patron.bulk.engine import (
    UNDO_KIND,
    action_for_kind,
    bulk_params,
    bulk_preview,
    kind_for,
    undo_job_for,
    undo_refusal,
)
from patron.bulk.forms import ACTION_FIELDS, BulkActionForm, BulkTagForm
from patron.bulk.targets import (
    checked_target,
    describe_target,
    target_from_data,
    target_queryset,
)
from patron.core.errors import PermissionDenied, ValidationError, error_messages
from patron.core.redirects import safe_next
from patron.core.views import PatronView, get_restricted_object
from patron.customers.models import Customer
from patron.jobs import services
from patron.jobs.models import Job
from patron.jobs.views import params_display

# Errors about the customers rather than a field of the form.
TARGET_KEYS = {"target", "ids", "q", "filter"}


def _put_errors(form, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        for message in exc.messages:
            form.add_error(None, message)
        return
    for key, errors in exc.message_dict.items():
        field = key if key in form.fields and key not in TARGET_KEYS else None
        for message in errors:
            form.add_error(field, message)


class BulkActionView(PatronView):
    """GET from the customer list with `ids`, `q` or the list's filter; POST to preview or run.

    The page never changes anything itself: Preview shows what would change,
    Run queues the job and goes to its page.
    """

    model = Customer
    required_action = "change"
    template_name = "bulk/bulk.html"

    def get(self, request):
        errors, target, count = [], None, 0
        try:
            target, chosen = checked_target(self.actor, target_from_data(request.GET))
            count = chosen.count()
        except ValidationError as exc:
            errors = error_messages(exc)
        initial = {"target": json.dumps(target or {}), "action": request.GET.get("action")}
        form = BulkActionForm(initial=initial, user=request.user)
        return self.render(form, target=target, count=count, target_errors=errors)

    def post(self, request):
        form = BulkActionForm(request.POST, user=request.user)
        target = None
        if form.is_valid():
            target = form.cleaned_data["target"]
            action = form.cleaned_data["action"]
            try:
                params = bulk_params(self.actor, action, form.job_params())
                if request.POST.get("step") == "run":
                    job = services.job_enqueue(
                        actor=self.actor,
                        kind=kind_for(action),
                        params=params,
                        idempotency_key=request.POST.get("idempotency_key") or None,
                    )
                    messages.success(request, f"Started job #{job.pk}: {job.label}.")
                    return HttpResponseRedirect(job.get_absolute_url())
                preview = bulk_preview(self.actor, action, params)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            except ValidationError as exc:
                _put_errors(form, exc)
            else:
                return self.render(form, target=target, count=preview.matched, preview=preview)
        elif "target" not in form.errors:
            target = form.cleaned_data.get("target")
        return self.render(form, target=target, status=400)

    def render(self, form, *, target, count=None, preview=None, target_errors=(), status=200):
        if count is None and target is not None:
            try:
                count = target_queryset(self.actor, target).count()
            except ValidationError:
                count = None
        context = {
            "title": "Bulk action",
            "form": form,
            "target_text": describe_target(target) if target else "",
            "target_json": json.dumps(target or {}),
            "count": count,
            "preview": preview,
            "target_errors": target_errors,
            "action_fields": json.dumps(ACTION_FIELDS),
            "idempotency_key": uuid.uuid4().hex,
        }
        return TemplateResponse(self.request, self.template_name, context, status=status)


class JobUndoView(PatronView):
    """One click: queue the undo of a finished bulk action, then show the undo job."""

    def post(self, request, pk):
        job = get_restricted_object(request, Job, "view", pk=pk)
        try:
            undo = services.job_enqueue(
                actor=self.actor,
                kind=UNDO_KIND,
                params={"job": job.pk},
            )
        except (ValidationError, PermissionDenied) as exc:
            for message in error_messages(exc):
                messages.error(request, message)
            return HttpResponseRedirect(job.get_absolute_url())
        messages.success(request, f"Started job #{undo.pk} to undo job #{job.pk}.")
        return HttpResponseRedirect(undo.get_absolute_url())


class BulkTagView(PatronView):
    """POST a tag, add/remove and the customer list's query string; start the job.

    Redirects to the job's page; a refusal goes back to the list with the reason.
    """

    def post(self, request):
        form = BulkTagForm(request.POST, user=request.user)
        back = self._back_url(request)
        if not form.is_valid():
            for field, errors in form.errors.items():
                label = form.fields[field].label if field in form.fields else ""
                for error in errors:
                    messages.error(request, f"{label}: {error}" if label else error)
            return HttpResponseRedirect(back)
        data = form.cleaned_data
        params = {"tag": data["tag"].pk, "action": data["action"]}
        if data["customers"]:
            params["customers"] = data["customers"]
        else:
            params["filter"] = data["query"] or ""
        try:
            job = bulk_tag_enqueue(
                actor=self.actor,
                params=params,
                idempotency_key=request.POST.get("idempotency_key") or None,
            )
        except (ValidationError, PermissionDenied) as exc:
            for message in error_messages(exc):
                messages.error(request, message)
            return HttpResponseRedirect(back)
        messages.success(request, f"Started job #{job.pk}: {job.label}.")
        return HttpResponseRedirect(job.get_absolute_url())

    def _back_url(self, request) -> str:
        query = request.POST.get("query", "").lstrip("?")
        return safe_next(request, reverse("customers:list") + (f"?{query}" if query else ""))


def job_page_context(request, job: Job) -> dict:
    """A bulk job's part of its page: the customers in words, and its Undo button once it
    has finished (or the undo that reverted it); an undo job names the job it undoes."""
    params = dict(job.params or {})
    if isinstance(params.get("target"), dict):
        params["target"] = describe_target(params["target"])
    context = {
        "job_type_template": "bulk/_job_undo.html",
        "params": params_display(params),
        "can_undo": False,
        "undone_by": None,
        "undo_of": None,
    }
    if job.kind == UNDO_KIND:
        context["undo_of"] = params.get("job")
    elif action_for_kind(job.kind) is not None and job.is_finished:
        context["undone_by"] = undo_job_for(job)
        context["can_undo"] = not undo_refusal(job) and request.user.has_perm(
            "customers.change_customer"
        )
    return context
