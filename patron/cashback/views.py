"""The cashback pages: the run form (from a group or the customer list), preview, run;
the Undo of a finished run; the job page's part (`job_page_context`)."""

from __future__ import annotations

import json
import uuid

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse

from patron.bulk.targets import target_from_data
from patron.cashback import services
from patron.cashback.forms import CashbackForm
from patron.cashback.models import CashbackRun
from patron.core.errors import PermissionDenied, ValidationError, error_messages
from patron.core.views import PatronView, get_restricted_object
from patron.groups.models import Group
from patron.jobs import services as job_services
from patron.jobs.models import Job
from patron.jobs.views import params_display


class CashbackRunView(PatronView):
    """GET with `group=<id>`, or the customer list's `ids` / `q` / filter; POST to preview
    (step=preview) or run (step=run). The page itself changes nothing."""

    template_name = "cashback/run.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not services.can_run(request.user):
            raise PermissionDenied("Your role does not allow you to run cashback.")
        return super().dispatch(request, *args, **kwargs)

    def _who(self, data):
        """(group, target) from request data; raise ValidationError for a bad target."""
        group_id = data.get("group")
        if group_id:
            group = get_restricted_object(self.request, Group, "view", pk=group_id)
            return group, None
        target = data.get("target")
        if target:
            try:
                target = json.loads(target)
            except ValueError:
                target = None
            if not isinstance(target, dict):
                raise ValidationError("Choose the customers again from the customer list.")
            return None, target
        return None, target_from_data(data)

    def get(self, request):
        errors, group, target = [], None, None
        try:
            group, target = self._who(request.GET)
        except ValidationError as exc:
            errors = error_messages(exc)
        form = CashbackForm(
            initial={"group": group.pk if group else None, "target": json.dumps(target or {})},
            user=request.user,
        )
        return self.render(form, group=group, target=target, target_errors=errors)

    def post(self, request):
        form = CashbackForm(request.POST, user=request.user)
        group = target = None
        try:
            group, target = self._who(request.POST)
        except ValidationError as exc:
            return self.render(form, target_errors=error_messages(exc), status=400)
        if form.is_valid():
            data = {k: form.cleaned_data[k] for k in ("mode", "amount", "comment")}
            if group is not None:
                data["group"] = group.pk
            else:
                data["target"] = target
            try:
                if request.POST.get("step") == "run":
                    job = services.cashback_enqueue(
                        actor=self.actor,
                        data=data,
                        idempotency_key=request.POST.get("idempotency_key") or None,
                    )
                    messages.success(request, f"Started job #{job.pk}: {job.label}.")
                    return HttpResponseRedirect(job.get_absolute_url())
                params = services.cashback_params(self.actor, data, freeze=False)
                preview = services.cashback_preview(self.actor, params)
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            except ValidationError as exc:
                for key, errors in getattr(exc, "message_dict", {"": exc.messages}).items():
                    for message in errors:
                        form.add_error(key if key in form.fields else None, message)
            else:
                return self.render(form, group=group, target=target, preview=preview)
        return self.render(form, group=group, target=target, status=400)

    def render(self, form, *, group=None, target=None, preview=None, target_errors=(), status=200):
        from patron.bulk.targets import describe_target

        if group is not None:
            kind = "dynamic group" if group.is_dynamic else "group"
            who = f"the {kind} “{group}”"
        elif target:
            who = describe_target(target)
        else:
            who = ""
        context = {
            "title": "Cashback",
            "form": form,
            "group": group,
            "who": who,
            "target_json": json.dumps(target or {}),
            "preview": preview,
            "target_errors": target_errors,
            "idempotency_key": uuid.uuid4().hex,
        }
        return TemplateResponse(self.request, self.template_name, context, status=status)


class CashbackUndoView(PatronView):
    """One click: queue the undo of a finished cashback run, then show the undo job."""

    def post(self, request, pk):
        job = get_restricted_object(request, Job, "view", pk=pk)
        run = CashbackRun.objects.filter(job=job).first()
        try:
            if run is None:
                raise ValidationError("Only a finished cashback run can be undone.")
            undo = job_services.job_enqueue(
                actor=self.actor, kind=services.UNDO_KIND, params={"run": run.pk}
            )
        except (ValidationError, PermissionDenied) as exc:
            for message in error_messages(exc):
                messages.error(request, message)
            return HttpResponseRedirect(job.get_absolute_url())
        messages.success(request, f"Started job #{undo.pk} to undo job #{job.pk}.")
        return HttpResponseRedirect(undo.get_absolute_url())


def job_page_context(request, job: Job) -> dict:
    """A cashback job's part of its page: the run, its Undo button (or the undo that
    reverted it); an undo job names the run it undoes."""
    params = {
        k: v for k, v in (job.params or {}).items() if k not in ("request", "snapshot", "target")
    }
    target = (job.params or {}).get("target")
    if isinstance(target, dict) and "ids" in target:
        params["customers"] = f"{len(target['ids']):,} chosen"
    elif isinstance(target, dict):
        from patron.bulk.targets import describe_target

        params["customers"] = describe_target(target)
    run = CashbackRun.objects.filter(job=job).select_related("undo_of__job").first()
    context = {
        "job_type_template": "cashback/_job.html",
        "params": params_display(params),
        "cashback_run": run,
        "cashback_can_undo": False,
        "cashback_undone_by": None,
    }
    if run is not None and run.undo_of_id is None:
        undone = CashbackRun.objects.filter(undo_of=run).select_related("job").first()
        context["cashback_undone_by"] = undone
        context["cashback_can_undo"] = (
            undone is None and not services.undo_refusal(run) and services.can_run(request.user)
        )
        try:
            context["cashback_undo_url"] = reverse("cashback:undo", args=[job.pk])
        except NoReverseMatch:
            context["cashback_can_undo"] = False
    return context
