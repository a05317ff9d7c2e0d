"""Showing events: who did it, and each changed field as before → after."""

import datetime
import re

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone

from patron.events.privacy import EventPrivacy

register = template.Library()

EMPTY = "—"


def _field_label(event, name: str) -> str:
    """The model's label for a changed field, or the key itself made readable.

    Total by design: services write keys that are not concrete fields (a
    reverse relation such as `contacts`, a custom field, a computed summary),
    and an event must always render whatever it holds.
    """
    model = event.object_type.model_class() if event.object_type_id else None
    if model is not None:
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
        label = getattr(field, "verbose_name", None)
        if label is None and field is not None and field.is_relation:
            # A reverse relation (ManyToOneRel) has no verbose_name of its own:
            # the related model's plural name reads the same ("Contacts").
            label = field.related_model._meta.verbose_name_plural
        if label:
            return str(label).capitalize()
    return str(name).replace("_", " ").strip().capitalize() or "Change"


ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _when(value: str) -> str:
    """ISO timestamps (how the log stores dates) in the local, readable form."""
    try:
        if ISO_DATETIME.match(value):
            moment = datetime.datetime.fromisoformat(value)
            if timezone.is_aware(moment):
                moment = timezone.localtime(moment)
            return moment.strftime("%-d %b %Y %H:%M")
        if ISO_DATE.match(value):
            return datetime.date.fromisoformat(value).strftime("%-d %b %Y")
    except ValueError:
        pass
    return value


def display(value) -> str:
    """A stored value as a person reads it."""
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    if isinstance(value, list | tuple):
        return ", ".join(display(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {display(v)}" for k, v in value.items())
    if isinstance(value, str):
        return _when(value)
    return str(value)


@register.simple_tag(takes_context=True)
def event_privacy(context, events) -> EventPrivacy:
    """`{% event_privacy events as privacy %}`: what the viewer may read of this page of
    events, looked up once for the page (see patron.events.privacy)."""
    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    return EventPrivacy.for_events(events, user)


@register.filter
def event_changes(event, privacy: EventPrivacy | None = None) -> dict:
    """{"rows": [(label, before, after)], "new": bool} for the event's changed fields.

    `new` is true for a creation, where nothing had a value before, so the
    template lists the values instead of a column of empty befores. With
    `privacy` (from `event_privacy`), customers the viewer cannot see are masked.
    """
    rows = []
    changes = event.changes if privacy is None else privacy.changes(event)
    changes = changes if isinstance(changes, dict) else {"changes": changes}
    for name, pair in changes.items():
        before, after = (pair + [None, None])[:2] if isinstance(pair, list) else (None, pair)
        before, after = display(before), display(after)
        if before != after:
            rows.append((_field_label(event, name), before, after))
    new = event.action == "created" and all(before == EMPTY for _, before, _ in rows)
    return {"rows": rows, "new": new}


@register.filter
def event_actor(event) -> dict:
    """{"name", "token", "system"} for the "Who" column, without extra queries:
    the related user and token are used when the query loaded them, otherwise
    the label written with the event."""
    from patron.events.models import Event

    label = event.actor_label or ""
    if event.actor_kind == Event.ActorKind.SYSTEM:
        return {"system": True, "name": label or "system", "token": ""}
    name, token = label, ""
    if event.actor_kind == Event.ActorKind.TOKEN:
        name, _, rest = label.partition(" (token ")
        token = rest.removesuffix(")")
        if Event.actor_token.is_cached(event) and event.actor_token is not None:
            token = event.actor_token.name
    if Event.actor_user.is_cached(event) and event.actor_user is not None:
        name = event.actor_user.username
    return {"system": False, "name": name, "token": token}
