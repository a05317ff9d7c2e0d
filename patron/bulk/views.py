"""The bulk action page (choose, preview, run) and the undo button of a job."""

from __future__ import annotations

import json
import uuid

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse

from patron.core.errors import PermissionDenied, ValidationError, error_messages
from patron.core.views import PatronView, get_restricted_object
from patron.customers.models import Customer
from patron.jobs import services
from patron.jobs.bulk.engine import UNDO_KIND, bulk_params, bulk_preview, kind_for
from patron.jobs.bulk.targets import (
    checked_target,
    describe_target,
    target_from_data,
    target_queryset,
)
from patron.jobs.forms import ACTION_FIELDS, BulkActionForm
from patron.jobs.models import Job

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
    template_name = "jobs/bulk.html"

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
