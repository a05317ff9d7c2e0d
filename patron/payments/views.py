"""The payment pages: the list, record (with the allocation preview), the receipt with
refund and reverse, the group payment with its preview, the group statement, methods.

Every form that moves money carries a hidden `idempotency_key`: a double submit (two
clicks, a resent form) records one payment and shows its receipt again.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from patron.core.errors import ValidationError
from patron.core.idempotency import IdempotencyMismatch, idempotent_form
from patron.core.money import format_money
from patron.core.tables import Column
from patron.core.views import ObjectEditView, ObjectListView, PatronView, apply_form_errors
from patron.customers.models import Customer
from patron.groups.models import Group
from patron.payments import services
from patron.payments.forms import PaymentForm, PaymentMethodForm, RefundForm, ReverseForm
from patron.payments.models import Payment, PaymentMethod

PAGE_SIZE = 50


def _payment(request, pk) -> Payment:
    qs = Payment.objects.restrict(request.user, "view").select_related(
        "customer", "group", "method", "reverses"
    )
    return get_object_or_404(qs, pk=pk)


class PaymentListView(PatronView):
    """Payments, refunds and reversals, newest first; `?customer=`, `?group=`, `?kind=`."""

    model = Payment

    def get(self, request):
        qs = Payment.objects.restrict(request.user).select_related("customer", "group", "method")
        customer = group = None
        if str(request.GET.get("customer", "")).isdigit():
            customer = (
                Customer.objects.restrict(request.user).filter(pk=request.GET["customer"]).first()
            )
            qs = qs.filter(
                Q(customer_id=request.GET["customer"])
                | Q(allocations__customer_id=request.GET["customer"])
            ).distinct()
        if str(request.GET.get("group", "")).isdigit():
            group = Group.objects.restrict(request.user).filter(pk=request.GET["group"]).first()
            qs = qs.filter(group_id=request.GET["group"])
        if request.GET.get("kind") in Payment.Kind.values:
            qs = qs.filter(kind=request.GET["kind"])
        page = Paginator(qs.order_by("-received_date", "-id"), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        return TemplateResponse(
            request,
            "payments/payment_list.html",
            {
                "title": "Payments",
                "payments": page.object_list,
                "page_obj": page,
                "customer": customer,
                "group": group,
                "may_record": request.user.has_perm("payments.add_payment"),
            },
        )


def _form_fields(form) -> dict:
    data = {k: v for k, v in form.cleaned_data.items() if k != "idempotency_key"}
    data["method"] = data["method"].pk if data.get("method") else None
    return data


class _RecordBase(PatronView):
    """Shared by the customer's and the group's payment pages: preview, then confirm."""

    model = Payment
    required_action = "add"
    template_name = "payments/record.html"

    def payer(self, request, form=None) -> dict:
        raise NotImplementedError

    def context(self, request, form, **extra):
        return {"title": "Record a payment", "form": form, **extra}

    def get(self, request, **kwargs):
        form = PaymentForm(with_customer=self.with_customer)
        if self.with_customer and request.GET.get("customer"):
            customer = self._customer_by_id(request, request.GET["customer"])
            form.initial["customer"] = customer.account_number if customer else ""
        return TemplateResponse(request, self.template_name, self.context(request, form))

    def _customer_by_id(self, request, value):
        if not str(value).isdigit():
            return None
        return Customer.objects.restrict(request.user, "change").filter(pk=value).first()

    def post(self, request, **kwargs):
        form = PaymentForm(request.POST, with_customer=self.with_customer)
        if not form.is_valid():
            return TemplateResponse(
                request, self.template_name, self.context(request, form), status=400
            )
        try:
            payer = self.payer(request, form)
            data = form.cleaned_data
            if "confirm" not in request.POST:
                plan = services.payment_preview(actor=self.actor, amount=data["amount"], **payer)
                return TemplateResponse(
                    request,
                    self.template_name,
                    self.context(request, form, plan=plan, payer=payer),
                )

            def work():
                payment = services.payment_record(
                    actor=self.actor,
                    amount=data["amount"],
                    method=data["method"],
                    received_date=data["received_date"],
                    reference=data["reference"],
                    note=data["note"],
                    **payer,
                )
                messages.success(
                    request, f"Recorded {format_money(payment.amount)} from {payment.payer_label}."
                )
                return payment.get_absolute_url()

            url, replayed = idempotent_form(
                request, data.get("idempotency_key"), _form_fields(form), work
            )
            if replayed:
                messages.info(request, "This payment was recorded already; here is its receipt.")
            return HttpResponseRedirect(url)
        except IdempotencyMismatch:
            form.add_error(None, "This form was sent already with other values; reload it.")
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            if hasattr(exc, "error_dict") and "group" in exc.error_dict:
                form.add_error(None, exc.error_dict["group"][0].message)
            elif hasattr(exc, "error_dict") and "invoices" in exc.error_dict:
                form.add_error(None, exc.error_dict["invoices"][0].message)
            else:
                apply_form_errors(form, exc)
        return TemplateResponse(
            request, self.template_name, self.context(request, form), status=400
        )


class PaymentRecordView(_RecordBase):
    """A customer's payment: the account number (or `?customer=`), amount, method..."""

    with_customer = True

    def payer(self, request, form=None) -> dict:
        number = (form.cleaned_data.get("customer") or "").strip()
        visible = Customer.objects.restrict(request.user, "change")
        customer = visible.filter(account_number__iexact=number).first() if number else None
        if customer is None:
            raise ValidationError({"customer": f"No customer with account number “{number}”."})
        return {"customer": customer}


class GroupPaymentView(_RecordBase):
    """A payment for a whole payment group, allocated across its members."""

    with_customer = False

    def group(self, request):
        return get_object_or_404(Group.objects.restrict(request.user), pk=self.kwargs["pk"])

    def context(self, request, form, **extra):
        group = self.group(request)
        return {
            "title": f"Group payment: {group}",
            "form": form,
            "group": group,
            **extra,
        }

    def payer(self, request, form=None) -> dict:
        return {"group": self.group(request)}


class PaymentDetailView(PatronView):
    """The receipt: every allocation, the credit held, refunds and reversals."""

    model = Payment

    def get(self, request, pk, refund_form=None, reverse_form=None, status=200):
        payment = _payment(request, pk)
        allocations = list(payment.allocations.select_related("invoice", "customer").order_by("id"))
        visible = set(
            Customer.objects.restrict(request.user)
            .filter(pk__in={a.customer_id for a in allocations})
            .values_list("pk", flat=True)
        )
        corrections = list(payment.corrections.select_related("method").order_by("id"))
        reversed_ = any(c.kind == Payment.Kind.REVERSAL for c in corrections)
        may_correct = (
            services.can_refund(request.user)
            and payment.kind == Payment.Kind.PAYMENT
            and not reversed_
        )
        return TemplateResponse(
            request,
            "payments/payment_detail.html",
            {
                "title": str(payment),
                "payment": payment,
                "allocations": [a for a in allocations if a.customer_id in visible],
                "hidden_allocations": len([a for a in allocations if a.customer_id not in visible]),
                "allocated": sum((a.amount for a in allocations), 0),
                "corrections": corrections,
                "refunded": services.refunded_total(payment),
                "may_correct": may_correct,
                "refund_form": refund_form or RefundForm(),
                "reverse_form": reverse_form or ReverseForm(),
            },
            status=status,
        )


class _CorrectionView(PatronView):
    model = Payment
    form_class = None

    def post(self, request, pk):
        payment = _payment(request, pk)
        form = self.form_class(request.POST)
        if form.is_valid():
            fields = {k: v for k, v in form.cleaned_data.items() if k != "idempotency_key"}
            try:
                url, _replayed = idempotent_form(
                    request,
                    form.cleaned_data.get("idempotency_key"),
                    fields,
                    lambda: self.act(request, payment, form.cleaned_data).get_absolute_url(),
                )
                return HttpResponseRedirect(url)
            except IdempotencyMismatch:
                form.add_error(None, "This form was sent already with other values; reload it.")
            except PermissionDenied as exc:
                form.add_error(None, str(exc))
            except ValidationError as exc:
                if hasattr(exc, "error_dict") and "payment" in exc.error_dict:
                    form.add_error(None, exc.error_dict["payment"][0].message)
                else:
                    apply_form_errors(form, exc)
        page = PaymentDetailView(request=request, kwargs={"pk": pk})
        return page.get(request, pk, status=400, **{self.slot: form})


class PaymentRefundView(_CorrectionView):
    form_class = RefundForm
    slot = "refund_form"

    def act(self, request, payment, data):
        refund = services.payment_refund(
            actor=self.actor, payment=payment, amount=data["amount"], reason=data["reason"]
        )
        messages.success(request, f"Refunded {format_money(refund.amount)}.")
        return payment


class PaymentReverseView(_CorrectionView):
    form_class = ReverseForm
    slot = "reverse_form"

    def act(self, request, payment, data):
        reversal = services.payment_reverse(
            actor=self.actor, payment=payment, reason=data["reason"]
        )
        messages.success(request, f"Reversed the payment: {format_money(reversal.amount)}.")
        return payment


class GroupStatementView(PatronView):
    """A payment group's statement: members' open invoices, payments, outstanding total."""

    model = Payment

    def get(self, request, pk):
        group = get_object_or_404(Group.objects.restrict(request.user), pk=pk)
        statement = services.group_statement(actor=self.actor, group=group)
        return TemplateResponse(
            request,
            "payments/group_statement.html",
            {
                "title": f"Statement: {group}",
                "group": group,
                "may_record": request.user.has_perm("payments.add_payment") and group.payment_group,
                **statement,
            },
        )


class MethodListView(ObjectListView):
    model = PaymentMethod
    add_url_name = "payments:method_create"
    title = "Payment methods"
    default_ordering = ("position", "name")

    @property
    def columns(self):
        return [
            Column(
                "name",
                html=lambda m: format_html(
                    '<a href="{}">{}</a>', reverse("payments:method_edit", args=[m.pk]), m.name
                ),
            ),
            Column("position"),
            Column("active", html=lambda m: "Yes" if m.active else "No"),
        ]


class MethodEditView(ObjectEditView):
    model = PaymentMethod
    form_class = PaymentMethodForm
    success_url_name = "payments:methods"

    def create(self, form):
        return services.payment_method_create(actor=self.actor, data=form.model_data)

    def update(self, instance, form, expected_version):
        return services.payment_method_update(
            actor=self.actor,
            method=instance,
            data=form.model_data,
            expected_version=expected_version,
        )
