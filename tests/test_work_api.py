"""The notes, tasks and tickets API under every role, and its routing rules."""

from types import SimpleNamespace

import pytest

from patron.core.actor import Actor
from patron.events.models import Event
from patron.notes import services as note_services
from patron.notes.models import Note
from patron.tasks.models import Task
from patron.tickets import services as ticket_services
from patron.tickets.models import Ticket, TicketComment
from tests.conftest import token_client
from tests.factories import CustomerFactory, GroupFactory, NoteFactory, TaskFactory, TicketFactory
from tests.work_fixtures import *  # noqa: F403 (the shared fixtures)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("work_roles")]

SECRET = "Do not tell anyone: director's personal mobile 07700 900123"


@pytest.fixture
def work(customer, billing):
    return SimpleNamespace(
        customer=customer,
        billing=billing,
        note=NoteFactory(customer=customer, department=billing, body="Hello"),
        task=TaskFactory(customer=customer, department=billing),
        ticket=TicketFactory(customer=customer, department=billing),
        closed=TicketFactory(customer=customer, department=billing, status="closed"),
    )


ENDPOINTS = {
    "notes-list": ("get", lambda w: "/api/notes/", None, 200),
    "notes-detail": ("get", lambda w: f"/api/notes/{w.note.pk}/", None, 200),
    "notes-create": (
        "post",
        lambda w: "/api/notes/",
        lambda w: {"customer": w.customer.pk, "department": w.billing.pk, "body": "New"},
        201,
    ),
    "notes-update": (
        "patch",
        lambda w: f"/api/notes/{w.note.pk}/",
        lambda w: {"pinned": True},
        200,
    ),
    "tasks-list": ("get", lambda w: "/api/tasks/", None, 200),
    "tasks-detail": ("get", lambda w: f"/api/tasks/{w.task.pk}/", None, 200),
    "tasks-create": (
        "post",
        lambda w: "/api/tasks/",
        lambda w: {"customer": w.customer.pk, "department": w.billing.pk, "title": "Call"},
        201,
    ),
    "tasks-update": ("patch", lambda w: f"/api/tasks/{w.task.pk}/", lambda w: {"done": True}, 200),
    "tickets-list": ("get", lambda w: "/api/tickets/", None, 200),
    "tickets-detail": ("get", lambda w: f"/api/tickets/{w.ticket.pk}/", None, 200),
    "tickets-create": (
        "post",
        lambda w: "/api/tickets/",
        lambda w: {
            "customer": w.customer.pk,
            "department": w.billing.pk,
            "subject": "No dial tone",
        },
        201,
    ),
    "tickets-update": (
        "patch",
        lambda w: f"/api/tickets/{w.ticket.pk}/",
        lambda w: {"priority": "urgent"},
        200,
    ),
    "tickets-comment": (
        "post",
        lambda w: f"/api/tickets/{w.ticket.pk}/comments/",
        lambda w: {"body": "Engineer booked"},
        201,
    ),
    "tickets-close": ("post", lambda w: f"/api/tickets/{w.ticket.pk}/close/", None, 200),
    "tickets-reopen": ("post", lambda w: f"/api/tickets/{w.closed.pk}/reopen/", None, 200),
}


def state(w):
    """Everything a write could change."""
    rows = [Note.objects.count(), Task.objects.count(), Ticket.objects.count()]
    rows += [TicketComment.objects.count(), Event.objects.count()]
    for obj in (w.note, w.task, w.ticket, w.closed):
        obj.refresh_from_db()
        rows.append(obj.version)
    return rows


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("role", ["owner", "admin", "staff", "readonly", "anon"])
def test_every_endpoint_under_every_role(api, work, role, endpoint):
    """Owners, Administrators and Staff read and write; Read-only reads (403 on writes,
    nothing changed); anonymous callers get 401."""
    method, url, payload, ok = ENDPOINTS[endpoint]
    before = state(work)
    response = getattr(api[role], method)(
        url(work), payload(work) if payload else None, format="json"
    )
    if role == "anon":
        assert response.status_code == 401
    elif role == "readonly" and method != "get":
        assert response.status_code == 403
    else:
        assert response.status_code == ok, response.content
    if response.status_code >= 400 or method == "get":
        assert state(work) == before


def test_private_note_is_a_404_to_non_members_in_list_detail_and_update(
    api, bella, bella_actor, customer, billing
):
    """Staff outside Billing: not in the list, 404 on detail and update; its text nowhere."""
    note = note_services.note_create(
        actor=bella_actor,
        customer=customer,
        data={"department": billing, "body": SECRET, "private_to_department": True},
    )
    staff = api["staff"]
    listing = staff.get("/api/notes/", {"customer": customer.pk})
    assert listing.status_code == 200
    assert listing.json()["results"] == []
    assert staff.get(f"/api/notes/{note.pk}/").status_code == 404
    assert staff.patch(f"/api/notes/{note.pk}/", {"body": "x"}, format="json").status_code == 404
    assert api["admin"].get(f"/api/notes/{note.pk}/").status_code == 404
    events = staff.get("/api/events/", {"customer": customer.pk})
    assert events.status_code == 200
    assert len(events.json()["results"]) == 1
    for response in (listing, events):
        assert "07700" not in response.content.decode()
    member = token_client(bella).get(f"/api/notes/{note.pk}/")
    assert member.status_code == 200
    assert member.json()["body"] == SECRET
    assert api["owner"].get(f"/api/notes/{note.pk}/").json()["body"] == SECRET
    note.refresh_from_db()
    assert note.body == SECRET


def test_private_note_from_a_non_member_is_a_field_error(api, customer, billing):
    response = api["staff"].post(
        "/api/notes/",
        {
            "customer": customer.pk,
            "department": billing.pk,
            "body": "x",
            "private_to_department": True,
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "private_to_department": ["Only members of Billing can write a note private to it."]
    }
    assert Note.objects.count() == 0


@pytest.mark.parametrize("path", ["notes", "tasks", "tickets"])
def test_department_the_user_cannot_see_is_refused_like_a_missing_one(
    no_departments_user, customer, billing, path
):
    """Same answer for a hidden and a missing department, keyed by field; nothing written."""
    client = token_client(no_departments_user)
    payload = {"customer": customer.pk, "body": "x", "title": "x", "subject": "x"}
    for department in (billing.pk, 99999):
        response = client.post(
            f"/api/{path}/", {**payload, "department": department}, format="json"
        )
        assert response.status_code == 400
        assert response.json() == {"department": ["Choose one of the departments you can see."]}
    assert (Note.objects.count(), Task.objects.count(), Ticket.objects.count()) == (0, 0, 0)


def test_customer_outside_the_users_groups_is_refused_and_hidden(api, staff, customer, billing):
    ticket = TicketFactory(customer=customer, department=billing)
    staff.restricted_groups.add(GroupFactory())
    client = api["staff"]
    assert client.get(f"/api/tickets/{ticket.pk}/").status_code == 404
    assert client.get("/api/tickets/").json()["results"] == []
    response = client.post(
        "/api/tickets/",
        {"customer": customer.pk, "department": billing.pk, "subject": "x"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"customer": ["Choose one of the customers you can see."]}
    assert Ticket.objects.count() == 1


def test_ticket_lifecycle_through_the_api(api, customer, billing, owner):
    client = api["owner"]
    created = client.post(
        "/api/tickets/",
        {
            "customer": customer.pk,
            "department": billing.pk,
            "assignee": owner.pk,
            "subject": "Router keeps rebooting",
            "priority": "high",
        },
        format="json",
    )
    assert created.status_code == 201
    body = created.json()
    assert (body["status"], body["priority"], body["department_name"]) == (
        "open",
        "high",
        "Billing",
    )
    assert body["opened_by_label"] == "olivia (token tests)"
    url = f"/api/tickets/{body['id']}/"
    comment = client.post(url + "comments/", {"body": "Replaced the PSU"}, format="json")
    assert comment.status_code == 201
    assert comment.json()["author_label"] == "olivia (token tests)"
    closed = client.post(url + "close/")
    assert closed.status_code == 200
    assert closed.json()["status"] == "closed"
    assert closed.json()["closed_by_label"] == "olivia (token tests)"
    assert [c["body"] for c in closed.json()["comments"]] == ["Replaced the PSU"]
    again = client.post(url + "close/")
    assert again.status_code == 400
    assert again.json() == {
        "status": [f"Ticket #{body['id']} Router keeps rebooting is already closed."]
    }
    reopened = client.post(url + "reopen/")
    assert (reopened.json()["status"], reopened.json()["closed_at"]) == ("open", None)
    assert list(
        Event.objects.filter(customer=customer).order_by("id").values_list("action", flat=True)
    ) == ["created", "commented", "updated", "updated"]


def test_stale_if_match_on_close_is_412_and_nothing_changes(api, customer, billing):
    ticket = TicketFactory(customer=customer, department=billing)
    client = api["staff"]
    etag = client.get(f"/api/tickets/{ticket.pk}/")["ETag"]
    ticket_services.ticket_update(
        actor=Actor.system_actor("tests"), ticket=ticket, data={"priority": "low"}
    )
    response = client.post(f"/api/tickets/{ticket.pk}/close/", HTTP_IF_MATCH=etag)
    assert response.status_code == 412
    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_nothing_is_deleted_through_the_api(api, work):
    for path, obj in (("notes", work.note), ("tasks", work.task), ("tickets", work.ticket)):
        assert api["owner"].delete(f"/api/{path}/{obj.pk}/").status_code == 405
    assert (Note.objects.count(), Task.objects.count(), Ticket.objects.count()) == (1, 1, 2)


def test_filters_customer_department_status_and_assignee(api, bella, customer, billing, support):
    other = CustomerFactory()
    open_billing = TicketFactory(customer=customer, department=billing, assignee=bella)
    closed_billing = TicketFactory(customer=customer, department=billing, status="closed")
    support_ticket = TicketFactory(customer=other, department=support)
    task_done = TaskFactory(customer=customer, department=billing, done=True)
    task_open = TaskFactory(customer=other, department=support, assignee=bella)
    note = NoteFactory(customer=other, department=support, addressed_to=bella)
    NoteFactory(customer=customer, department=billing)
    client = api["staff"]

    def ids(path, **params):
        response = client.get(f"/api/{path}/", params)
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids("tickets", status="closed") == {closed_billing.pk}
    assert ids("tickets", department=support.pk) == {support_ticket.pk}
    assert ids("tickets", assignee=bella.pk) == {open_billing.pk}
    assert ids("tickets", customer=customer.pk) == {open_billing.pk, closed_billing.pk}
    assert ids("tasks", status="done") == {task_done.pk}
    assert ids("tasks", status="open", assignee=bella.pk) == {task_open.pk}
    assert ids("notes", department=support.pk) == {note.pk}
    assert ids("notes", assignee=bella.pk) == {note.pk}


def test_task_done_through_patch_records_who(api, customer, billing):
    task = TaskFactory(customer=customer, department=billing)
    response = api["staff"].patch(f"/api/tasks/{task.pk}/", {"done": True}, format="json")
    assert response.status_code == 200
    assert response.json()["done_by_label"] == "sam (token tests)"
    assert Event.objects.get(customer=customer).message == f"Marked task {task.title} done"


def test_customer_of_existing_work_cannot_be_changed(api, customer, billing):
    ticket = TicketFactory(customer=customer, department=billing)
    other = CustomerFactory()
    response = api["staff"].patch(
        f"/api/tickets/{ticket.pk}/", {"customer": other.pk, "subject": "Moved?"}, format="json"
    )
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert (ticket.customer, ticket.subject) == (customer, "Moved?")
