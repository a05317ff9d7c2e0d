"""Tickets: open, comment, close and reopen, routed to departments, all in the event log."""

import pytest

from patron.core.actor import Actor
from patron.core.errors import ConflictError, PermissionDenied, ValidationError
from patron.events.models import Event
from patron.tickets import services
from patron.tickets.models import Ticket, TicketComment
from tests.factories import GroupFactory, TicketFactory
from tests.work_fixtures import *  # noqa: F403 (the shared fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("work_roles")]


def open_ticket(actor, customer, department, **data):
    return services.ticket_create(
        actor=actor,
        customer=customer,
        data={"department": department, "subject": "Invoice is wrong", **data},
    )


def test_new_ticket_is_open_and_logged_on_the_customer(bella_actor, customer, billing):
    ticket = open_ticket(bella_actor, customer, billing, priority="high")
    assert (ticket.status, ticket.priority, ticket.opened_by_label) == ("open", "high", "bella")
    assert (ticket.closed_at, ticket.closed_by_label) == (None, "")
    event = Event.objects.get(customer=customer)
    assert event.message == f"Opened ticket #{ticket.pk} Invoice is wrong for Billing"
    assert event.changes == {
        "customer": [None, "Ann Example (A000001)"],
        "department": [None, "Billing"],
        "subject": [None, "Invoice is wrong"],
        "priority": [None, "High"],
        "status": [None, "Open"],
    }


def test_ticket_to_a_department_the_user_cannot_see_is_refused(
    no_departments_user, customer, billing
):
    with pytest.raises(ValidationError) as exc:
        open_ticket(Actor(user=no_departments_user), customer, billing)
    assert exc.value.message_dict == {"department": ["Choose one of the departments you can see."]}
    assert Ticket.objects.count() == 0
    assert Event.objects.count() == 0


def test_moving_a_ticket_to_a_department_the_user_cannot_see_is_refused(
    no_departments_user, customer, billing, support
):
    ticket = TicketFactory(customer=customer, department=support)
    with pytest.raises(ValidationError) as exc:
        services.ticket_update(
            actor=Actor(user=no_departments_user), ticket=ticket, data={"department": billing}
        )
    assert exc.value.message_dict == {"department": ["Choose one of the departments you can see."]}
    ticket.refresh_from_db()
    assert ticket.department == support


def test_ticket_needs_a_subject_and_a_department(bella_actor, customer):
    with pytest.raises(ValidationError) as exc:
        services.ticket_create(actor=bella_actor, customer=customer, data={"subject": ""})
    assert exc.value.message_dict == {
        "subject": ["Give the ticket a subject."],
        "department": ["Choose the department that works this ticket."],
    }


def test_unknown_priority_is_refused(bella_actor, customer, billing):
    with pytest.raises(ValidationError) as exc:
        open_ticket(bella_actor, customer, billing, priority="whenever")
    assert exc.value.message_dict == {"priority": ["Value 'whenever' is not a valid choice."]}


def test_close_and_reopen_record_who_and_when(bella_actor, customer, billing):
    ticket = open_ticket(bella_actor, customer, billing)
    ticket = services.ticket_close(actor=bella_actor, ticket=ticket)
    assert ticket.status == "closed"
    assert ticket.closed_by_label == "bella"
    assert ticket.closed_at is not None
    assert list(Ticket.objects.closed()) == [ticket]
    assert list(Ticket.objects.open()) == []
    ticket = services.ticket_reopen(actor=bella_actor, ticket=ticket)
    assert (ticket.status, ticket.closed_at, ticket.closed_by_label) == ("open", None, "")
    messages = list(
        Event.objects.filter(customer=customer).order_by("id").values_list("message", flat=True)
    )
    assert messages[1:] == [f"Closed ticket {ticket}", f"Reopened ticket {ticket}"]
    closed = Event.objects.get(message=f"Closed ticket {ticket}")
    assert closed.changes["status"] == ["Open", "Closed"]
    assert closed.changes["closed_by_label"] == ["", "bella"]


def test_closing_a_closed_ticket_is_refused(bella_actor, customer, billing):
    ticket = services.ticket_close(
        actor=bella_actor, ticket=open_ticket(bella_actor, customer, billing)
    )
    with pytest.raises(ValidationError) as exc:
        services.ticket_close(actor=bella_actor, ticket=ticket)
    assert exc.value.message_dict == {"status": [f"Ticket {ticket} is already closed."]}
    with pytest.raises(ValidationError):
        services.ticket_reopen(
            actor=bella_actor, ticket=services.ticket_reopen(actor=bella_actor, ticket=ticket)
        )


def test_closing_through_an_update_records_it_too(bella_actor, customer, billing):
    ticket = open_ticket(bella_actor, customer, billing)
    ticket = services.ticket_update(actor=bella_actor, ticket=ticket, data={"status": "closed"})
    assert ticket.closed_by_label == "bella"
    assert Event.objects.filter(message=f"Closed ticket {ticket}").count() == 1


def test_comment_is_added_and_logged_on_the_customer(bella_actor, customer, billing):
    ticket = open_ticket(bella_actor, customer, billing)
    comment = services.ticket_comment(actor=bella_actor, ticket=ticket, body="Refund sent.\nThanks")
    assert list(ticket.comments.values_list("body", "author_label")) == [
        ("Refund sent.\nThanks", "bella")
    ]
    assert comment.author.username == "bella"
    event = Event.objects.get(action="commented")
    assert (event.customer, event.message) == (customer, f"Commented on ticket {ticket}")
    assert event.changes == {"comment": [None, "Refund sent.\nThanks"]}
    ticket.refresh_from_db()
    assert ticket.version == 2


def test_empty_comment_is_refused(bella_actor, customer, billing):
    ticket = open_ticket(bella_actor, customer, billing)
    with pytest.raises(ValidationError) as exc:
        services.ticket_comment(actor=bella_actor, ticket=ticket, body="   ")
    assert exc.value.message_dict == {"body": ["Write the comment."]}
    assert TicketComment.objects.count() == 0


def test_readonly_cannot_open_close_or_comment(readonly, customer, billing):
    ticket = TicketFactory(customer=customer, department=billing)
    actor = Actor(user=readonly)
    with pytest.raises(PermissionDenied):
        open_ticket(actor, customer, billing)
    with pytest.raises(PermissionDenied):
        services.ticket_close(actor=actor, ticket=ticket)
    with pytest.raises(PermissionDenied):
        services.ticket_comment(actor=actor, ticket=ticket, body="hi")
    ticket.refresh_from_db()
    assert ticket.status == "open"
    assert (Ticket.objects.count(), TicketComment.objects.count(), Event.objects.count()) == (
        1,
        0,
        0,
    )


def test_stale_close_is_refused(bella_actor, customer, billing):
    ticket = open_ticket(bella_actor, customer, billing)
    services.ticket_update(actor=bella_actor, ticket=ticket, data={"priority": "urgent"})
    with pytest.raises(ConflictError):
        services.ticket_close(actor=bella_actor, ticket=ticket, expected_version=1)
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_urgent_tickets_come_first_in_a_queue(customer, billing):
    low = TicketFactory(customer=customer, department=billing, priority="low")
    urgent = TicketFactory(customer=customer, department=billing, priority="urgent")
    normal = TicketFactory(customer=customer, department=billing)
    assert list(Ticket.objects.by_urgency()) == [urgent, normal, low]


def test_tickets_and_comments_follow_the_customer_group_restriction(staff, customer, billing):
    ticket = TicketFactory(customer=customer, department=billing)
    TicketComment.objects.create(ticket=ticket, body="x")
    staff.restricted_groups.add(GroupFactory())
    assert list(Ticket.objects.restrict(staff)) == []
    assert list(TicketComment.objects.restrict(staff)) == []


def test_system_actor_may_open_tickets(system_actor, customer, billing):
    ticket = open_ticket(system_actor, customer, billing)
    assert ticket.opened_by_label == "tests"
    assert Event.objects.get().actor_kind == "system"
