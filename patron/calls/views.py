"""Call log pages: the overview card (htmx), a customer's calls, the list, edit and delete."""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime

from patron.calls import services
from patron.calls.filters import CallLogFilterSet
from patron.calls.forms import CallLogForm
from patron.calls.models import CallLog
from patron.calls.overview import RECENT_CALLS, overview_context
from patron.core.errors import ValidationError
from patron.core.tables import Column
from patron.core.views import (
    ObjectDeleteView,
    ObjectEditView,
    ObjectListView,
    PatronView,
    apply_form_errors,
    get_restricted_object,
)
from patron.customers.models import Customer

CARD = "calls/_customer_calls.html"


def load_customer(request, pk) -> Customer:
    return get_restricted_object(request, Customer, "view", pk=pk)


def card_limit(request) -> int:
    try:
        return max(1, min(int(request.GET.get("limit") or request.POST.get("limit")), 200))
    except (TypeError, ValueError):
        return RECENT_CALLS


class CustomerCallsView(PatronView):
    """All calls of one customer; with htmx, just the card (e.g. after Cancel)."""

    model = CallLog

    def get(self, request, pk):
        customer = load_customer(request, pk)
        if request.htmx:
            context = {
                "customer": customer,
                **overview_context(request, customer, limit=card_limit(request)),
            }
            return TemplateResponse(request, CARD, context)
        context = {
            "customer": customer,
            "title": f"Calls with {customer.name}",
            **overview_context(request, customer, limit=200),
        }
        return TemplateResponse(request, "calls/customer_calls.html", context)


class CallLogCreateView(PatronView):
    """GET: the card with the inline form open. POST: save; answer with the card.

    Every field has a default (now, the current user, inbound, resolved), so a
    call is logged from the overview with two clicks: "Log a call", "Save".
    """

    model = CallLog
    required_action = "add"

    def card(self, customer, form, status=200):
        context = {
            "customer": customer,
            **overview_context(self.request, customer, limit=card_limit(self.request), form=form),
        }
        return TemplateResponse(self.request, CARD, context, status=status)

    def get(self, request, pk):
        customer = load_customer(request, pk)
        form = CallLogForm(customer=customer)
        if request.htmx:
            return self.card(customer, form)
        return TemplateResponse(
            request,
            "calls/call_form.html",
            {
                "customer": customer,
                "form": form,
                "title": f"Log a call with {customer.name}",
                "cancel_url": customer.get_absolute_url(),
            },
        )

    def post(self, request, pk):
        customer = load_customer(request, pk)
        form = CallLogForm(request.POST, customer=customer)
        if form.is_valid():
            try:
                services.call_log_create(actor=self.actor, customer=customer, data=form.model_data)
            except ValidationError as exc:
                apply_form_errors(form, exc)
            else:
                if not request.htmx:
                    messages.success(request, "Call logged.")
                    return HttpResponseRedirect(customer.get_absolute_url())
                response = self.card(customer, None)
                response["HX-Trigger"] = "customer-changed"
                return response
        if request.htmx:
            # htmx swaps 2xx answers only: the form with its errors comes back as 200.
            return self.card(customer, form)
        return TemplateResponse(
            request,
            "calls/call_form.html",
            {
                "customer": customer,
                "form": form,
                "title": f"Log a call with {customer.name}",
                "cancel_url": customer.get_absolute_url(),
            },
            status=400,
        )


class CallLogListView(ObjectListView):
    model = CallLog
    filterset_class = CallLogFilterSet
    title = "Call logs"
    default_ordering = ("-started_at", "-id")
    select_related = ("customer", "contact", "staff_user")
    columns = [
        Column(
            "started_at",
            label="Started",
            link=True,
            accessor=lambda c: date_format(localtime(c.started_at), "j M Y H:i"),
        ),
        Column(
            "customer",
            order_by="customer__name",
            html=lambda c: c.customer and _customer_link(c.customer),
        ),
        Column("direction", accessor=lambda c: c.get_direction_display()),
        Column("contact", sortable=False),
        Column("staff_user", label="Staff member", order_by="staff_user__username"),
        Column("duration", accessor=lambda c: c.duration_display),
        Column("outcome", accessor=lambda c: c.get_outcome_display()),
        Column("summary", sortable=False),
    ]


def _customer_link(customer):
    return format_html('<a href="{}">{}</a>', customer.get_absolute_url(), customer.name)


class CallLogEditView(ObjectEditView):
    model = CallLog
    form_class = CallLogForm
    delete_url_name = "calls:delete"

    def get_form(self, instance, data=None):
        return CallLogForm(data=data, instance=instance, customer=instance.customer)

    def update(self, instance, form, expected_version):
        return services.call_log_update(
            actor=self.actor, call=instance, data=form.model_data, expected_version=expected_version
        )

    def success_url(self, obj):
        return obj.customer.get_absolute_url()

    def render(self, form, instance, status=200):
        response = super().render(form, instance, status)
        response.context_data["cancel_url"] = instance.customer.get_absolute_url()
        response.context_data["title"] = f"Call with {instance.customer.name}"
        return response


class CallLogDeleteView(ObjectDeleteView):
    model = CallLog

    def delete(self, obj):
        services.call_log_delete(actor=self.actor, call=obj)

    def post(self, request, *args, **kwargs):
        obj = self.get_object()
        self.delete(obj)
        messages.success(request, "Deleted the call log.")
        return HttpResponseRedirect(obj.customer.get_absolute_url())
