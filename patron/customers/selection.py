"""How a request chooses customers: the one reading of the customer list's parameters.

The customer list, a bulk action, the bulk tag job and an export all receive
the same thing: the list's query string (or the API's JSON object) holding the
filter controls (`tag=3&status=1`), a segment query (`q`) and ticked ids
(`ids`). `selection_data()` turns any of those shapes into one `QueryDict`
without the keys that choose a page, an order or a page's own form
(`NOT_FILTERS`) and without empty values; `filter_dict()` is the same as a
sorted `{name: [values]}` of the filter controls alone (what a bulk job
stores).
"""

from __future__ import annotations

from types import SimpleNamespace

from django.http import QueryDict

from patron.core.errors import ValidationError

# Query-string keys that choose a page, an order or a page's own form, never customers.
NOT_FILTERS = frozenset(
    {
        "page",
        "sort",
        "ordering",
        "page_size",
        "per_page",
        "cursor",
        "csrfmiddlewaretoken",
        "format",
        "target",
        "action",
        "next",
    }
)
# Keys that choose customers but are not filter controls.
NOT_CONTROLS = frozenset({"q", "ids", "filter"})


def selection_data(value) -> QueryDict:
    """The list's parameters as a QueryDict, from a query string, a dict or a QueryDict.

    Keys in `NOT_FILTERS` and empty values are left out; `q` and `ids` stay.
    """
    data = QueryDict(mutable=True)
    if value in (None, ""):
        return data
    if isinstance(value, QueryDict):
        items = [(key, value.getlist(key)) for key in value]
    elif isinstance(value, str):
        parsed = QueryDict(value.lstrip("?"))
        items = [(key, parsed.getlist(key)) for key in parsed]
    elif isinstance(value, dict):
        items = [
            (str(key), list(item) if isinstance(item, list | tuple) else [item])
            for key, item in value.items()
        ]
    else:
        raise ValidationError({"filter": "Give the filter as a query string or an object."})
    for key, values in items:
        kept = [str(v) for v in values if v not in (None, "")]
        if key not in NOT_FILTERS and kept:
            data.setlist(key, kept)
    return data


def filter_dict(value) -> dict[str, list[str]]:
    """The filter controls alone (no `q`, `ids` or `filter`), as a sorted dict of lists."""
    data = selection_data(value)
    return {key: data.getlist(key) for key in sorted(data) if key not in NOT_CONTROLS}


def filter_pairs(data: QueryDict) -> list[tuple[str, str]]:
    """(key, value) of every parameter that chooses customers, in the request's order."""
    return [
        (key, value)
        for key in data
        if key not in NOT_FILTERS
        for value in data.getlist(key)
        if value != ""
    ]


def describe_selection(value, user) -> list[str]:
    """The customers a selection chooses, in words, one phrase per parameter:
    'Tag: VIP, Fibre', 'Query: “status:active”', '3 chosen customers'.

    Tag, group, status, class and department ids are shown by name (a row the
    user may not see, or one deleted since, as "#id"); an empty selection is
    every customer the user may see.
    """
    from patron.customers.filters import CustomerFilterSet

    data = selection_data(value)
    request = SimpleNamespace(user=user)
    fields = CustomerFilterSet(request=request).form.fields
    phrases = []
    for key in data:
        values = data.getlist(key)
        if key == "ids":
            count = len([v for v in ",".join(values).split(",") if v.strip()])
            phrases.append(f"{count:,} chosen customer{'s' if count != 1 else ''}")
            continue
        field = fields.get(key)
        if field is None:
            phrases.append(f"{key}: {', '.join(values)}")
            continue
        queryset = getattr(field, "queryset", None)
        if queryset is not None:
            ids = [int(v) for v in values if str(v).isdigit()]
            names = {row.pk: str(row) for row in queryset.filter(pk__in=ids)}
            shown = [names.get(i, f"#{i}") for i in ids]
            shown += [v for v in values if not str(v).isdigit()]
        elif getattr(field, "choices", None):
            labels = {str(k): str(label) for k, label in field.choices}
            shown = [labels.get(v, v) for v in values]
        elif key == "q":
            shown = [f"“{v}”" for v in values]
        else:
            shown = values
        phrases.append(f"{field.label}: {', '.join(shown)}")
    return phrases
