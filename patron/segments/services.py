"""Writes for saved segments: create, update, delete. A broken query is refused."""

from __future__ import annotations

from django.db import transaction

from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.core.services import object_create, object_delete, object_update, require_perm
from patron.segments.language import SegmentError, compile_segment
from patron.segments.models import Segment

FIELDS = ("name", "query", "description", "shared")


def check_query(*, actor: Actor, query: str) -> None:
    """Refuse an empty query, a syntax error or a name the actor cannot see, on "query"."""
    if not (query or "").strip():
        raise ValidationError({"query": "Enter a query, for example tag:vip."})
    try:
        compile_segment(query, user=actor.user)
    except SegmentError as exc:
        raise ValidationError({"query": exc.message}) from exc


def _require_row(actor: Actor, segment: Segment, action: str) -> None:
    if not Segment.objects.restrict(actor, action).filter(pk=segment.pk).exists():
        raise PermissionDenied(f"Only the owner of the segment “{segment}” may {action} it.")


def segment_create(*, actor: Actor, data: dict) -> Segment:
    """Save a query under a name; the actor becomes its owner."""
    require_perm(actor, Segment, "add")
    data = {k: v for k, v in data.items() if k in FIELDS}
    check_query(actor=actor, query=data.get("query", ""))
    with transaction.atomic():
        return object_create(actor=actor, instance=Segment(owner=actor.user, **data))


def segment_update(
    *, actor: Actor, segment: Segment, data: dict, expected_version: int | None = None
) -> Segment:
    require_perm(actor, Segment, "change")
    _require_row(actor, segment, "change")
    data = {k: v for k, v in data.items() if k in FIELDS}
    if "query" in data:
        check_query(actor=actor, query=data["query"])
    with transaction.atomic():
        updated = object_update(
            actor=actor, instance=segment, data=data, expected_version=expected_version
        )
        if "query" in data:
            _check_dynamic_groups(updated)
    return updated


def _check_dynamic_groups(segment: Segment) -> None:
    """Refuse a new query that the dynamic groups built on it cannot run, e.g. one that
    names its own group; call inside the update's transaction so it is rolled back."""
    from patron.groups.dynamic import group_query

    for group in segment.dynamic_groups.all():
        try:
            compile_segment(group_query(group), user=None)
        except SegmentError as exc:
            raise ValidationError({"query": exc.message}) from exc


def segment_delete(*, actor: Actor, segment: Segment) -> None:
    require_perm(actor, Segment, "delete")
    _require_row(actor, segment, "delete")
    groups = list(segment.dynamic_groups.values_list("name", flat=True)[:3])
    if groups:
        names = ", ".join(f"“{name}”" for name in groups)
        raise ValidationError(
            f"The segment “{segment}” decides who is in the dynamic group {names}; "
            "give the group another segment first."
        )
    object_delete(actor=actor, instance=segment)
