"""Work lists: all tickets, the closed-ticket report, department queues and "my work"."""

from __future__ import annotations

from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timesince import timesince

from patron.core.tables import Column
from patron.core.views import ObjectListView, PatronView
from patron.customers.models import Customer
from patron.departments.routing import (
    can_see_queue,
    is_member,
    member_departments,
    visible_departments,
)
from patron.notes.models import Note
from patron.notes.overview import overview_context as notes_context
from patron.tasks.models import Task
from patron.tasks.overview import overview_context as tasks_context
from patron.tickets.cards import load_customer
from patron.tickets.filters import ClosedTicketFilterSet, TicketListFilterSet
from patron.tickets.models import Ticket
from patron.tickets.overview import overview_context as tickets_context

QUEUE_LIMIT = 100
RECENT_NOTES = 20


def _when(value) -> str:
    return date_format(timezone.localtime(value), "j M Y H:i") if value else ""


def _pill(text, colour):
    return format_html('<span class="badge text-bg-{}">{}</span>', colour, text)


def _customer_link(ticket):
    customer = ticket.customer
    return format_html(
        '<a href="{}">{}</a> <span class="text-secondary small">{}</span>',
        customer.get_absolute_url(),
        customer.name,
        customer.account_number,
    )


TICKET_COLUMNS = [
    Column("id", label="#", link=True),
    Column("subject", link=True),
    Column("customer", html=_customer_link, order_by="customer__name"),
    Column("department", order_by="department__name"),
    Column("assignee", order_by="assignee__username"),
    Column(
        "priority", html=lambda t: _pill(t.get_priority_display(), t.priority_colour), sortable=True
    ),
    Column("status", html=lambda t: _pill(t.get_status_display(), t.status_colour)),
    Column("created", label="Opened", accessor=lambda t: _when(t.created)),
]


class TicketListView(ObjectListView):
    """Every ticket the user may see, filtered by department, status, priority..."""

    model = Ticket
    filterset_class = TicketListFilterSet
    default_ordering = ("-created", "-id")
    select_related = ("customer", "department", "assignee")
    columns = TICKET_COLUMNS

    def get_base_queryset(self):
        qs = super().get_base_queryset()
        customer = self.request.GET.get("customer", "")
        # An id beyond the database's integers matches no customer (not a 500).
        if customer.isdigit() and len(customer) <= 18:
            return qs.filter(customer_id=int(customer))
        return qs.none() if customer.isdigit() else qs


class ClosedTicketReportView(ObjectListView):
    """Closed tickets by department and the day they were closed, newest first."""

    model = Ticket
    title = "Closed tickets"
    filterset_class = ClosedTicketFilterSet
    default_ordering = ("-closed_at", "-id")
    select_related = ("customer", "department", "assignee")
    paginate_by = 50
    columns = [
        *TICKET_COLUMNS[:6],
        Column(
            "closed_at",
            label="Closed",
            accessor=lambda t: _when(t.closed_at),
        ),
        Column("closed_by_label", label="Closed by"),
    ]

    def get_base_queryset(self):
        return super().get_base_queryset().closed()


def age_label(created, now=None) -> str:
    """How long a ticket has been open, in its largest unit: "3 hours", "2 days"."""
    return timesince(created, now or timezone.now(), depth=1)


def _queue_context(user, tickets, tasks, notes) -> dict:
    tickets = list(tickets.select_related("customer", "department", "assignee")[: QUEUE_LIMIT + 1])
    now = timezone.now()
    for ticket in tickets:
        ticket.age_label = age_label(ticket.created, now)
    tasks = list(tasks.select_related("customer", "department", "assignee")[: QUEUE_LIMIT + 1])
    return {
        "tickets": tickets[:QUEUE_LIMIT],
        "tickets_more": len(tickets) > QUEUE_LIMIT,
        "tasks": tasks[:QUEUE_LIMIT],
        "tasks_more": len(tasks) > QUEUE_LIMIT,
        "notes": list(
            notes.select_related("customer", "department", "addressed_to")[:RECENT_NOTES]
        ),
        "can_change_ticket": user.has_perm("tickets.change_ticket"),
        "can_change_task": user.has_perm("tasks.change_task"),
    }


class QueueIndexView(PatronView):
    """The departments whose queues the user can open, with their open work."""

    model = Ticket

    def get(self, request):
        user = request.user
        departments = visible_departments(user)
        if not (user.is_owner or user.has_perm("departments.change_department")):
            departments = departments.filter(pk__in=member_departments(user))
        ticket_counts = dict(
            Ticket.objects.restrict(user)
            .open()
            .values_list("department")
            .annotate(n=Count("id"))
            .values_list("department", "n")
        )
        task_counts = dict(
            Task.objects.restrict(user)
            .open()
            .values_list("department")
            .annotate(n=Count("id"))
            .values_list("department", "n")
        )
        mine = set(member_departments(user).values_list("pk", flat=True))
        rows = [
            (d, ticket_counts.get(d.pk, 0), task_counts.get(d.pk, 0), d.pk in mine)
            for d in departments.order_by("name")
        ]
        return TemplateResponse(
            request, "tickets/queue_index.html", {"title": "Department queues", "rows": rows}
        )


class QueueView(PatronView):
    """Open work for one department: its members, Owners and Administrators; others 404."""

    model = Ticket

    def get(self, request, pk):
        user = request.user
        department = get_object_or_404(visible_departments(user), pk=pk)
        if not can_see_queue(user, department):
            raise Http404("No such department queue.")
        tickets = Ticket.objects.restrict(user).open().filter(department=department).by_urgency()
        tasks = Task.objects.restrict(user).open().filter(department=department).by_due_date()
        notes = (
            Note.objects.restrict(user).filter(department=department).order_by("-created", "-id")
        )
        context = _queue_context(user, tickets, tasks, notes)
        context.update(
            {
                "title": f"Open work for {department}",
                "department": department,
                "is_member": is_member(user, department),
                "next_url": request.get_full_path(),
            }
        )
        return TemplateResponse(request, "tickets/queue.html", context)


class MyWorkView(PatronView):
    """Open tickets and tasks assigned to me or to my departments, and notes for me."""

    model = Ticket

    def get(self, request):
        user = request.user
        tickets = Ticket.objects.restrict(user).open().mine(user).by_urgency()
        tasks = Task.objects.restrict(user).open().mine(user).by_due_date()
        notes = Note.objects.restrict(user).filter(addressed_to=user).order_by("-created", "-id")
        context = _queue_context(user, tickets, tasks, notes)
        context.update(
            {
                "title": "My work",
                "my_departments": list(member_departments(user)),
                "next_url": request.get_full_path(),
            }
        )
        return TemplateResponse(request, "tickets/my_work.html", context)


class CustomerWorkView(PatronView):
    """A customer's notes, tasks and tickets on one page (the overview cards, side by side)."""

    model = Customer

    def get(self, request, pk):
        customer = load_customer(request, pk)
        context = {"title": f"Work for {customer.name}", "customer": customer}
        context.update(notes_context(request, customer))
        context.update(tasks_context(request, customer))
        context.update(tickets_context(request, customer))
        return TemplateResponse(request, "tickets/customer_work.html", context)
