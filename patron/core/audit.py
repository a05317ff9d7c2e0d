"""The one audit path: services call `record()`; nothing else writes events.

Values are stored as the text a person reads ("Suspended", not 4), so the log
stays meaningful after the referenced object is renamed or deleted.
"""

from __future__ import annotations

import datetime
import decimal
from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from patron.core.actor import Actor


def display_value(instance: models.Model, field_name: str):
    """The JSON-safe, human-readable value of one field."""
    field = instance._meta.get_field(field_name)
    if field.many_to_many:
        if instance.pk is None:
            return []
        return sorted(str(o) for o in getattr(instance, field_name).all())
    value = getattr(instance, field.name)
    if field.is_relation:
        return str(value) if value is not None else None
    if field.choices and value not in (None, ""):
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return value


def snapshot(instance: models.Model, fields: Iterable[str]) -> dict:
    return {name: display_value(instance, name) for name in fields}


def diff(before: dict, after: dict) -> dict:
    """Field -> [before, after] for the fields whose value changed."""
    return {
        name: [before.get(name), after.get(name)]
        for name in after
        if before.get(name) != after.get(name)
    }


def build(
    *,
    actor: Actor,
    action: str,
    obj: models.Model,
    customer=None,
    changes: dict | None = None,
    message: str = "",
    reason: str = "",
    when: datetime.datetime | None = None,
):
    from patron.events.models import Event

    return Event(
        created=when or timezone.now(),
        actor_kind=actor.kind,
        actor_user=actor.user if actor.user is not None and actor.user.pk else None,
        actor_token=actor.token,
        actor_label=actor.label[:200],
        action=action,
        object_type=ContentType.objects.get_for_model(obj, for_concrete_model=False),
        object_id=str(obj.pk),
        object_repr=str(obj)[:200],
        customer=customer,
        changes=changes or {},
        message=message[:300],
        reason=reason or "",
    )


def record(**kwargs):
    """Write one event. Call inside the service's transaction."""
    event = build(**kwargs)
    event.save()
    return event


def record_many(events: list) -> None:
    """Write many prebuilt events in one statement (bulk actions)."""
    from patron.events.models import Event

    Event.objects.bulk_create(events, batch_size=1000)
