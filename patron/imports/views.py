"""Pages: upload a customer file and apply it, export a list, phone list → group."""

from __future__ import annotations

import csv
import io

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone

from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError, error_messages
from patron.core.views import PatronView, apply_form_errors, get_restricted_object
from patron.customers.models import Customer
from patron.customers.selection import describe_selection, selection_data
from patron.imports import exporting, retention
from patron.imports.checking import group_errors_by_row
from patron.imports.columns import LIST_SEPARATOR, all_columns
from patron.imports.forms import (
    OPTION_NAMES,
    ColumnMappingForm,
    ExportForm,
    ImportOptionsForm,
    ImportUploadForm,
    PhoneListForm,
)
from patron.imports.jobs import EXPORT_JOB
from patron.imports.mapping import column_choices, initial_mapping
from patron.imports.models import CustomerImport
from patron.imports.names import refusal
from patron.imports.phone_lists import phone_list_apply, phone_list_preview
from patron.imports.services import import_apply_start, import_options_set, import_upload
from patron.jobs.models import Job
from patron.jobs.services import job_enqueue
from patron.jobs.views import state_badge, with_live_progress

ERRORS_SHOWN = 200


def _job_context(job: Job | None) -> dict:
    if job is None:
        return {}
    job = with_live_progress(job)
    return {"job": job, "state_badge": state_badge(job)}


class ImportTemplateView(PatronView):
    """A CSV with only the header row: every column an import accepts (the same
    list the importer reads, plus the custom fields), to fill in and upload."""

    model = Customer
    required_action = "add"  # IMPORT_PERMISSION

    def get(self, request):
        buffer = io.StringIO()
        csv.writer(buffer).writerow(exporting.export_header()[0])
        response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="patron-import-template.csv"'
        return response


class ImportView(PatronView):
    """Upload a file; the uploader's recent imports below."""

    model = Customer
    required_action = "add"  # IMPORT_PERMISSION

    def render(self, form, status=200):
        recent = CustomerImport.objects.restrict(self.request.user).select_related(
            "apply_job", "check_job"
        )[:10]
        return TemplateResponse(
            self.request,
            "imports/import_upload.html",
            {
                "title": "Import customers",
                "form": form,
                "recent": recent,
                "columns": all_columns(),
                "separator": LIST_SEPARATOR,
            },
            status=status,
        )

    def get(self, request):
        return self.render(ImportUploadForm())

    def post(self, request):
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                customer_import = import_upload(
                    actor=self.actor, upload=form.cleaned_data["file"], options=form.options()
                )
            except (ValidationError, PermissionDenied) as exc:
                if isinstance(exc, ValidationError):
                    apply_form_errors(form, exc)
                else:
                    form.add_error(None, str(exc))
            else:
                return HttpResponseRedirect(customer_import.get_absolute_url())
        return self.render(form, status=400)


def _import_context(request, customer_import: CustomerImport) -> dict:
    check_job = customer_import.check_job
    apply_job = customer_import.apply_job
    if any(job is not None and job.is_finished for job in (check_job, apply_job)):
        # The import row was read before its jobs; a job that has just finished
        # committed its changes to the row first, so read the row again to show
        # the state that goes with the job's result.
        customer_import.refresh_from_db()
    errors = customer_import.errors[:ERRORS_SHOWN]
    file_removed = upload_removed_message(customer_import)
    summary = customer_import.summary or {}
    missing = summary.get("missing") or []
    applied = customer_import.state == CustomerImport.State.APPLIED
    checking = check_job is not None and not check_job.is_finished
    options_form = ImportOptionsForm(
        initial={name: getattr(customer_import, name) for name in OPTION_NAMES}
    )
    return {
        "title": f"Import #{customer_import.pk}: {customer_import.original_name}",
        "imp": customer_import,
        "check": _job_context(check_job),
        "apply": _job_context(apply_job),
        "errors": errors,
        "error_rows": group_errors_by_row(errors),
        "errors_shown": len(errors),
        "summary": summary,
        "missing": missing,
        "may_create": not refusal(Actor(user=request.user), {m["kind"] for m in missing})
        if missing
        else False,
        "polling": checking or (apply_job is not None and not apply_job.is_finished),
        "can_apply": customer_import.state == CustomerImport.State.READY
        and (apply_job is None or apply_job.state in (Job.State.FAILED, Job.State.CANCELLED))
        and not file_removed,
        "can_change": not applied and not checking and not file_removed,
        "options_form": options_form,
        "rejected_url": reverse("imports:rejected", args=[customer_import.pk])
        if customer_import.rejected_name and customer_import.rejected_count
        else "",
        "apply_count": (summary.get("to_create", 0) + summary.get("to_update", 0))
        if summary
        else customer_import.row_count,
        "file_removed": file_removed,
        "list_url": reverse("customers:list"),
    }


class ImportDetailView(PatronView):
    def get(self, request, pk):
        customer_import = get_restricted_object(request, CustomerImport, pk=pk)
        return TemplateResponse(
            request, "imports/import_detail.html", _import_context(request, customer_import)
        )


class ImportStatusView(PatronView):
    """The htmx partial polled while a check or an apply job runs."""

    def get(self, request, pk):
        customer_import = get_restricted_object(request, CustomerImport, pk=pk)
        return TemplateResponse(
            request, "imports/_import_status.html", _import_context(request, customer_import)
        )


def upload_removed_message(customer_import: CustomerImport) -> str:
    """Why an import that is not applied can no longer be: its file was deleted."""
    if customer_import.state == CustomerImport.State.APPLIED or customer_import.path.exists():
        return ""
    days = retention.retention_days()
    kept = f" after {days} day{'s' if days != 1 else ''}" if days else ""
    return f"The uploaded file was deleted{kept} without being imported; upload it again."


class ImportApplyView(PatronView):
    def post(self, request, pk):
        customer_import = get_restricted_object(request, CustomerImport, pk=pk)
        removed = upload_removed_message(customer_import)
        if removed:
            messages.error(request, removed)
            return HttpResponseRedirect(customer_import.get_absolute_url())
        try:
            job = import_apply_start(actor=self.actor, customer_import=customer_import)
        except (ValidationError, PermissionDenied) as exc:
            for message in error_messages(exc):
                messages.error(request, message)
        else:
            messages.success(request, f"Started job #{job.pk}: importing the customers.")
        return HttpResponseRedirect(customer_import.get_absolute_url())


class ImportOptionsView(PatronView):
    """Change how a checked file is applied, and check it again."""

    def post(self, request, pk):
        customer_import = get_restricted_object(request, CustomerImport, pk=pk)
        form = ImportOptionsForm(request.POST)
        if not form.is_valid():
            for message in form.errors.values():
                messages.error(request, " ".join(message))
            return HttpResponseRedirect(customer_import.get_absolute_url())
        try:
            import_options_set(
                actor=self.actor,
                customer_import=customer_import,
                options={name: form.cleaned_data.get(name) for name in OPTION_NAMES},
            )
        except (ValidationError, PermissionDenied) as exc:
            for message in error_messages(exc):
                messages.error(request, message)
        else:
            messages.success(request, "Checking the file again with these options.")
        return HttpResponseRedirect(customer_import.get_absolute_url())


class ImportMappingView(PatronView):
    """Map each header of the file to one of Patron's columns, or ignore it."""

    def _form(self, customer_import, data=None):
        return ColumnMappingForm(
            data,
            headers=customer_import.headers,
            initial_mapping=initial_mapping(customer_import.headers, customer_import.mapping),
            choices=column_choices(),
        )

    def render(self, customer_import, form, status=200):
        unknown = set((customer_import.summary or {}).get("unknown_headers") or [])
        rows = [
            (form[f"column_{i}"], header, header in unknown)
            for i, header in enumerate(customer_import.headers)
        ]
        return TemplateResponse(
            self.request,
            "imports/import_mapping.html",
            {
                "title": f"Map the columns of {customer_import.original_name}",
                "imp": customer_import,
                "form": form,
                "rows": rows,
            },
            status=status,
        )

    def get(self, request, pk):
        customer_import = get_restricted_object(request, CustomerImport, pk=pk)
        if not customer_import.headers:
            messages.error(request, "The file is still being checked; map its columns once it is.")
            return HttpResponseRedirect(customer_import.get_absolute_url())
        return self.render(customer_import, self._form(customer_import))

    def post(self, request, pk):
        customer_import = get_restricted_object(request, CustomerImport, pk=pk)
        form = self._form(customer_import, request.POST)
        if not form.is_valid():
            return self.render(customer_import, form, status=400)
        try:
            import_options_set(
                actor=self.actor, customer_import=customer_import, mapping=form.mapping()
            )
        except (ValidationError, PermissionDenied) as exc:
            for message in error_messages(exc):
                form.add_error(None, message)
            return self.render(customer_import, form, status=400)
        messages.success(
            request,
            "Mapping saved; files with the same headers will be read the same way. "
            "Checking the file again.",
        )
        return HttpResponseRedirect(customer_import.get_absolute_url())


def rejected_rows_response(customer_import: CustomerImport) -> FileResponse:
    """The rejected rows of an import as CSV, with their reasons; 404 when there are none."""
    path = customer_import.rejected_path
    if path is None or not customer_import.rejected_count or not path.exists():
        raise Http404("This import has no rejected rows.")
    stem = customer_import.original_name.rsplit(".", 1)[0] or "customers"
    return FileResponse(
        open(path, "rb"),  # noqa: SIM115 — FileResponse closes it
        as_attachment=True,
        filename=f"{stem}-rejected.csv",
        content_type="text/csv",
    )


class ImportRejectedView(PatronView):
    def get(self, request, pk):
        customer_import = get_restricted_object(request, CustomerImport, pk=pk)
        return rejected_rows_response(customer_import)


# --- export ----------------------------------------------------------------------------


class ExportView(PatronView):
    """GET with the list's parameters: choose a format. POST: start the export job."""

    def _data(self, request):
        if request.method == "POST":
            return selection_data(request.POST.get("query", ""))
        return selection_data(request.GET)

    def get(self, request):
        data = self._data(request)
        return self.render(ExportForm(), data)

    def render(self, form, data, status=200, problems=()):
        count = None
        problems = list(problems)
        if not problems:
            try:
                count = exporting.export_queryset(self.actor, data).count()
            except ValidationError as exc:
                problems = error_messages(exc)
        return TemplateResponse(
            self.request,
            "imports/export_form.html",
            {
                "title": "Export customers",
                "form": form,
                "query": data.urlencode(),
                "count": count,
                "problems": problems,
                "filter_words": describe_selection(data, self.request.user),
                "columns": exporting.export_header()[0],
                "back_url": reverse("customers:list") + (f"?{data.urlencode()}" if data else ""),
            },
            status=status,
        )

    def post(self, request):
        data = self._data(request)
        form = ExportForm(request.POST)
        if not form.is_valid():
            return self.render(form, data, status=400)
        params = {"format": form.cleaned_data["format"], "filter": data.urlencode()}
        try:
            job = job_enqueue(actor=self.actor, kind=EXPORT_JOB, params=params)
        except (ValidationError, PermissionDenied) as exc:
            return self.render(form, data, status=400, problems=error_messages(exc))
        return HttpResponseRedirect(reverse("imports:export_detail", args=[job.pk]))


def _export_job(request, pk) -> Job:
    job = get_restricted_object(request, Job, pk=pk)
    if job.kind != EXPORT_JOB:
        raise Http404("No such export.")
    return job


def _export_context(job: Job) -> dict:
    file = (job.result_summary or {}).get("file") if job.state == Job.State.SUCCEEDED else ""
    expired_on = retention.export_expired_on(job) if file else None
    filters = selection_data((job.params or {}).get("filter", ""))
    return {
        "title": f"Export #{job.pk}",
        **_job_context(job),
        "file": "" if expired_on else file,
        "expired_on": expired_on,
        "expires_at": retention.export_expires_at(job) if file and not expired_on else None,
        "again_url": reverse("imports:export") + (f"?{filters.urlencode()}" if filters else ""),
    }


class ExportDetailView(PatronView):
    def get(self, request, pk):
        job = _export_job(request, pk)
        return TemplateResponse(request, "imports/export_detail.html", _export_context(job))


class ExportStatusView(PatronView):
    def get(self, request, pk):
        job = _export_job(request, pk)
        return TemplateResponse(request, "imports/_export_status.html", _export_context(job))


class ExportExpired(Exception):
    """The export's file was deleted after the retention period (answered with 410)."""

    def __init__(self, day):
        self.day = day
        super().__init__(retention.export_expired_message(day))


def export_download_response(job: Job) -> FileResponse:
    """The finished export's file as an attachment; 404 while there is none, and
    `ExportExpired` once the retention period has passed."""
    name = (job.result_summary or {}).get("file") if job.state == Job.State.SUCCEEDED else ""
    expired_on = retention.export_expired_on(job) if name else None
    if expired_on is not None:
        raise ExportExpired(expired_on)
    path = exporting.export_path(name) if name else None
    if path is None or not path.exists():
        raise Http404("This export has no file (it has not finished, or it was removed).")
    file_format = (job.result_summary or {}).get("format", "csv")
    stamp = timezone.localtime(job.finished_at or timezone.now()).strftime("%Y%m%d-%H%M")
    return FileResponse(
        open(path, "rb"), as_attachment=True, filename=f"customers-{stamp}.{file_format}"
    )


class ExportDownloadView(PatronView):
    def get(self, request, pk):
        job = _export_job(request, pk)
        try:
            return export_download_response(job)
        except ExportExpired as exc:
            context = {**_export_context(job), "message": str(exc), "title": "Export expired"}
            return TemplateResponse(request, "imports/export_expired.html", context, status=410)


# --- phone list ------------------------------------------------------------------------


class PhoneListView(PatronView):
    """Choose a group, paste numbers; preview what matches, then apply."""

    model = Customer
    required_action = "change"

    def render(self, form, result=None, status=200):
        return TemplateResponse(
            self.request,
            "imports/phone_list.html",
            {"title": "Add customers to a group from a phone list", "form": form, "result": result},
            status=status,
        )

    def get(self, request):
        initial = {"group": request.GET.get("group")} if request.GET.get("group") else None
        return self.render(PhoneListForm(initial=initial, user=request.user))

    def post(self, request):
        form = PhoneListForm(request.POST, user=request.user)
        if not form.is_valid():
            return self.render(form, status=400)
        apply = request.POST.get("action") == "apply"
        service = phone_list_apply if apply else phone_list_preview
        try:
            data = form.cleaned_data
            result = service(actor=self.actor, group=data["group"], text=data["numbers"])
        except ValidationError as exc:
            apply_form_errors(form, exc)
            return self.render(form, status=400)
        if apply:
            messages.success(
                request,
                f"Added {len(result.to_add)} customer(s) to “{result.group}”"
                + (f"; {len(result.conflicts)} could not be added." if result.conflicts else "."),
            )
        return self.render(form, result)
