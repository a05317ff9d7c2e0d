"""Department queues show each ticket's age and a "Take" button: one click assigns the
ticket to me (through `ticket_take`, in the event log) and the row says "Yours"."""

import datetime as dt

import pytest
from django.utils import timezone

from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.events.models import Event
from patron.tickets.models import Ticket
from patron.tickets.services import ticket_take
from patron.tickets.views.pages import age_label
from tests.factories import DepartmentFactory, TicketFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def queue(staff):
    department = DepartmentFactory(name="Support")
    department.members.add(staff)
    return department


def test_the_queue_shows_each_tickets_age_and_a_take_button(client, staff, queue):
    ticket = TicketFactory(department=queue)
    Ticket.objects.filter(pk=ticket.pk).update(
        created=timezone.now() - dt.timedelta(days=3, hours=2)
    )
    client.force_login(staff)
    html = client.get(f"/tickets/queue/{queue.pk}/").content.decode()
    assert '<th scope="col">Age</th>' in html
    assert "3\xa0days" in html
    assert f'action="/tickets/{ticket.pk}/take/"' in html
    assert f'aria-label="Take ticket #{ticket.pk}"' in html


def test_age_is_said_in_its_largest_unit():
    now = timezone.now()
    assert age_label(now - dt.timedelta(hours=5, minutes=3), now) == "5\xa0hours"
    assert age_label(now - dt.timedelta(days=9, hours=5), now) == "1\xa0week"


def test_take_from_htmx_assigns_and_returns_the_row_saying_yours(client, staff, queue):
    """One click: the ticket is mine, the row comes back with "Yours" and no Take button."""
    ticket = TicketFactory(department=queue)
    client.force_login(staff)
    response = client.post(
        f"/tickets/{ticket.pk}/take/",
        {"next": f"/tickets/queue/{queue.pk}/"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    row = response.content.decode()
    assert f'data-ticket-id="{ticket.pk}"' in row
    assert "Yours" in row
    assert "/take/" not in row
    ticket.refresh_from_db()
    assert ticket.assignee == staff
    event = Event.objects.filter(action="updated").latest("id")
    assert event.message == f"Took ticket {ticket}"
    # The queue now says "Yours" on its row too.
    html = client.get(f"/tickets/queue/{queue.pk}/").content.decode()
    assert "Yours" in html


def test_take_without_htmx_goes_back_to_the_queue(client, staff, queue):
    ticket = TicketFactory(department=queue)
    client.force_login(staff)
    response = client.post(f"/tickets/{ticket.pk}/take/", {"next": f"/tickets/queue/{queue.pk}/"})
    assert response.status_code == 302
    assert response["Location"] == f"/tickets/queue/{queue.pk}/"
    ticket.refresh_from_db()
    assert ticket.assignee == staff


def test_a_read_only_user_cannot_take_and_nothing_changes(client, readonly, queue):
    ticket = TicketFactory(department=queue)
    client.force_login(readonly)
    response = client.post(f"/tickets/{ticket.pk}/take/")
    assert response.status_code == 403
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_take_a_ticket_someone_else_has(staff, admin_user, queue):
    """Taking reassigns it to me; taking my own ticket again changes nothing."""
    ticket = TicketFactory(department=queue, assignee=admin_user)
    ticket = ticket_take(actor=Actor(user=staff), ticket=ticket)
    assert ticket.assignee == staff
    version = ticket.version
    ticket = ticket_take(actor=Actor(user=staff), ticket=ticket)
    assert ticket.version == version


def test_a_closed_ticket_cannot_be_taken(staff, queue):
    ticket = TicketFactory(department=queue, status=Ticket.Status.CLOSED)
    with pytest.raises(ValidationError, match="closed"):
        ticket_take(actor=Actor(user=staff), ticket=ticket)
    ticket.refresh_from_db()
    assert ticket.assignee is None


def test_the_system_cannot_take_a_ticket(queue):
    ticket = TicketFactory(department=queue)
    with pytest.raises(ValidationError, match="Only a person"):
        ticket_take(actor=Actor.system_actor("tests"), ticket=ticket)
