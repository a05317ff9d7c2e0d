"""Writes for tickets: open, edit, comment, close, reopen. All in the event log."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from patron.core import audit
from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.core.services import audited_fields, object_touch, object_update, require_perm
from patron.departments.routing import check_customer, check_department, check_person
from patron.tickets.models import Ticket, TicketComment

TICKET_FIELDS = ("department", "assignee", "subject", "description", "priority", "status")


def _check_fields(data: dict) -> None:
    unknown = set(data) - set(TICKET_FIELDS)
    if unknown:
        raise ValidationError(f"Unknown ticket fields: {', '.join(sorted(unknown))}.")


def _status_values(actor: Actor, status: str) -> dict:
    """Closing records who closed it and when; any other status clears that."""
    if status == Ticket.Status.CLOSED:
        return {"status": status, "closed_at": timezone.now(), "closed_by_label": actor.label[:200]}
    return {"status": status, "closed_at": None, "closed_by_label": ""}


def ticket_create(*, actor: Actor, customer, data: dict) -> Ticket:
    """Open a ticket on `customer` for a department (and optionally one person in it)."""
    require_perm(actor, Ticket, "add")
    _check_fields(data)
    check_customer(actor, customer)
    data = dict(data)
    status = data.pop("status", None) or Ticket.Status.OPEN
    ticket = Ticket(
        customer=customer,
        **data,
        **_status_values(actor, status),
        opened_by_label=actor.label[:200],
    )
    check_department(actor, ticket.department)
    check_person(ticket.assignee, "assignee")
    ticket.full_clean()
    with transaction.atomic():
        ticket.save()
        # Logged after the insert so the event names the ticket by its number.
        after = audit.snapshot(ticket, audited_fields(ticket))
        audit.record(
            actor=actor,
            action="created",
            obj=ticket,
            customer=customer,
            changes={k: [None, v] for k, v in after.items() if v not in (None, "", False)},
            message=f"Opened ticket {ticket} for {ticket.department}",
        )
    return ticket


def ticket_update(
    *,
    actor: Actor,
    ticket: Ticket,
    data: dict,
    expected_version: int | None = None,
    message: str = "",
) -> Ticket:
    """Change a ticket; a change of status to or from closed records who and when."""
    require_perm(actor, Ticket, "change")
    _check_fields(data)
    data = dict(data)
    if "department" in data and data["department"] != ticket.department:
        check_department(actor, data["department"])
    if "assignee" in data and data["assignee"] != ticket.assignee:
        check_person(data["assignee"], "assignee")
    if "status" in data and data["status"] != ticket.status:
        data.update(_status_values(actor, data["status"]))
        if not message and data["status"] == Ticket.Status.CLOSED:
            message = f"Closed ticket {ticket}"
        elif not message and ticket.status == Ticket.Status.CLOSED:
            message = f"Reopened ticket {ticket}"
    return object_update(
        actor=actor,
        instance=ticket,
        data=data,
        expected_version=expected_version,
        customer=ticket.customer,
        message=message or f"Changed ticket {ticket}",
    )


def ticket_close(*, actor: Actor, ticket: Ticket, expected_version: int | None = None) -> Ticket:
    """Close a ticket: it leaves the overview and appears in the closed-ticket report."""
    if ticket.is_closed:
        raise ValidationError({"status": f"Ticket {ticket} is already closed."})
    return ticket_update(
        actor=actor,
        ticket=ticket,
        data={"status": Ticket.Status.CLOSED},
        expected_version=expected_version,
    )


def ticket_reopen(*, actor: Actor, ticket: Ticket, expected_version: int | None = None) -> Ticket:
    """Open a closed ticket again."""
    if not ticket.is_closed:
        raise ValidationError({"status": f"Ticket {ticket} is not closed."})
    return ticket_update(
        actor=actor,
        ticket=ticket,
        data={"status": Ticket.Status.OPEN},
        expected_version=expected_version,
    )


def ticket_take(*, actor: Actor, ticket: Ticket, expected_version: int | None = None) -> Ticket:
    """Assign an open ticket to the actor ("Take" on a department queue)."""
    user = actor.user
    if user is None or not user.pk:
        raise ValidationError({"assignee": "Only a person can take a ticket."})
    if ticket.is_closed:
        raise ValidationError({"assignee": f"Ticket {ticket} is closed."})
    if ticket.assignee_id == user.pk:
        return ticket
    return ticket_update(
        actor=actor,
        ticket=ticket,
        data={"assignee": user},
        expected_version=expected_version,
        message=f"Took ticket {ticket}",
    )


def ticket_comment(*, actor: Actor, ticket: Ticket, body: str) -> TicketComment:
    """Add a comment to a ticket."""
    require_perm(actor, TicketComment, "add")
    comment = TicketComment(
        ticket=ticket,
        author=actor.user if actor.user is not None and actor.user.pk else None,
        author_label=actor.label[:200],
        body=body,
    )
    comment.full_clean()
    with transaction.atomic():
        comment.save()
        object_touch(ticket)
        audit.record(
            actor=actor,
            action="commented",
            obj=ticket,
            customer=ticket.customer,
            changes={"comment": [None, comment.body]},
            message=f"Commented on ticket {ticket}",
        )
    return comment
