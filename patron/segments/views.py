"""Segment pages: list with live counts, add/edit/delete, detail, explain, preview."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.humanize.templatetags.humanize import intcomma
from django.db.models import Q
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from patron.core.tables import Column
from patron.core.views import (
    ObjectDeleteView,
    ObjectEditView,
    ObjectListView,
    PatronView,
    get_restricted_object,
)
from patron.customers.models import Customer
from patron.segments import services
from patron.segments.filters import SegmentFilterSet
from patron.segments.forms import SegmentForm
from patron.segments.language import (
    Compiler,
    SegmentError,
    explain,
    quote_value,
    segment_queryset,
)
from patron.segments.language.compiler import match_columns
from patron.segments.models import Segment
from patron.segments.selectors import measure

SAMPLE_SIZE = 50


def _count_cell(segment):
    if not hasattr(segment, "live_count"):
        return ""  # measured after the page of segments is known
    if segment.query_error:
        return format_html(
            '<span class="text-danger small" title="{}">Query error</span>', segment.query_error
        )
    return format_html(
        '<a href="{}" class="fw-semibold">{}</a>',
        segment.get_absolute_url(),
        intcomma(segment.live_count),
    )


class SegmentListView(ObjectListView):
    model = Segment
    filterset_class = SegmentFilterSet
    add_url_name = "segments:add"
    select_related = ("owner",)
    columns = [
        Column("name", link=True),
        Column(
            "query",
            sortable=False,
            html=lambda s: format_html('<code class="text-body">{}</code>', s.query),
        ),
        Column("count", label="Customers", sortable=False, html=_count_cell),
        Column("shared", sortable=False),
        Column("owner", sortable=False, accessor=lambda s: s.owner.username if s.owner else ""),
    ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        page = list(context["page_obj"].object_list)
        measure(page, self.request.user)
        context["rows"] = [(obj, [c.render(obj) for c in self.columns]) for obj in page]
        return context


def _can(user, segment, action) -> bool:
    return (
        user.has_perm(f"segments.{action}_segment")
        and Segment.objects.restrict(user, action).filter(pk=segment.pk).exists()
    )


def segment_links(segment) -> dict:
    """The customer list, a bulk action and an export of the segment's customers: each
    page reads `q` the way the list passes it (patron/customers/selection.py)."""
    from patron.customers.views.listing import url_or_empty

    query = "?" + urlencode({"q": segment.query})
    bulk, export = url_or_empty("jobs:bulk"), url_or_empty("imports:export")
    return {
        "list_url": reverse("customers:list") + query,
        "bulk_url": bulk + query if bulk else "",
        "export_url": export + query if export else "",
    }


class SegmentDetailView(PatronView):
    model = Segment

    def get(self, request, pk):
        segment = get_restricted_object(request, Segment, "view", pk=pk)
        segment.live_count, segment.query_error = None, ""
        customers = []
        try:
            selected = segment_queryset(segment.query, user=request.user)
        except SegmentError as exc:
            segment.query_error = exc.message
        else:
            segment.live_count = selected.count()
            customers = list(selected.select_related("status").order_by("name", "id")[:SAMPLE_SIZE])
        return TemplateResponse(
            request,
            "segments/segment_detail.html",
            {
                "title": f"Segment {segment}",
                "segment": segment,
                "customers": customers,
                "sample_size": SAMPLE_SIZE,
                "can_change": _can(request.user, segment, "change"),
                "can_delete": _can(request.user, segment, "delete"),
                **segment_links(segment),
            },
        )


class SegmentEditView(ObjectEditView):
    model = Segment
    form_class = SegmentForm
    template_name = "segments/segment_form.html"
    success_url_name = "segments:list"

    def get_form(self, instance, data=None):
        form = super().get_form(instance, data)
        if instance is None and data is None and self.request.GET.get("query"):
            # "Save as segment" on the customer list brings the list's query along.
            form.initial["query"] = self.request.GET["query"]
        return form

    def create(self, form):
        return services.segment_create(actor=self.actor, data=form.model_data)

    def update(self, instance, form, expected_version):
        return services.segment_update(
            actor=self.actor,
            segment=instance,
            data=form.model_data,
            expected_version=expected_version,
        )

    def render(self, form, instance, status=200):
        """The form, with the query's count or its one error drawn in the preview."""
        response = super().render(form, instance, status)
        text = form["query"].value() or ""
        field_error = form.errors.get("query", [""])[0] if form.is_bound else ""
        response.context_data["preview"] = preview_context(text, self.request.user, field_error)
        return response

    def delete_url(self, instance):
        if instance and _can(self.request.user, instance, "delete"):
            return reverse("segments:delete", args=[instance.pk])
        return ""

    def success_url(self, obj):
        return obj.get_absolute_url()


class SegmentDeleteView(ObjectDeleteView):
    model = Segment
    success_url_name = "segments:list"

    def delete(self, obj):
        services.segment_delete(actor=self.actor, segment=obj)


class SegmentHelpView(PatronView):
    """The query language on one page: fields, operators, the names this user may use
    (live from the database, restricted like the compiler's own look-ups), examples."""

    model = Customer

    def get(self, request):
        from patron.classes.models import CustomerClass
        from patron.customfields.models import CustomField
        from patron.departments.models import Department
        from patron.groups.models import Group, GroupSet
        from patron.segments import help as language_help
        from patron.statuses.models import Status
        from patron.tags.models import Tag

        user = request.user
        list_url = reverse("customers:list")

        def names(model, **filters):
            rows = model.objects.restrict(user).filter(**filters).order_by("name")
            return [(row.name, quote_value(row.name)) for row in rows]

        groups = (
            Group.objects.restrict(user)
            .select_related("group_set")
            .order_by("group_set__position", "group_set__name", "group_set_id", "path")
        )
        if user.has_customer_restriction:
            # Only the groups whose customers the user sees: their groups and those below.
            within = Q(pk__in=[])
            for path in user.restricted_paths:
                within |= Q(path__startswith=path)
            groups = groups.filter(within)
        custom_fields = [
            (field.key, field.label) for field in CustomField.objects.restrict(user).order_by("key")
        ]
        return TemplateResponse(
            request,
            "segments/help.html",
            {
                "title": "Segment query language",
                "fields": language_help.FIELDS,
                "operators": language_help.OPERATORS,
                "dates": language_help.DATES,
                "examples": [
                    (e, f"{list_url}?{urlencode({'q': e.query})}") for e in language_help.EXAMPLES
                ],
                "tags": names(Tag),
                "group_rows": [
                    (g, quote_value(g.name), quote_value(g.group_set.name)) for g in groups
                ],
                "group_sets": names(GroupSet),
                "statuses": names(Status, visible_in_backend=True),
                "classes": names(CustomerClass),
                "departments": names(Department),
                "custom_fields": custom_fields,
                "list_url": list_url,
            },
        )


def preview_context(text: str, user, field_error: str = "") -> dict:
    """How many customers `text` selects, or its error as the customer list shows it.

    `field_error` is the form's own message for the query (an empty query on save),
    shown in the same place when the query itself has no error to show.
    """
    from patron.customers.views.listing import error_context

    context = {"query": text, "count": None, "error": None, "error_fix_target": "id_query"}
    if text.strip():
        try:
            context["count"] = segment_queryset(text, user=user).count()
        except SegmentError as exc:
            context["error"] = exc
            context.update(error_context(text, exc))
    if context["error"] is None and field_error:
        context["error"] = SegmentError(field_error)
        context["count"] = None
    context["query_error"] = context["error"]
    return context


class SegmentPreviewView(PatronView):
    """How many customers a query selects, or its error, while it is typed."""

    model = Segment

    def get(self, request):
        context = preview_context(request.GET.get("query", ""), request.user)
        # A query that cannot run is a 400 (the form's preview swaps it in all the same).
        status = 400 if context["error"] else 200
        return TemplateResponse(request, "segments/_preview.html", context, status=status)


class SegmentExplainView(PatronView):
    """Term by term, why a customer is in the segment or not (SEG-5)."""

    model = Segment

    def get(self, request, pk, customer_pk):
        segment = get_restricted_object(request, Segment, "view", pk=pk)
        customer = get_restricted_object(request, Customer, "view", pk=customer_pk)
        context = {
            "title": f"Is {customer.name} in {segment}?",
            "segment": segment,
            "customer": customer,
            "results": None,
            "error": None,
        }
        try:
            context["results"] = explain(segment.query, customer, user=request.user)
        except SegmentError as exc:
            context["error"] = exc.message
        template = (
            "segments/_explain.html"
            if request.htmx and not request.htmx.boosted
            else "segments/explain.html"
        )
        return TemplateResponse(request, template, context)


CARD_SEGMENTS = 15


def memberships_of(customer, user, queries: list[tuple[object, str]]) -> list[dict]:
    """For each (item, query), whether `customer` is selected, in ONE SELECT.

    Each query becomes a CASE column on the customer's row; a query that
    cannot run gives `error` instead. Dynamic groups pass `group:"Name"`.
    """
    columns, errors = match_columns(
        Compiler(user), {f"m{i}": text for i, (_item, text) in enumerate(queries)}
    )
    values = {}
    if columns:
        values = (
            Customer.objects.restrict(user, "view")
            .filter(pk=customer.pk)
            .annotate(**columns)
            .values(*columns)
            .get()
        )
    return [
        {
            "item": item,
            "member": bool(values[f"m{i}"]) if f"m{i}" in values else None,
            "error": errors.get(f"m{i}", ""),
        }
        for i, (item, _text) in enumerate(queries)
    ]


class CustomerSegmentsView(PatronView):
    """The overview's Segments card: the dynamic groups the customer is in, and each
    saved segment in or out, with a link to why (SEG-5). Loaded by htmx after the page."""

    model = Segment

    def get(self, request, customer_pk):
        from patron.groups.dynamic import group_query
        from patron.groups.models import Group

        customer = get_restricted_object(request, Customer, "view", pk=customer_pk)
        groups = list(
            Group.objects.restrict(request.user)
            .filter(segment__isnull=False)
            .select_related("segment")
            .order_by("name")
        )
        segments = list(Segment.objects.restrict(request.user, "view")[: CARD_SEGMENTS + 1])
        queries = [(g, group_query(g)) for g in groups] + [(s, s.query) for s in segments]
        rows = memberships_of(customer, request.user, queries[: len(groups) + CARD_SEGMENTS])
        return TemplateResponse(
            request,
            "segments/_customer_segments.html",
            {
                "customer": customer,
                "group_rows": rows[: len(groups)],
                "segment_rows": rows[len(groups) :],
                "more_segments": len(segments) > CARD_SEGMENTS,
            },
        )
