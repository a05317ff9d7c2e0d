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
