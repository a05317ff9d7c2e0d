"""Notes, tasks and tickets in the browser: overview cards, ticket page, queues, report."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from patron.notes import services as note_services
from patron.notes.models import Note
from patron.tasks.models import Task
from patron.tickets import services as ticket_services
from patron.tickets.models import Ticket, TicketComment
from tests.factories import NoteFactory, TaskFactory, TicketFactory
from tests.work_fixtures import *  # noqa: F403 (the shared fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("work_roles")]

SECRET = "Bailiff letter received on the 3rd"


@pytest.fixture
def login(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


def card_urls(customer):
    return [
        reverse("notes:customer_card", args=[customer.pk]),
        reverse("tasks:customer_card", args=[customer.pk]),
        reverse("tickets:customer_card", args=[customer.pk]),
        reverse("tickets:customer_work", args=[customer.pk]),
    ]


def test_private_note_text_appears_nowhere_for_a_non_member(
    login, bella, bella_actor, customer, billing, staff, admin_user
):
    """Overview cards, the note's own URLs, queues and event logs never show it to outsiders."""
    note = note_services.note_create(
        actor=bella_actor,
        customer=customer,
        data={"department": billing, "body": SECRET, "private_to_department": True},
    )
    client = login(staff)
    for url in [
        *card_urls(customer),
        reverse("customers:detail", args=[customer.pk]),
        reverse("customers:events", args=[customer.pk]),
        reverse("events:list"),
        reverse("tickets:my_work"),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert SECRET not in response.content.decode(), url
    assert client.get(reverse("notes:edit", args=[note.pk])).status_code == 404
    assert client.post(reverse("notes:edit", args=[note.pk]), {"body": "x"}).status_code == 404
    assert client.post(reverse("notes:pin", args=[note.pk]), {"pinned": "1"}).status_code == 404
    assert client.get(reverse("tickets:queue", args=[billing.pk])).status_code == 404
    admin_queue = login(admin_user).get(reverse("tickets:queue", args=[billing.pk]))
    assert admin_queue.status_code == 200
    assert SECRET not in admin_queue.content.decode()
    events = login(staff).get(reverse("customers:events", args=[customer.pk]))
    assert "Added a private note for Billing" in events.content.decode()
    note.refresh_from_db()
    assert (note.body, note.pinned) == (SECRET, False)
    member = login(bella).get(reverse("notes:customer_card", args=[customer.pk]))
    assert SECRET in member.content.decode()


def test_note_added_from_the_card_keeps_its_line_breaks(login, bella, customer, billing):
    client = login(bella)
    response = client.post(
        reverse("notes:customer_add", args=[customer.pk]),
        {"note-body": "Line one\nLine <two>", "note-department": billing.pk, "note-pinned": "on"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "customer-changed"
    html = response.content.decode()
    assert "Line one<br>Line &lt;two&gt;" in html
    assert '<span class="badge text-bg-warning">Pinned</span>' in html
    note = Note.objects.get()
    assert (note.body, note.pinned, note.department, note.author) == (
        "Line one\nLine <two>",
        True,
        billing,
        bella,
    )


def test_private_note_from_a_non_member_is_refused_on_the_card(login, staff, customer, billing):
    response = login(staff).post(
        reverse("notes:customer_add", args=[customer.pk]),
        {"note-body": "x", "note-department": billing.pk, "note-private_to_department": "on"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert "HX-Trigger" not in response
    assert "Only members of Billing can write a note private to it." in response.content.decode()
    assert response.context["note_form_open"] is True
    assert Note.objects.count() == 0


def test_ticket_opened_from_the_overview_card(login, staff, customer, billing):
    """The card re-renders with the new ticket and tells the event log to refresh."""
    response = login(staff).post(
        reverse("tickets:customer_add", args=[customer.pk]),
        {
            "ticket-subject": "Bill too high",
            "ticket-department": billing.pk,
            "ticket-priority": "high",
            "ticket-description": "Charged twice",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "customer-changed"
    ticket = Ticket.objects.get()
    assert (ticket.subject, ticket.department, ticket.priority, ticket.status) == (
        "Bill too high",
        billing,
        "high",
        "open",
    )
    assert [t.pk for t in response.context["tickets"]] == [ticket.pk]


def test_ticket_for_a_department_the_user_cannot_see_is_refused_on_the_card(
    login, no_departments_user, customer, billing
):
    response = login(no_departments_user).post(
        reverse("tickets:customer_add", args=[customer.pk]),
        {"ticket-subject": "x", "ticket-department": billing.pk, "ticket-priority": "normal"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    assert response.context["ticket_form"].errors == {
        "department": ["Choose one of the departments you can see."]
    }
    assert Ticket.objects.count() == 0


def test_without_htmx_the_card_action_redirects_to_the_customer(login, staff, customer, billing):
    response = login(staff).post(
        reverse("tasks:customer_add", args=[customer.pk]),
        {"task-title": "Post the router", "task-department": billing.pk},
    )
    assert response.status_code == 302
    assert response["Location"] == customer.get_absolute_url()
    assert Task.objects.get().title == "Post the router"


def test_task_done_from_the_card_leaves_the_open_list(login, staff, customer, billing):
    task = TaskFactory(customer=customer, department=billing)
    response = login(staff).post(
        reverse("tasks:done", args=[task.pk]), {"done": "1"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response.context["tasks"] == []
    task.refresh_from_db()
    assert (task.done, task.done_by_label) == (True, "sam")


def test_readonly_sees_the_cards_without_forms_and_cannot_post(login, readonly, customer, billing):
    TicketFactory(customer=customer, department=billing, subject="Visible")
    client = login(readonly)
    page = client.get(reverse("tickets:customer_work", args=[customer.pk]))
    assert page.status_code == 200
    assert page.context["ticket_form"] is None
    assert page.context["note_form"] is None
    assert page.context["task_form"] is None
    assert "Visible" in page.content.decode()
    response = client.post(
        reverse("tickets:customer_add", args=[customer.pk]),
        {"ticket-subject": "x", "ticket-department": billing.pk, "ticket-priority": "normal"},
    )
    assert response.status_code == 403
    assert Ticket.objects.count() == 1


def test_closed_tickets_are_hidden_on_the_card_unless_asked_for(login, staff, customer, billing):
    open_ticket = TicketFactory(customer=customer, department=billing, subject="Still open")
    closed = TicketFactory(
        customer=customer, department=billing, subject="Long gone", status="closed"
    )
    client = login(staff)
    url = reverse("tickets:customer_card", args=[customer.pk])
    response = client.get(url)
    assert [t.pk for t in response.context["tickets"]] == [open_ticket.pk]
    html = response.content.decode()
    assert "Long gone" not in html
    assert "Show closed tickets (1)" in html
    shown = client.get(url, {"closed_tickets": "1"})
    assert [t.pk for t in shown.context["tickets"]] == [open_ticket.pk, closed.pk]
    assert "Hide closed tickets" in shown.content.decode()


def test_closing_moves_the_ticket_from_the_card_to_the_closed_report(
    login, bella, bella_actor, customer, billing
):
    ticket = ticket_services.ticket_create(
        actor=bella_actor, customer=customer, data={"department": billing, "subject": "Refund"}
    )
    client = login(bella)
    response = client.post(reverse("tickets:close", args=[ticket.pk]))
    assert response.status_code == 302
    assert response["Location"] == ticket.get_absolute_url()
    card = client.get(reverse("tickets:customer_card", args=[customer.pk]))
    assert card.context["tickets"] == []
    report = client.get(reverse("tickets:closed_report"))
    assert [obj.pk for obj, _ in report.context["rows"]] == [ticket.pk]
    assert "bella" in report.content.decode()


def test_closed_report_filters_by_department_and_dates(login, staff, customer, billing, support):
    def closed(department, day):
        when = timezone.make_aware(datetime.datetime(2030, 3, day, 12, 0))
        return TicketFactory(
            customer=customer, department=department, status="closed", closed_at=when
        )

    early = closed(billing, 1)
    late = closed(billing, 20)
    other = closed(support, 10)
    TicketFactory(customer=customer, department=billing)
    client = login(staff)

    def pks(**params):
        response = client.get(reverse("tickets:closed_report"), params)
        assert response.status_code == 200
        return [obj.pk for obj, _ in response.context["rows"]]

    assert pks() == [late.pk, other.pk, early.pk]
    assert pks(department=billing.pk) == [late.pk, early.pk]
    assert pks(closed_from="2030-03-05") == [late.pk, other.pk]
    assert pks(closed_from="2030-03-05", closed_to="2030-03-15") == [other.pk]


def test_closed_report_is_paged(login, staff, customer, billing):
    TicketFactory.create_batch(
        51, customer=customer, department=billing, status="closed", closed_at=timezone.now()
    )
    client = login(staff)
    first = client.get(reverse("tickets:closed_report"))
    assert len(first.context["rows"]) == 50
    assert first.context["page_obj"].paginator.num_pages == 2
    second = client.get(reverse("tickets:closed_report"), {"page": 2})
    assert len(second.context["rows"]) == 1


def test_queue_shows_open_work_for_the_department_to_its_members(
    login, bella, customer, billing, support
):
    ticket = TicketFactory(customer=customer, department=billing, subject="Refund please")
    TicketFactory(customer=customer, department=billing, subject="Done already", status="closed")
    TicketFactory(customer=customer, department=support, subject="Wrong team")
    task = TaskFactory(customer=customer, department=billing, title="Post credit note")
    TaskFactory(customer=customer, department=billing, title="Finished", done=True)
    note = NoteFactory(customer=customer, department=billing, body="FYI for billing")
    response = login(bella).get(reverse("tickets:queue", args=[billing.pk]))
    assert response.status_code == 200
    assert response.context["title"] == "Open work for Billing"
    assert response.context["tickets"] == [ticket]
    assert response.context["tasks"] == [task]
    assert response.context["notes"] == [note]
    html = response.content.decode()
    assert "Open work for Billing" in html
    assert "Done already" not in html and "Wrong team" not in html and "Finished" not in html


@pytest.mark.parametrize(
    ("who", "expected"),
    [("bella", 200), ("owner", 200), ("admin_user", 200), ("staff", 404), ("readonly", 404)],
)
def test_queue_is_for_members_owners_and_administrators(
    request, login, billing, bella, who, expected
):
    user = request.getfixturevalue(who)
    assert login(user).get(reverse("tickets:queue", args=[billing.pk])).status_code == expected


def test_queue_of_a_missing_department_is_404(login, owner):
    assert login(owner).get(reverse("tickets:queue", args=[99999])).status_code == 404


def test_queue_index_lists_my_departments_with_open_counts(
    login, bella, customer, billing, support
):
    TicketFactory.create_batch(2, customer=customer, department=billing)
    TaskFactory(customer=customer, department=billing)
    TicketFactory(customer=customer, department=support)
    response = login(bella).get(reverse("tickets:queue_index"))
    assert response.context["rows"] == [(billing, 2, 1, True)]


def test_my_work_is_assigned_to_me_or_to_my_departments(login, bella, customer, billing, support):
    assigned = TicketFactory(customer=customer, department=support, assignee=bella)
    for_billing = TicketFactory(customer=customer, department=billing)
    TicketFactory(customer=customer, department=support)
    TicketFactory(customer=customer, department=billing, status="closed")
    task = TaskFactory(customer=customer, department=support, assignee=bella)
    TaskFactory(customer=customer, department=support)
    note = NoteFactory(customer=customer, department=support, addressed_to=bella)
    response = login(bella).get(reverse("tickets:my_work"))
    assert response.status_code == 200
    assert {t.pk for t in response.context["tickets"]} == {assigned.pk, for_billing.pk}
    assert response.context["tasks"] == [task]
    assert response.context["notes"] == [note]


def test_ticket_page_shows_the_ticket_and_takes_comments(login, staff, bella, customer, billing):
    ticket = TicketFactory(
        customer=customer,
        department=billing,
        assignee=bella,
        subject="No dial tone",
        description="Since Monday\nafter the storm",
        priority="urgent",
    )
    client = login(staff)
    page = client.get(ticket.get_absolute_url())
    assert page.status_code == 200
    html = page.content.decode()
    for text in [
        "No dial tone",
        customer.get_absolute_url(),
        "Billing",
        "bella",
        "Urgent",
        "Open",
        "Since Monday<br>after the storm",
        "Close ticket",
    ]:
        assert text in html
    empty = client.post(reverse("tickets:comment", args=[ticket.pk]), {"body": ""})
    assert empty.status_code == 400
    assert empty.context["comment_form"].errors == {"body": ["This field is required."]}
    response = client.post(
        reverse("tickets:comment", args=[ticket.pk]), {"body": "Engineer booked"}
    )
    comment = TicketComment.objects.get()
    assert response.status_code == 302
    assert response["Location"] == comment.get_absolute_url()
    assert "Engineer booked" in client.get(ticket.get_absolute_url()).content.decode()


def test_ticket_close_and_reopen_buttons(login, staff, customer, billing):
    ticket = TicketFactory(customer=customer, department=billing)
    client = login(staff)
    client.post(reverse("tickets:close", args=[ticket.pk]))
    ticket.refresh_from_db()
    assert ticket.status == "closed"
    assert "Reopen" in client.get(ticket.get_absolute_url()).content.decode()
    queue_url = reverse("tickets:my_work")
    response = client.post(reverse("tickets:reopen", args=[ticket.pk]), {"next": queue_url})
    assert response["Location"] == queue_url
    ticket.refresh_from_db()
    assert ticket.status == "open"
    response = client.post(
        reverse("tickets:close", args=[ticket.pk]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == ticket.get_absolute_url()


def test_ticket_edit_form_saves_through_the_service(login, staff, customer, billing, support):
    ticket = TicketFactory(customer=customer, department=billing, subject="Old")
    client = login(staff)
    assert client.get(reverse("tickets:edit", args=[ticket.pk])).status_code == 200
    response = client.post(
        reverse("tickets:edit", args=[ticket.pk]),
        {
            "subject": "New subject",
            "department": support.pk,
            "priority": "low",
            "status": "pending",
            "description": "",
            "version": ticket.version,
        },
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert (ticket.subject, ticket.department, ticket.priority, ticket.status) == (
        "New subject",
        support,
        "low",
        "pending",
    )


def test_readonly_cannot_close_a_ticket(login, readonly, customer, billing):
    ticket = TicketFactory(customer=customer, department=billing)
    assert login(readonly).post(reverse("tickets:close", args=[ticket.pk])).status_code == 403
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_note_edit_page_for_a_member(login, bella, bella_actor, customer, billing):
    note = note_services.note_create(
        actor=bella_actor,
        customer=customer,
        data={"department": billing, "body": SECRET, "private_to_department": True},
    )
    client = login(bella)
    assert client.get(reverse("notes:edit", args=[note.pk])).status_code == 200
    response = client.post(
        reverse("notes:edit", args=[note.pk]),
        {
            "body": "Paid in full",
            "department": billing.pk,
            "private_to_department": "on",
            "version": note.version,
        },
    )
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.body == "Paid in full"


def test_overview_cards_use_a_fixed_number_of_queries(login, staff, bella, customer, billing):
    """Notes, tasks and tickets on the overview cost the same queries for 2 or 12 of each."""
    client = login(staff)
    url = reverse("tickets:customer_work", args=[customer.pk])

    def add(count):
        NoteFactory.create_batch(count, customer=customer, department=billing, addressed_to=bella)
        TaskFactory.create_batch(count, customer=customer, department=billing, assignee=bella)
        TicketFactory.create_batch(count, customer=customer, department=billing, assignee=bella)

    add(2)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    add(10)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert len(response.context["notes"]) == 12
    assert len(response.context["tickets"]) == 12
    assert len(many.captured_queries) == len(few.captured_queries)
