"""The notes, tasks and tickets cards on the customer overview.

Each card renders on its own: an action posted from a card (add a note, mark
a task done) answers with the re-rendered card and tells the event log to
refresh with `HX-Trigger: customer-changed`, like the customer's own cards.
Without htmx the action redirects back to the customer.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse

from patron.core.actor import Actor
from patron.core.errors import ConflictError, ValidationError
from patron.core.views import PatronView, apply_form_errors, get_restricted_object


def load_customer(request, pk):
    """The customer if the user may see it, else 404."""
    from patron.customers.models import Customer

    return get_restricted_object(request, Customer, "view", pk=pk)


class WorkCardMixin:
    card_template = ""

    def card_context(self, customer) -> dict:
        """The app's `overview_context(request, customer)`."""
        raise NotImplementedError

    def render_card(self, customer, **extra):
        context = {"customer": customer, **self.card_context(customer), **extra}
        return TemplateResponse(self.request, self.card_template, context)


class WorkCardView(WorkCardMixin, PatronView):
    """GET one card on its own (htmx refresh, "show closed tickets")."""

    def get(self, request, pk):
        return self.render_card(load_customer(request, pk))


class WorkCardActionView(WorkCardMixin, PatronView):
    """POST an action from a card; answer with the re-rendered card.

    `form_key` names the context variable of the card's form, so a refused
    form comes back open, with its errors under the fields.
    """

    form_key = ""

    def get_customer(self, pk):
        return load_customer(self.request, pk)

    def act(self, actor: Actor, customer) -> None:
        raise NotImplementedError

    def post(self, request, pk):
        customer = self.get_customer(pk)
        self.form = None
        error, extra = "", {}
        try:
            self.act(Actor(user=request.user), customer)
        except ValidationError as exc:
            if self.form is not None:
                apply_form_errors(self.form, exc)
            else:
                error = " ".join(exc.messages)
        except ConflictError as exc:
            error = str(exc)
        if self.form is not None and self.form.errors:
            extra = {self.form_key: self.form, f"{self.form_key}_open": True}
            if not error:
                error = "Please correct the errors below."
        if not request.htmx:
            if error:
                messages.error(request, error)
            return HttpResponseRedirect(customer.get_absolute_url())
        response = self.render_card(customer, card_error=error, **extra)
        if not error:
            response["HX-Trigger"] = "customer-changed"
        return response

    def valid_form(self, form):
        """Keep `form` for the re-rendered card; refuse when it is not valid."""
        self.form = form
        if not form.is_valid():
            raise ValidationError({})
        return form
