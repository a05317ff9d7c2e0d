"""Billing pages: runs (preview, then start), invoices and credit notes, usage charges.

Thin views: a run is previewed and started as a job (`billing.preview`,
`billing.run` in `jobs.py`), a credit note and usage charges go through
`services.py`; every read goes through `restrict()`, so a restricted user
sees only their customers' invoices and another customer's is a 404.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date

from patron.billing import services
from patron.billing.filters import InvoiceFilterSet
from patron.billing.forms import (
    BillingRunForm,
    CreditNoteForm,
    UsageFilterForm,
    UsageUploadForm,
)
from patron.billing.models import BillingRun, Invoice, InvoiceLine, UsageCharge
from patron.billing.runs import add_months, default_billing_day
from patron.core.errors import PermissionDenied, ValidationError, error_messages
from patron.core.money import format_money
from patron.core.views import PatronView, apply_form_errors, get_restricted_object
from patron.customers.models import Customer
from patron.jobs import services as jobs
from patron.jobs.models import Job
from patron.jobs.views import state_badge, with_live_progress

PREVIEW_KIND = "billing.preview"
RUN_KIND = "billing.run"
PAGE_SIZE = 50


def next_billing_date(after: datetime.date, day: int, *, inclusive: bool) -> datetime.date:
    """The first date on or after (`inclusive`) or after `after` whose day is `day`."""
    candidate = after.replace(day=day)
    if candidate < after or (candidate == after and not inclusive):
        candidate = add_months(candidate, 1)
    return candidate


def current_period(day: int, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The billing period of a billing day that contains `today` (first and last day)."""
    start = today.replace(day=day)
    if start > today:
        start = add_months(start, -1)
    return start, add_months(start, 1) - datetime.timedelta(days=1)


def default_run_date(today: datetime.date | None = None) -> datetime.date:
    """The next billing date after the last done run, or the coming one."""
    day = default_billing_day()
    last = (
        BillingRun.objects.filter(state=BillingRun.State.DONE)
        .order_by("-billing_date")
        .values_list("billing_date", flat=True)
        .first()
    )
    if last is not None:
        return next_billing_date(last, day, inclusive=False)
    return next_billing_date(today or timezone.localdate(), day, inclusive=True)


def visible_totals(user, invoices) -> dict:
    """Count and sums of `invoices` (already restricted to what `user` may see)."""
    totals = invoices.aggregate(
        count=Count("id"), net=Sum("net"), tax=Sum("tax"), gross=Sum("gross")
    )
    return {k: (v if v is not None else Decimal(0)) for k, v in totals.items()}


def _restricted(user) -> bool:
    return bool(getattr(user, "has_customer_restriction", False))


def summary_words(summary: dict) -> str:
    """A preview's or run's summary in Patron's words."""
    invoices = int(summary.get("invoices") or 0)
    customers = int(summary.get("customers_billed") or invoices)
    parts = [
        f"{customers:,} customer{'s' if customers != 1 else ''}",
        f"{invoices:,} invoice{'s' if invoices != 1 else ''}",
        f"{format_money(Decimal(summary.get('net') or 0))} net",
        f"{format_money(Decimal(summary.get('tax') or 0))} tax",
        f"{format_money(Decimal(summary.get('gross') or 0))} with tax",
    ]
    skipped = []
    carried = int(summary.get("carried_below_minimum") or 0)
    if carried:
        amount = summary.get("carried_gross")
        skipped.append(
            f"{carried:,} below the minimum invoice (carried to the next"
            + (f", {format_money(Decimal(amount))}" if amount else "")
            + ")"
        )
    not_billable = int(summary.get("skipped_not_billable") or 0)
    if not_billable:
        skipped.append(f"{not_billable:,} not billable by their status")
    nothing = int(summary.get("nothing_to_bill") or 0)
    if nothing:
        skipped.append(f"{nothing:,} with nothing to bill")
    text = ", ".join(parts)
    if skipped:
        count = carried + not_billable + nothing
        text += f"; {count:,} skipped: " + ", ".join(skipped)
    return text + "."


# --- Runs ------------------------------------------------------------------------------


class BillingRunListView(PatronView):
    """The runs, newest first, and the form that previews a new one."""

    model = BillingRun
    template_name = "billing/run_list.html"

    def get(self, request):
        form = BillingRunForm(initial={"billing_date": default_run_date()})
        return self.render(form)

    def post(self, request):
        if not request.user.has_perm("billing.run_billing"):
            raise PermissionDenied("Your role does not allow you to run billing.")
        form = BillingRunForm(request.POST)
        if form.is_valid():
            try:
                job = jobs.job_enqueue(
                    actor=self.actor,
                    kind=PREVIEW_KIND,
                    params=form.job_params(),
                    idempotency_key=request.POST.get("idempotency_key") or None,
                )
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            except ValidationError as exc:
                apply_form_errors(form, exc)
            else:
                return HttpResponseRedirect(reverse("billing:preview", args=[job.pk]))
        return self.render(form, status=400)

    def render(self, form, status=200):
        user = self.request.user
        runs = BillingRun.objects.restrict(user).order_by("-billing_date", "-id")
        page = Paginator(runs, PAGE_SIZE).get_page(self.request.GET.get("page"))
        rows = list(page.object_list)
        restricted = _restricted(user)
        if restricted:
            # Someone who sees only some customers sees the totals of their invoices.
            sums = {
                row["run_id"]: row
                for row in Invoice.objects.restrict(user)
                .filter(run__in=rows)
                .values("run_id")
                .annotate(count=Count("id"), net=Sum("net"), gross=Sum("gross"))
            }
            for run in rows:
                mine = sums.get(run.pk, {})
                run.shown_count = mine.get("count", 0)
                run.shown_net = mine.get("net") or Decimal(0)
                run.shown_gross = mine.get("gross") or Decimal(0)
        else:
            for run in rows:
                run.shown_count = run.invoice_count
                run.shown_net = run.net_total
                run.shown_gross = run.gross_total
        context = {
            "title": "Billing runs",
            "runs": rows,
            "page_obj": page,
            "query": "",
            "form": form,
            "restricted": restricted,
            "can_run": user.has_perm("billing.run_billing"),
            "billing_day": default_billing_day(),
            "idempotency_key": uuid.uuid4().hex,
            "tab": "runs",
        }
        return TemplateResponse(self.request, self.template_name, context, status=status)


def _preview_job(request, pk) -> Job:
    job = get_restricted_object(request, Job, "view", pk=pk)
    if job.kind != PREVIEW_KIND:
        raise Http404("No billing preview with this number.")
    return job


def preview_context(request, job: Job) -> dict:
    job = with_live_progress(job)
    summary = job.result_summary or {}
    done = job.state == Job.State.SUCCEEDED
    sample = []
    if done:
        for item in summary.get("sample") or []:
            sample.append(
                {
                    **item,
                    "net": Decimal(item.get("net") or 0),
                    "tax": Decimal(item.get("tax") or 0),
                    "gross": Decimal(item.get("gross") or 0),
                    "lines": [
                        {
                            **line,
                            "net": Decimal(line.get("net") or 0),
                            "period_start": parse_date(line.get("period_start") or ""),
                            "period_end": parse_date(line.get("period_end") or ""),
                        }
                        for line in item.get("lines") or []
                    ],
                }
            )
    params = job.params or {}
    return {
        "job": job,
        "title": f"Billing preview for {params.get('billing_date', '')}",
        "billing_date": parse_date(params.get("billing_date") or ""),
        "cutoff_date": parse_date(params.get("cutoff_date") or ""),
        "state_badge": state_badge(job),
        "summary": summary if done else {},
        "summary_text": summary_words(summary) if done else "",
        "sample": sample,
        "period_start": parse_date(summary.get("period_start") or ""),
        "period_end": parse_date(summary.get("period_end") or ""),
        "can_run": request.user.has_perm("billing.run_billing"),
        # One preview starts at most one run, however often its button is pressed.
        "idempotency_key": f"billing-run-from-preview-{job.pk}",
        "tab": "runs",
    }


class BillingPreviewView(PatronView):
    """The preview job's progress, then its summary and sample, and "Start the run"."""

    model = BillingRun
    template_name = "billing/preview.html"

    def get(self, request, pk):
        job = _preview_job(request, pk)
        return TemplateResponse(request, self.template_name, preview_context(request, job))

    def post(self, request, pk):
        job = _preview_job(request, pk)
        if not request.user.has_perm("billing.run_billing"):
            raise PermissionDenied("Your role does not allow you to run billing.")
        if job.state != Job.State.SUCCEEDED:
            messages.error(request, "Wait for the preview to finish before starting the run.")
            return HttpResponseRedirect(reverse("billing:preview", args=[job.pk]))
        params = {k: job.params[k] for k in ("billing_date", "cutoff_date") if job.params.get(k)}
        try:
            run_job = jobs.job_enqueue(
                actor=self.actor,
                kind=RUN_KIND,
                params=params,
                idempotency_key=request.POST.get("idempotency_key") or None,
            )
        except (ValidationError, PermissionDenied) as exc:
            for message in error_messages(exc):
                messages.error(request, message)
            return HttpResponseRedirect(reverse("billing:preview", args=[job.pk]))
        messages.success(request, f"Started job #{run_job.pk}: {run_job.label}.")
        return HttpResponseRedirect(run_job.get_absolute_url())


class BillingPreviewProgressView(PatronView):
    """The htmx partial polled every second until the preview has finished."""

    model = BillingRun

    def get(self, request, pk):
        job = _preview_job(request, pk)
        return TemplateResponse(
            request, "billing/_preview_result.html", preview_context(request, job)
        )


class BillingRunDetailView(PatronView):
    model = BillingRun

    def get(self, request, pk):
        run = get_restricted_object(request, BillingRun, "view", pk=pk)
        user = request.user
        invoices = (
            Invoice.objects.restrict(user)
            .filter(run=run)
            .select_related("customer")
            .order_by("number", "id")
        )
        restricted = _restricted(user)
        page = Paginator(invoices, PAGE_SIZE).get_page(request.GET.get("page"))
        summary = run.summary or {}
        context = {
            "title": str(run),
            "run": run,
            "summary": summary,
            "summary_text": summary_words(summary) if summary else "",
            "restricted": restricted,
            "mine": visible_totals(user, invoices) if restricted else None,
            "invoices": page.object_list,
            "page_obj": page,
            "query": "",
            "tab": "runs",
        }
        return TemplateResponse(request, "billing/run_detail.html", context)


# --- Invoices --------------------------------------------------------------------------


class InvoiceListView(PatronView):
    """Invoices and credit notes, filtered, with the totals of what the filter chose."""

    model = Invoice

    def get(self, request):
        user = request.user
        invoices = Invoice.objects.restrict(user).select_related("customer")
        # The API's filters, so the page and /api/invoices/ choose the same invoices.
        filterset = InvoiceFilterSet(request.GET, queryset=invoices, request=request)
        invoices = filterset.qs if filterset.is_valid() else invoices.none()
        form = filterset.form
        totals = visible_totals(user, invoices)
        invoices = invoices.order_by("-issue_date", "-id")
        paginator = Paginator(invoices, PAGE_SIZE)
        paginator.count = totals["count"]
        page = paginator.get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        customer = None
        customer_id = request.GET.get("customer")
        if customer_id and str(customer_id).isdigit():
            customer = Customer.objects.restrict(user).filter(pk=customer_id).first()
        context = {
            "title": "Invoices",
            "filter_form": form,
            "filterset": filterset,
            "invoices": page.object_list,
            "page_obj": page,
            "query": query.urlencode(),
            "totals": totals,
            "customer": customer,
            "tab": "invoices",
        }
        template = (
            "billing/_invoice_table.html"
            if request.htmx and not request.htmx.boosted
            else "billing/invoice_list.html"
        )
        return TemplateResponse(request, template, context)


def invoice_context(request, invoice: Invoice, credit_form=None) -> dict:
    user = request.user
    lines = list(invoice.lines.select_related("credits__invoice").order_by("id"))
    credited = set(
        InvoiceLine.objects.filter(credits__invoice=invoice).values_list("credits_id", flat=True)
    )
    notes = list(
        Invoice.objects.restrict(user).filter(corrects=invoice).order_by("issue_date", "id")
    )
    can_credit = services.can_credit(user) and not invoice.is_credit_note
    if can_credit and credit_form is None:
        credit_form = CreditNoteForm(invoice=invoice, lines=lines, credited=credited)
    corrects = None
    if invoice.corrects_id:
        corrects = Invoice.objects.restrict(user).filter(pk=invoice.corrects_id).first()
    return {
        "title": str(invoice),
        "invoice": invoice,
        "customer": invoice.customer,
        "lines": lines,
        "credited": credited,
        "credit_notes": notes,
        "corrects": corrects,
        "can_credit": can_credit,
        "credit_form": credit_form,
        "all_credited": bool(lines) and len(credited) >= len(lines),
        "tab": "invoices",
    }


def _invoice(request, pk) -> Invoice:
    """The invoice, through `restrict()` like `get_restricted_object`: 404 when not visible."""
    return get_object_or_404(
        Invoice.objects.restrict(request.user, "view").select_related("customer", "run"), pk=pk
    )


class InvoiceDetailView(PatronView):
    model = Invoice

    def get(self, request, pk):
        invoice = _invoice(request, pk)
        return TemplateResponse(
            request, "billing/invoice_detail.html", invoice_context(request, invoice)
        )

    def post(self, request, pk):
        """An issued invoice is never edited: say so, and offer a credit note."""
        invoice = _invoice(request, pk)
        text = f"{invoice} has been issued and is never changed."
        if services.can_credit(request.user) and not invoice.is_credit_note:
            text += " To correct it, issue a credit note below and, if needed, a new charge."
        else:
            text += " Ask someone who may issue credit notes to correct it with one."
        messages.error(request, text)
        return HttpResponseRedirect(invoice.get_absolute_url())


class InvoiceCreditView(PatronView):
    """POST a credit note for the invoice; refusals come back on the invoice's form."""

    model = Invoice

    def post(self, request, pk):
        invoice = _invoice(request, pk)
        if not services.can_credit(request.user):
            raise PermissionDenied("Your role does not allow you to issue credit notes.")
        context = invoice_context(request, invoice)
        form = CreditNoteForm(
            request.POST, invoice=invoice, lines=context["lines"], credited=context["credited"]
        )
        if form.is_valid():
            try:
                note = services.invoice_credit(
                    actor=self.actor,
                    invoice=invoice,
                    reason=form.cleaned_data["reason"],
                    line_ids=form.cleaned_data["lines"],
                )
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            except ValidationError as exc:
                apply_form_errors(form, exc)
            else:
                messages.success(
                    request,
                    f"Issued {note} for {invoice.number}: {format_money(note.gross)}.",
                )
                return HttpResponseRedirect(note.get_absolute_url())
        context = invoice_context(request, invoice, credit_form=form)
        context["credit_open"] = True
        return TemplateResponse(request, "billing/invoice_detail.html", context, status=400)


class InvoicePdfView(PatronView):
    """The invoice as a PDF; a page inside the layout when PDFs cannot be made here."""

    model = Invoice

    def get(self, request, pk):
        from patron.core.pdf import PdfUnavailable, pdf_response

        invoice = _invoice(request, pk)
        try:
            from patron.billing.documents import invoice_pdf

            data = invoice_pdf(invoice)
        except (PdfUnavailable, ImportError) as exc:
            reason = (
                str(exc)
                if isinstance(exc, PdfUnavailable)
                else "This installation cannot make invoice PDFs yet."
            )
            context = {"title": f"PDF of {invoice}", "invoice": invoice, "reason": reason}
            return TemplateResponse(request, "billing/pdf_unavailable.html", context, status=503)
        return pdf_response(data, f"{invoice.number}.pdf")


# --- Usage charges ---------------------------------------------------------------------


class UsageChargeListView(PatronView):
    """Usage charges waiting for (or billed by) a run, and a CSV upload that adds them."""

    model = UsageCharge

    def get(self, request):
        return self.render(UsageUploadForm())

    def post(self, request):
        if not request.user.has_perm("billing.add_usagecharge"):
            raise PermissionDenied("Your role does not allow you to add usage charges.")
        form = UsageUploadForm(request.POST, request.FILES)
        row_errors = []
        if form.is_valid():
            rows = form.cleaned_data["file"]
            try:
                result = services.usage_charges_add(actor=self.actor, rows=rows)
            except services.UsageRowsError as exc:
                lines = getattr(form, "row_lines", [])
                for row in exc.rows:
                    number = row["row"]
                    line = lines[number - 1] if 0 < number <= len(lines) else None
                    problems = [f"{k}: {v}" for k, v in row.items() if k != "row"]
                    row_errors.append({"row": number, "line": line, "problems": problems})
                form.add_error(
                    None,
                    f"{len(exc.rows):,} row{'s' if len(exc.rows) != 1 else ''} cannot be added, "
                    "so nothing was added. Correct them and upload the file again.",
                )
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            except ValidationError as exc:
                apply_form_errors(form, exc)
            else:
                added = len(result.created)
                total = sum((c.amount for c in result.created), Decimal(0))
                plural = "s" if added != 1 else ""
                text = f"Added {added:,} usage charge{plural} ({format_money(total)})"
                if result.duplicates:
                    text += (
                        f"; {result.duplicates:,} already there (same reference), not added again"
                    )
                messages.success(request, text + ".")
                return HttpResponseRedirect(reverse("billing:usage"))
        return self.render(form, row_errors=row_errors, status=400)

    def render(self, form, *, row_errors=(), status=200):
        request = self.request
        filters = UsageFilterForm(request.GET)
        charges = (
            UsageCharge.objects.restrict(request.user)
            .select_related("customer", "service", "invoice_line__invoice")
            .order_by("-date", "-id")
        )
        customer = None
        if filters.is_valid():
            text = filters.cleaned_data["customer"].strip()
            if text.isdigit() and len(text) < 19:
                # A customer's id (the overview's links) or an account number.
                charges = charges.filter(
                    Q(customer_id=int(text)) | Q(customer__account_number=text)
                )
            elif text:
                charges = charges.filter(
                    Q(customer__account_number__iexact=text) | Q(customer__name__icontains=text)
                )
            billed = filters.cleaned_data["billed"]
            if billed == "yes":
                charges = charges.filter(invoice_line__isnull=False)
            elif billed == "no":
                charges = charges.filter(invoice_line__isnull=True)
        page = Paginator(charges, PAGE_SIZE).get_page(request.GET.get("page"))
        query = request.GET.copy()
        query.pop("page", None)
        context = {
            "title": "Usage charges",
            "filters": filters,
            "charges": page.object_list,
            "page_obj": page,
            "query": query.urlencode(),
            "form": form,
            "row_errors": row_errors,
            "can_add": request.user.has_perm("billing.add_usagecharge"),
            "customer": customer,
            "tab": "usage",
        }
        return TemplateResponse(request, "billing/usage_list.html", context, status=status)
