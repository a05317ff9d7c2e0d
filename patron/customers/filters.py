"""The one FilterSet for customers: the list page, the API, exports and bulk actions.

Every way of choosing customers ends in the segment language. The filter
controls (Tag, Group, Status...) are written out as the query they mean
(`CustomerFilterSet.equivalent_query()`, shown under the list's query box),
the `q` box is a query of its own, and the two are compiled together, once,
by `patron.segments.language.compile_segment`. So the list, `/api/customers/`,
an export and a bulk action given the same parameters select exactly the same
customers, and a saved segment made from the list selects them too.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db import connection
from django.db.models import ExpressionWrapper, F, IntegerField

from patron.classes.models import CustomerClass
from patron.core.filters import StyledFilterSet
from patron.customers.models import Customer, CustomerTag
from patron.departments.models import Department
from patron.groups.filters import SubtreeFilter
from patron.groups.models import Group
from patron.segments.filters import SegmentQueryFilter
from patron.segments.language import Compiler, SegmentError, quote_value
from patron.segments.language.syntax import Or, Term
from patron.statuses.models import Status
from patron.tags.models import Tag


def _any_of(field: str, names) -> str:
    terms = [f"{field}:{quote_value(name)}" for name in names]
    return terms[0] if len(terms) == 1 else "(" + " or ".join(terms) + ")"


def _keep(queryset, name, value):
    """The controls are applied as one compiled query in `filter_queryset`."""
    return queryset


class CustomerFilterSet(StyledFilterSet):
    """A query in the segment language plus the list's filter controls.

    Archived customers are left out unless the query mentions `archived` or the
    Accounts control says `archived` (`archived:true`) or `all` (`archived:any`).
    """

    ARCHIVED_CHOICES = [("", "Active accounts"), ("archived", "Archived"), ("all", "All")]
    ARCHIVED_TERMS = {"archived": "archived:true", "all": "archived:any"}

    q = SegmentQueryFilter(
        label="Query",
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": "tag:vip and status:active — or a name, account no., phone…",
                "autocomplete": "off",
                "spellcheck": "false",
            }
        ),
    )
    tag = django_filters.ModelMultipleChoiceFilter(
        queryset=Tag.objects.all(), method=_keep, label="Tag"
    )
    group = SubtreeFilter(
        queryset=Group.objects.select_related("group_set"), method=_keep, label="Group"
    )
    status = django_filters.ModelMultipleChoiceFilter(
        queryset=Status.objects.filter(visible_in_backend=True), method=_keep, label="Status"
    )
    customer_class = django_filters.ModelChoiceFilter(
        queryset=CustomerClass.objects.all(), method=_keep, label="Class"
    )
    department = django_filters.ModelChoiceFilter(
        queryset=Department.objects.all(), method=_keep, label="Department"
    )
    kind = django_filters.ChoiceFilter(choices=Customer.Kind.choices, method=_keep, label="Type")
    city = django_filters.CharFilter(method=_keep, label="City")
    archived = django_filters.ChoiceFilter(
        choices=ARCHIVED_CHOICES[1:], method=_keep, label="Accounts", empty_label="Active"
    )

    class Meta:
        model = Customer
        fields = ["q", "tag", "group", "status", "customer_class", "department", "kind", "city"]

    def __init__(self, data=None, queryset=None, *, request=None, **kwargs):
        super().__init__(data, queryset, request=request, **kwargs)
        user = getattr(request, "user", None)
        # One compiler for the query box and the combined query: names read once.
        self.compiler = Compiler(user)
        self.form.fields["q"].compiler = self.compiler
        for name in ("tag", "status"):
            self.form.fields[name].widget.attrs.setdefault("class", "form-select")
            self.form.fields[name].widget.attrs.setdefault("size", 1)
        for field in self.form.fields.values():
            if isinstance(field.widget, forms.Select):
                field.widget.template_name = "core/widgets/select.html"

    # The query the controls mean -------------------------------------------
    def control_terms(self, with_tags: bool = True) -> list[str]:
        """The filter controls as terms of the segment language, in control order."""
        data = self.form.cleaned_data if self.is_bound and self.is_valid() else {}
        terms = []
        if with_tags and data.get("tag"):
            terms.append(_any_of("tag", [t.name for t in data["tag"]]))
        if data.get("group"):
            terms.append(f"group:{quote_value(data['group'].name)}")
        if data.get("status"):
            terms.append(_any_of("status", [s.name for s in data["status"]]))
        if data.get("customer_class"):
            terms.append(f"class:{quote_value(data['customer_class'].name)}")
        if data.get("department"):
            terms.append(f"department:{quote_value(data['department'].name)}")
        if data.get("kind"):
            terms.append(f"kind:{data['kind']}")
        if (data.get("city") or "").strip():
            terms.append(f"city:{quote_value(data['city'].strip())}")
        if data.get("archived") in self.ARCHIVED_TERMS:
            terms.append(self.ARCHIVED_TERMS[data["archived"]])
        return terms

    def equivalent_query(self, with_tags: bool = True) -> str:
        """The whole filter as one query: the controls, then the query box.

        Empty when nothing is chosen. A plain search typed in the box is
        quoted, so it stays one search term beside the controls' terms.
        """
        terms = self.control_terms(with_tags=with_tags)
        compiled = self.form.cleaned_data.get("q") if self.is_bound and self.is_valid() else None
        if compiled is not None:
            text, tree = compiled.text.strip(), compiled.tree
            if not terms:
                terms.append(text)
            elif isinstance(tree, Term) and tree.field is None:
                terms.append(quote_value(tree.value))
            else:
                terms.append(f"({text})" if isinstance(tree, Or) else text)
        return " and ".join(terms)

    @property
    def query_error(self) -> SegmentError | None:
        """The query box's error with its column and suggestion, for the list page."""
        if not self.is_bound or self.is_valid():
            return None
        for error in self.form.errors.as_data().get("q", []):
            params = error.params or {}
            return SegmentError(
                params.get("message", error.message),
                params.get("position"),
                params.get("suggestion"),
            )
        return None

    def filter_queryset(self, queryset, *, tags_as_probe: bool = False):
        """The chosen customers.

        The Tag control selects exactly what its `tag:` terms would, written as
        `id IN (customers with these tags)`: SQLite then starts from the tag's
        index instead of testing every account of a status one by one. With
        `tags_as_probe` (the list page fetching a page of a large result in
        name order) the ids are only looked up in that list, so SQLite walks
        the name index and stops after one page instead of sorting every match.
        """
        if not self.is_valid():  # callers show the errors; they never get everyone instead
            return queryset.none()
        tags = self.form.cleaned_data.get("tag")
        if tags:
            tagged = CustomerTag.objects.filter(tag__in=tags).values("customer_id")
            if tags_as_probe and connection.vendor == "sqlite":
                queryset = queryset.alias(
                    tag_probe_id=ExpressionWrapper(F("id") + 0, output_field=IntegerField())
                ).filter(tag_probe_id__in=tagged)
            else:
                queryset = queryset.filter(pk__in=tagged)
        text = self.equivalent_query(with_tags=False)
        if not text:
            return queryset.filter(archived=False)
        try:
            compiled = self.compiler.compile(text)
        except SegmentError:  # a chosen name vanished between the form and the query
            return queryset.none()
        return compiled.apply(queryset)
