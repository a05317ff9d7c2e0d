"""The customer list: a segment query beside the filter controls, selection, sort and pages."""

from urllib.parse import urlencode

from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from patron.core.tables import Column, badge, badges
from patron.core.views import ObjectListView
from patron.customers.filters import CustomerFilterSet
from patron.customers.models import Customer
from patron.segments.language import quote_value

# Query-string keys that choose the page and order, not the customers.
NOT_FILTERS = {"page", "sort"}


def status_badge(status):
    return format_html(
        '<span class="badge status-{}">{}</span>', status.display_class or "secondary", status.name
    )


def error_context(text: str, error) -> dict:
    """The query split around the error's column, and the query with the suggestion in place."""
    if error is None or not error.position:
        return {}
    start = min(max(error.position - 1, 0), len(text))
    end = start
    if start < len(text) and text[start] in "\"'":
        closing = text.find(text[start], start + 1)
        end = len(text) if closing == -1 else closing + 1
    else:
        while end < len(text) and not text[end].isspace() and text[end] not in "()\"':<>=":
            end += 1
    context = {
        "error_before": text[:start],
        "error_at": text[start:end] or " ",
        "error_after": text[end:],
    }
    if error.suggestion:
        context["error_fixed_query"] = text[:start] + quote_value(error.suggestion) + text[end:]
    return context


def url_or_empty(name: str) -> str:
    """The URL called `name`, or "" while the page it names is not installed."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


class CustomerListView(ObjectListView):
    model = Customer
    filterset_class = CustomerFilterSet
    template_name = "customers/customer_list.html"
    table_template_name = "customers/_customer_results.html"
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
        Column("groups", sortable=False),
        Column("tags", html=lambda c: badges(c.tags.all()), sortable=False),
        Column("service_city", label="City"),
        Column("created", accessor=lambda c: c.created.date(), label="Since"),
    ]

    def get_context_data(self, **kwargs):
        from patron.groups.dynamic import dynamic_groups_of

        context = super().get_context_data(**kwargs)
        page = [obj for obj, _ in context["rows"]]
        dynamic = dynamic_groups_of([c.pk for c in page], user=self.request.user)
        for obj, cells in context["rows"]:
            cells[4] = badges([*obj.groups.all(), *dynamic.get(obj.pk, [])])
            if obj.archived:
                cells[1] = format_html("{} {}", cells[1], badge("Archived", "#6c757d"))
        filterset = context["filterset"]
        equivalent = filterset.equivalent_query() if filterset.is_valid() else ""
        filters = [
            (key, value)
            for key in self.request.GET
            if key not in NOT_FILTERS
            for value in self.request.GET.getlist(key)
            if value != ""
        ]
        can_save = self.request.user.has_perm("segments.add_segment")
        errors = error_context(self.request.GET.get("q", ""), filterset.query_error)
        if "error_fixed_query" in errors:
            fixed = self.request.GET.copy()
            fixed["q"] = errors["error_fixed_query"]
            fixed.pop("page", None)
            errors["error_fix_url"] = "?" + fixed.urlencode()
        context.update(
            query_error=filterset.query_error,
            **errors,
            equivalent_query=equivalent,
            # The controls alone as a query: "Use as query" moves them into the box.
            use_query_url=(
                "?" + urlencode({"q": equivalent})
                if equivalent and filterset.control_terms()
                else ""
            ),
            save_segment_url=(
                reverse("segments:add") + "?" + urlencode({"query": equivalent})
                if equivalent and can_save
                else ""
            ),
            filter_params=filters,
            bulk_url=url_or_empty("jobs:bulk"),
            export_url=url_or_empty("imports:export"),
        )
        return context
