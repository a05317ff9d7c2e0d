"""Which customers a bulk action acts on: a selection, a segment query, or the list's filter.

Every bulk action, its preview and its API turn their request into customers
through `target_from_data` (request parameters to a stored target) and
`target_queryset` (stored target to customers the actor may change). The
second always starts from `Customer.objects.restrict(user, "change")`, so a
job started by a user restricted to some groups never reaches a customer
outside them, however its target was written.
"""

from __future__ import annotations

import json
from types import SimpleNamespace

from django.db import connection
from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.http import QueryDict

from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.customers.filters import CustomerFilterSet
from patron.customers.models import Customer
from patron.customers.selection import filter_dict
from patron.segments.language import SegmentError, apply_segment

MAX_IDS = 1_000_000


def visible_customers(actor: Actor, action: str = "change"):
    """The customers the actor may `action`; everything for the system itself."""
    return Customer.objects.restrict(actor, action)


def _ids(values) -> list[int]:
    if isinstance(values, str | int):
        values = [values]
    if not isinstance(values, list | tuple):
        raise ValidationError({"ids": "Give the customers as a list of customer ids."})
    ids = set()
    for value in values:
        for part in str(value).replace(",", " ").split():
            try:
                ids.add(int(part))
            except ValueError:
                raise ValidationError(
                    {"ids": f"“{part}” is not a customer id; give whole numbers."}
                ) from None
    if len(ids) > MAX_IDS:
        raise ValidationError({"ids": f"Choose at most {MAX_IDS:,} customers at a time."})
    return sorted(ids)


def target_from_data(data) -> dict:
    """A stored target from request parameters (a QueryDict from the list, or API JSON).

    `ids` (repeated or a list) wins; otherwise `q` (segment text) and the list's
    filter parameters, either given inline (GET from the customer list) or as
    `filter` (the API).
    """
    if isinstance(data, QueryDict):
        ids = [v for v in data.getlist("ids") if v.strip()]
        q = data.get("q", "")
        filters = filter_dict(data)
        filters.pop("filter", None)
    else:
        ids = data.get("ids") or data.get("customers")
        q = data.get("q") or ""
        filters = filter_dict(data.get("filter"))
    if ids:
        return {"ids": _ids(ids)}
    if not isinstance(q, str):
        raise ValidationError({"q": "Give the segment query as text."})
    target = {}
    if q.strip():
        target["q"] = q.strip()
    if filters:
        target["filter"] = filters
    if not target:
        raise ValidationError(
            {
                "target": "Choose the customers: tick some in the list, or give a segment query "
                "or a filter."
            }
        )
    return target


def clean_target(actor: Actor, target) -> dict:
    """Check a stored target for `actor`; SegmentError and filter errors become field errors."""
    return checked_target(actor, target)[0]


def checked_target(actor: Actor, target) -> tuple[dict, object]:
    """`clean_target`, with the customers it chooses (its `target_queryset`), built once."""
    if not isinstance(target, dict):
        raise ValidationError({"target": "Choose the customers."})
    target = target_from_data(target)
    # Building the queryset compiles the query and the filter, raising their errors.
    return target, target_queryset(actor, target)


def ids_in(ids: list[int], field: str = "pk") -> Q:
    """`field IN ids` as one bound parameter, so a list of any length fits in one query."""
    if connection.vendor == "postgresql":
        return Q(**{f"{field}__in": RawSQL("SELECT unnest(%s::bigint[])", [ids])})
    return Q(**{f"{field}__in": RawSQL("SELECT value FROM json_each(%s)", [json.dumps(ids)])})


def target_queryset(actor: Actor, target: dict, action: str = "change"):
    """The customers `target` chooses, within what the actor may `action`."""
    visible = visible_customers(actor, action)
    if "ids" in target:
        return visible.filter(ids_in(target["ids"]))
    filters = dict(target.get("filter") or {})
    q = target.get("q", "")
    if q and "archived" not in filters:
        # The segment decides about archived accounts (`archived:true`), not the list's default.
        filters["archived"] = ["all"]
    queryset = visible
    if filters:
        data = QueryDict(mutable=True)
        for key, values in filters.items():
            data.setlist(key, values)
        filterset = CustomerFilterSet(
            data, queryset=visible, request=SimpleNamespace(user=actor.user)
        )
        if not filterset.is_valid():
            raise ValidationError(
                {
                    "filter": [
                        f"{name}: {message}" if name != "__all__" else message
                        for name, messages in filterset.errors.items()
                        for message in messages
                    ]
                }
            )
        queryset = filterset.qs
    if q:
        try:
            queryset = apply_segment(
                queryset,
                q,
                actor.user,
                exclude_archived_by_default="archived" not in (target.get("filter") or {}),
            )
        except SegmentError as exc:
            message = exc.message
            if exc.position:
                message = f"{message} (at character {exc.position})"
            raise ValidationError({"q": message}) from None
    return queryset


def missing_ids(target: dict, chosen) -> list[int]:
    """Ids of a selection that are not among `chosen` (deleted, or not the actor's to change)."""
    if "ids" not in target:
        return []
    found = set(chosen.values_list("pk", flat=True))
    return [pk for pk in target["ids"] if pk not in found]


def describe_target(target: dict) -> str:
    """The target in a few words, for the preview page and the job page."""
    if "ids" in target:
        count = len(target["ids"])
        return f"{count:,} selected customer{'s' if count != 1 else ''}"
    parts = []
    if target.get("q"):
        parts.append(f"segment “{target['q']}”")
    if target.get("filter"):
        shown = "&".join(
            f"{key}={value}" for key, values in target["filter"].items() for value in values
        )
        parts.append(f"list filter {shown}")
    return " and ".join(parts) or "all customers"
