"""The customer list: search, filters, sort and pages."""

from django.utils.html import format_html

from patron.core.tables import Column, badge, badges
from patron.core.views import ObjectListView
from patron.customers.filters import CustomerFilterSet
from patron.customers.models import Customer


def status_badge(status):
    return format_html(
        '<span class="badge status-{}">{}</span>', status.display_class or "secondary", status.name
    )


class CustomerListView(ObjectListView):
    model = Customer
    filterset_class = CustomerFilterSet
    template_name = "customers/customer_list.html"
    add_url_name = "customers:add"
    title = "Customers"
    default_ordering = ("name", "id")
    select_related = ("status", "customer_class")
    prefetch_related = ("tags", "groups")
    columns = [
        Column("account_number", label="Account", link=True),
        Column("name", link=True),
        Column("status", html=lambda c: status_badge(c.status), order_by="status__position"),
        Column("customer_class", label="Class", order_by="customer_class__name"),
        Column("groups", html=lambda c: badges(c.groups.all()), sortable=False),
        Column("tags", html=lambda c: badges(c.tags.all()), sortable=False),
        Column("service_city", label="City"),
        Column("created", accessor=lambda c: c.created.date(), label="Since"),
    ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for obj, cells in context["rows"]:
            if obj.archived:
                cells[1] = format_html("{} {}", cells[1], badge("Archived", "#6c757d"))
        return context
