"""One ticket: its page, edit form, comments, close and reopen; the overview card."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse

from patron.core.errors import ConflictError, ValidationError
from patron.core.redirects import safe_next
from patron.core.views import ObjectEditView, PatronView, apply_form_errors
from patron.customers.models import Customer
from patron.departments.routing import can_see_queue
from patron.events.models import Event
from patron.tickets import services
from patron.tickets.cards import WorkCardActionView, WorkCardView
from patron.tickets.forms import TicketCommentForm, TicketForm, TicketQuickForm
from patron.tickets.models import Ticket, TicketComment
from patron.tickets.overview import overview_context


class TicketCardMixin:
    card_template = "tickets/_customer_tickets.html"

    def card_context(self, customer):
        return overview_context(self.request, customer)


class TicketCardView(TicketCardMixin, WorkCardView):
    model = Customer


class TicketAddView(TicketCardMixin, WorkCardActionView):
    model = Ticket
    required_action = "add"
    form_key = "ticket_form"

    def act(self, actor, customer):
        form = self.valid_form(TicketQuickForm(self.request.POST, user=self.request.user))
        services.ticket_create(actor=actor, customer=customer, data=form.model_data)


def load_ticket(request, pk, action="view") -> Ticket:
    """The ticket with what the page shows, if the user may `action` it, else 404."""
    visible = Ticket.objects.restrict(request.user, action).select_related(
        "customer", "department", "assignee"
    )
    return get_object_or_404(visible, pk=pk)


class TicketDetailView(PatronView):
    """The ticket page: details, description, comments and history."""

    model = Ticket

    def render(self, ticket, comment_form=None, status=200):
        user = self.request.user
        history = (
            Event.objects.restrict(user)
            .filter(object_type=ContentType.objects.get_for_model(Ticket), object_id=str(ticket.pk))
            .select_related("customer")
            .order_by("-created", "-id")[:50]
        )
        can_comment = user.has_perm("tickets.add_ticketcomment")
        return TemplateResponse(
            self.request,
            "tickets/ticket_detail.html",
            {
                "title": f"Ticket {ticket}",
                "ticket": ticket,
                "comments": list(ticket.comments.all()),
                "comment_form": comment_form or (TicketCommentForm() if can_comment else None),
                "can_change": user.has_perm("tickets.change_ticket"),
                "queue_visible": ticket.department is not None
                and can_see_queue(user, ticket.department),
                "history": list(history),
            },
            status=status,
        )

    def get(self, request, pk):
        return self.render(load_ticket(request, pk))


class TicketCommentView(TicketDetailView):
    """POST a comment; a refused one comes back with its error under the field."""

    model = TicketComment
    required_action = "add"
    http_method_names = ["post"]

    def post(self, request, pk):
        ticket = load_ticket(request, pk)
        form = TicketCommentForm(request.POST)
        if form.is_valid():
            try:
                comment = services.ticket_comment(
                    actor=self.actor, ticket=ticket, body=form.cleaned_data["body"]
                )
            except ValidationError as exc:
                apply_form_errors(form, exc)
            else:
                messages.success(request, "Comment added.")
                return HttpResponseRedirect(comment.get_absolute_url())
        return self.render(ticket, comment_form=form, status=400)


class TicketStatusActionView(PatronView):
    """Close or reopen, then go back where the button was (the ticket, a queue...)."""

    model = Ticket
    required_action = "change"
    verb = ""

    def act(self, ticket: Ticket) -> Ticket:
        raise NotImplementedError

    def post(self, request, pk):
        ticket = load_ticket(request, pk, "change")
        try:
            ticket = self.act(ticket)
        except (ValidationError, ConflictError) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            messages.error(request, text)
        else:
            messages.success(request, f"{self.verb} ticket {ticket}.")
        return HttpResponseRedirect(safe_next(request, ticket.get_absolute_url()))


class TicketCloseView(TicketStatusActionView):
    verb = "Closed"

    def act(self, ticket):
        return services.ticket_close(actor=self.actor, ticket=ticket)


class TicketReopenView(TicketStatusActionView):
    verb = "Reopened"

    def act(self, ticket):
        return services.ticket_reopen(actor=self.actor, ticket=ticket)


class TicketTakeView(PatronView):
    """ "Take" on a queue: the ticket is assigned to me. From htmx the row comes back
    saying "Yours"; from a plain form, back to the queue with a message."""

    model = Ticket
    required_action = "change"
    http_method_names = ["post"]

    def post(self, request, pk):
        from patron.tickets.views.pages import age_label

        ticket = load_ticket(request, pk, "change")
        try:
            ticket = services.ticket_take(actor=self.actor, ticket=ticket)
        except (ValidationError, ConflictError) as exc:
            text = " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
            if request.htmx:
                return HttpResponse(text, status=409, content_type="text/plain")
            messages.error(request, text)
        else:
            if request.htmx:
                ticket.age_label = age_label(ticket.created)
                return TemplateResponse(
                    request,
                    "tickets/_queue_ticket_row.html",
                    {
                        "ticket": ticket,
                        "can_change_ticket": True,
                        "show_department": request.POST.get("show_department") == "1",
                        "next_url": safe_next(request, ""),
                    },
                )
            messages.success(request, f"Ticket {ticket} is yours.")
        return HttpResponseRedirect(safe_next(request, ticket.get_absolute_url()))


class TicketEditView(ObjectEditView):
    """Edit a ticket; tickets are opened from the customer overview."""

    model = Ticket
    form_class = TicketForm

    def get_form(self, instance, data=None):
        return TicketForm(data=data, instance=instance, user=self.request.user)

    def update(self, instance, form, expected_version):
        return services.ticket_update(
            actor=self.actor,
            ticket=instance,
            data=form.model_data,
            expected_version=expected_version,
        )

    def render(self, form, instance, status=200):
        response = super().render(form, instance, status)
        response.context_data["title"] = f"Edit ticket {instance}"
        response.context_data["cancel_url"] = instance.get_absolute_url()
        return response
