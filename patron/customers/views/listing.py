"""The customer list: a segment query beside the filter controls, selection, sort and pages."""

from urllib.parse import urlencode

from django.contrib.humanize.templatetags.humanize import intcomma
from django.core.paginator import Paginator
from django.db import connection
from django.urls import NoReverseMatch, reverse
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join

from patron.core.tables import Column, badge, badges, status_badge
from patron.core.views import ObjectListView
from patron.customers.filters import CustomerFilterSet
from patron.customers.models import Customer
from patron.customers.selection import filter_pairs
from patron.search.matches import describe as describe_matches
from patron.segments.language import quote_value

# Query-string keys that choose the page and order, not the customers.


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


# The list counts at most this many customers (or to the end of the page it
# shows, when that is further on). A filter over a million accounts can match
# hundreds of thousands of them; counting them all costs more than the rest of
# the page, and on PostgreSQL even a count that stops at 10,000 reads most of
# the table first. Beyond the cap the page says "more than 1,000".
COUNT_CAP = 1_000
# Past this many matches, a page of them is found faster by walking the name
# index than by sorting them all (see `CappedPaginator.page`).
WIDE_RESULT = 1_000


class CappedPaginator(Paginator):
    """Pages that count the matching customers only as far as they need to.

    The count stops at `COUNT_CAP` rows, or at the end of the page asked for
    when that is further on, so the next and previous pages always work. When
    more rows match, `exact` is False, `count` is one more than `limit` (enough
    for Django's paging to offer a next page) and the page says "more than
    `limit`"; the number of pages, and so a link to the last one, is known only
    when the count is exact.
    """

    def __init__(self, object_list, per_page, *, wanted_page=1, cap=None, wide_rows=None):
        super().__init__(object_list, per_page)
        self.wide_rows = wide_rows
        cap = COUNT_CAP if cap is None else cap
        try:
            wanted = int(wanted_page)
        except (TypeError, ValueError):
            wanted = 1
        # A page number that is not one (or below 1) means the first page; one
        # past the end means the last page, which counting that far has found.
        self.wanted = wanted if wanted >= 1 else 1
        self.limit = max(cap, self.wanted * per_page)

    @cached_property
    def count(self):
        # SELECT COUNT(*) FROM (SELECT … LIMIT n): the database stops after n rows.
        return self.object_list.order_by()[: self.limit + 1].count()

    @property
    def exact(self) -> bool:
        return self.count <= self.limit

    def page(self, number):
        """One page of rows; a large result is read through `wide_rows` when given.

        `wide_rows` is the same customers written for a walk down the sort's
        index that stops after one page: quick when many customers match,
        slow when few do, which is why a small result is sorted instead.
        """
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        rows = self.object_list
        if self.wide_rows is not None and self.count > WIDE_RESULT:
            rows = self.wide_rows
        return self._get_page(rows[bottom:top], number, self)


def plain_search(query: str) -> str:
    """The searched text when the query is one plain search (a name, a phone),
    else "": only then can the results say what each row matched."""
    from patron.segments.language.errors import SegmentError
    from patron.segments.language.syntax import Term, parse

    try:
        tree = parse(query)
    except SegmentError:  # the filter reports it as an error
        return ""
    return tree.value if isinstance(tree, Term) and tree.field is None else ""


class CustomerListView(ObjectListView):
    model = Customer
    filterset_class = CustomerFilterSet
    template_name = "customers/customer_list.html"
    table_template_name = "customers/_customer_results.html"
    add_url_name = "customers:add"
    title = "Customers"
    default_ordering = ("-id",)
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

    def get_paginator(self, queryset, filterset, ordering):
        """A paginator whose count stops at `COUNT_CAP` (see `CappedPaginator`)."""
        wide_rows = None
        if (
            connection.vendor == "sqlite"
            and filterset.is_valid()
            and filterset.form.cleaned_data.get("tag")
            and ordering[0].lstrip("-") == "name"
        ):
            # Statuses come in a second query: joined, they lead SQLite to read
            # every account of the status and sort them, not walk the name index.
            base = (
                self.get_base_queryset()
                .select_related(None)
                .select_related("customer_class")
                .prefetch_related("status")
            )
            wide_rows = filterset.filter_queryset(base, tags_as_probe=True).order_by(*ordering)
        return CappedPaginator(
            queryset,
            self.paginate_by,
            wanted_page=self.request.GET.get("page") or 1,
            wide_rows=wide_rows,
        )

    def get_context_data(self, **kwargs):
        from patron.groups.dynamic import dynamic_groups_of

        context = super().get_context_data(**kwargs)
        page = [obj for obj, _ in context["rows"]]
        dynamic = dynamic_groups_of([c.pk for c in page], user=self.request.user)
        search = plain_search(self.request.GET.get("q", ""))
        matched = describe_matches(page, search, user=self.request.user) if search else {}
        for obj, cells in context["rows"]:
            cells[4] = badges([*obj.groups.all(), *dynamic.get(obj.pk, [])])
            if obj.archived:
                cells[1] = format_html("{} {}", cells[1], badge("Archived", "#6c757d"))
            if obj.pk in matched:
                # What the search found, when the name and account number do not show it.
                lines = format_html_join("", "{}", ((m.html(),) for m in matched[obj.pk]))
                cells[1] = format_html("{}{}", cells[1], lines)
        filterset = context["filterset"]
        equivalent = filterset.equivalent_query() if filterset.is_valid() else ""
        filters = filter_pairs(self.request.GET)
        can_save = self.request.user.has_perm("segments.add_segment")
        errors = error_context(self.request.GET.get("q", ""), filterset.query_error)
        if "error_fixed_query" in errors:
            fixed = self.request.GET.copy()
            fixed["q"] = errors["error_fixed_query"]
            fixed.pop("page", None)
            errors["error_fix_url"] = "?" + fixed.urlencode()
        paginator = context["page_obj"].paginator
        context.update(
            matching_label=(
                intcomma(paginator.count)
                if paginator.exact
                else f"more than {intcomma(paginator.limit)}"
            ),
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
