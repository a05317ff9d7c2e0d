"""Writes for notes: add, edit, pin. Every change is in the customer's event log.

A note private to its department never puts its text in the event log: the
event says "Added a private note for Billing" and lists no `body` change.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from patron.core import audit
from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.core.services import lock, object_update, require_perm
from patron.departments.routing import check_customer, check_department, check_person, is_member
from patron.notes.models import Note

NOTE_FIELDS = ("department", "addressed_to", "body", "pinned", "private_to_department")


def _check_routing(actor: Actor, note: Note, *, department_changed: bool) -> None:
    """The department is one the actor may see; private notes only from its members."""
    if department_changed:
        check_department(actor, note.department)
    check_person(note.addressed_to, "addressed_to")
    if not note.private_to_department or note.department_id is None:
        return
    user = actor.user
    if user is not None and not user.is_owner and not is_member(user, note.department):
        raise ValidationError(
            {
                "private_to_department": (
                    f"Only members of {note.department} can write a note private to it."
                )
            }
        )
    if note.addressed_to is not None and not (
        note.addressed_to.is_owner or is_member(note.addressed_to, note.department)
    ):
        raise ValidationError(
            {
                "addressed_to": (
                    f"{note.addressed_to} is not a member of {note.department}, "
                    "so they could not read this private note."
                )
            }
        )


def _loggable(note: Note, changes: dict) -> dict:
    """The changes safe to log: never the text of a private note."""
    if note.private_to_department:
        return {k: v for k, v in changes.items() if k != "body"}
    return changes


def note_create(*, actor: Actor, customer, data: dict) -> Note:
    """Add a note to `customer`, routed to a department and optionally one person."""
    require_perm(actor, Note, "add")
    check_customer(actor, customer)
    unknown = set(data) - set(NOTE_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown note fields: {', '.join(sorted(unknown))}.")
    note = Note(customer=customer, **data)
    note.author = actor.user if actor.user is not None and actor.user.pk else None
    note.author_label = actor.label[:200]
    note.full_clean()
    _check_routing(actor, note, department_changed=True)
    with transaction.atomic():
        note.save()
        after = audit.snapshot(note, NOTE_FIELDS)
        changes = {k: [None, v] for k, v in after.items() if v not in (None, "", False)}
        audit.record(
            actor=actor,
            action="created",
            obj=note,
            customer=customer,
            changes=_loggable(note, changes),
            message=f"Added {note.routing_label}",
        )
    return note


def note_update(
    *, actor: Actor, note: Note, data: dict, expected_version: int | None = None
) -> Note:
    """Change a note's text or routing; refused if someone else changed it first."""
    require_perm(actor, Note, "change")
    unknown = set(data) - set(NOTE_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown note fields: {', '.join(sorted(unknown))}.")
    with transaction.atomic():
        locked = lock(note, expected_version)
        was_private = locked.private_to_department
        before = audit.snapshot(locked, data)
        old_department_id = locked.department_id
        for name, value in data.items():
            setattr(locked, name, value)
        locked.full_clean()
        _check_routing(actor, locked, department_changed=locked.department_id != old_department_id)
        changes = audit.diff(before, audit.snapshot(locked, data))
        if not changes:
            return locked
        locked.version = F("version") + 1
        locked.save(update_fields=[*data, "version", "modified"])
        locked.refresh_from_db(fields=["version"])
        if was_private or locked.private_to_department:
            changes = {k: v for k, v in changes.items() if k != "body"}
            if "body" in data and before.get("body") != locked.body:
                # Say that the text changed without saying what it says.
                changes["body"] = ["(private)", "(private, changed)"]
        audit.record(
            actor=actor,
            action="updated",
            obj=locked,
            customer=locked.customer,
            changes=changes,
            message=f"Changed {locked.routing_label}",
        )
    return locked


def note_pin(*, actor: Actor, note: Note, pinned: bool = True) -> Note:
    """Pin a note to the top of the customer's notes, or unpin it."""
    require_perm(actor, Note, "change")
    return object_update(
        actor=actor,
        instance=note,
        data={"pinned": pinned},
        customer=note.customer,
        action="pinned" if pinned else "unpinned",
        message=f"{'Pinned' if pinned else 'Unpinned'} {note.routing_label}",
        validate=False,
    )
