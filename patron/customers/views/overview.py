"""The customer overview and the htmx cards on it.

The page is drawn from the overview card registry (`patron.core.cards`): the
customer's own cards (registered in `customers/apps.py`) and those the apps
built on customers register from their `ready()` (notes, tasks, tickets,
calls, banners, custom fields, segments, the event log), so this module names
none of those apps. Each card renders on its own, so an action re-renders
only its card, and tells the event log to refresh with an
`HX-Trigger: customer-changed` header.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse

from patron.core.actor import Actor
from patron.core.cards import overview_cards
from patron.core.errors import ConflictError, ValidationError
from patron.core.views import PatronView
from patron.customers import services
from patron.customers.forms import (
    MembershipValidityForm,
    NotesForm,
    StatusChangeForm,
)
from patron.customers.models import Customer
from patron.groups import services as group_services
from patron.groups.forms import TypedGroupAddForm
from patron.groups.models import Group
from patron.groups.services import default_new_group_set, group_suggestions, new_group_sets
from patron.tags.models import Tag


def load_customer(request, pk, action="view") -> Customer:
    """The customer if the user may `action` it, else 404 (never a 403 that reveals it)."""
    visible = Customer.objects.restrict(request.user, action).select_related(
        "status", "customer_class", "department", "referred_by"
    )
    return get_object_or_404(visible, pk=pk)


def card_context(request, customer, **extra) -> dict:
    """Everything the customer's own cards show; a fixed number of queries."""
    user = request.user
    tags = list(customer.tags.all())
    memberships = list(
        customer.memberships.select_related("group__group_set").order_by(
            "group__group_set__position", "group__path"
        )
    )
    groups = [m.group for m in memberships]
    contacts = list(customer.contacts.all())
    can_change = user.has_perm("customers.change_customer")
    context = {
        "customer": customer,
        "tags": tags,
        "groups": groups,
        "memberships": memberships,
        "scheduled_memberships": list(customer.scheduled_memberships.all()),
        "contacts": contacts,
        "primary_contact": next((c for c in contacts if c.is_primary), None),
        # The referrer may be outside a restricted user's groups (ACC-3): name it only if visible.
        "referrer": (
            customer.referred_by
            if customer.referred_by_id
            and Customer.objects.restrict(user).filter(pk=customer.referred_by_id).exists()
            else None
        ),
        "can_change": can_change,
        "can_add_contact": user.has_perm("customers.add_contact"),
        "can_create_groups": user.has_perm("groups.add_group"),
        "status_history": list(
            customer.status_changes.exclude(state="cancelled").select_related(
                "from_status", "to_status"
            )[:20]
        ),
    }
    if can_change:
        held_tags = {t.pk for t in tags}
        context["available_tags"] = [t for t in Tag.objects.restrict(user) if t.pk not in held_tags]
        context["group_names"] = group_suggestions(user, exclude=groups)
        if context["can_create_groups"]:
            context["group_sets"] = list(new_group_sets(user))
            default = default_new_group_set(context["group_sets"])
            context["default_group_set"] = default.pk if default else None
        context["status_form"] = StatusChangeForm(user=user, customer=customer)
        context["status_dialog_form"] = StatusChangeForm(
            user=user, customer=customer, prefix="change"
        )
        context["notes_form"] = NotesForm(
            initial={"notes": customer.notes, "version": customer.version}
        )
    context.update(extra)
    return context


class CustomerDetailView(PatronView):
    """The overview: every registered card, column by column."""

    model = Customer

    def get(self, request, pk):
        customer = load_customer(request, pk)
        context = card_context(request, customer)
        context.update(overview_cards.context(request, customer))
        context["overview_cards"] = overview_cards.columns()
        context["title"] = customer.name
        return TemplateResponse(request, "customers/customer_detail.html", context)


class OverviewCardView(PatronView):
    """One registered card on its own (the event log's refresh and paging), named by
    `card` in the URL configuration."""

    model = Customer
    card = ""

    def get(self, request, pk):
        customer = load_customer(request, pk)
        card = overview_cards.get(self.card)
        context = {"customer": customer, **card.context_for(request, customer, alone=True)}
        return TemplateResponse(request, card.template, context)


class CardActionView(PatronView):
    """POST an action on one card; answer with the re-rendered card."""

    model = Customer
    required_action = "change"
    card_template = ""

    def act(self, actor: Actor, customer: Customer, data) -> None:
        raise NotImplementedError

    def post(self, request, pk):
        customer = load_customer(request, pk, "change")
        error = ""
        extra = {}
        try:
            self.act(Actor(user=request.user), customer, request.POST)
        except ValidationError as exc:
            error = " ".join(exc.messages)
            extra = self.error_context(customer, request.POST, exc)
        except ConflictError as exc:
            error = str(exc)
        if not request.htmx:
            if error:
                messages.error(request, error)
            return HttpResponseRedirect(customer.get_absolute_url())
        customer = load_customer(request, pk)
        response = TemplateResponse(
            request,
            self.card_template,
            card_context(request, customer, card_error=error, **extra),
            status=200,
        )
        if not error:
            response["HX-Trigger"] = "customer-changed"
        return response

    def error_context(self, customer, data, exc) -> dict:
        return {}


def _restricted(request, model, pk):
    """The tag or group a card posted. One deleted since the page was opened (or
    never visible to the user) is a message on the card, not a silent 404."""
    visible = model.objects.restrict(request.user, "view")
    obj = visible.filter(pk=pk).first() if str(pk or "").isdigit() else None
    if obj is None:
        raise ValidationError(
            f"That {model._meta.verbose_name} no longer exists; "
            "reload the page to see the current ones."
        )
    return obj


class TagAddView(CardActionView):
    card_template = "customers/_tags_card.html"

    def act(self, actor, customer, data):
        if not data.get("tag"):
            raise ValidationError("Choose a tag to add.")
        tag = _restricted(self.request, Tag, data["tag"])
        services.customer_tag_add(actor=actor, customer=customer, tag=tag)


class TagRemoveView(CardActionView):
    card_template = "customers/_tags_card.html"

    def act(self, actor, customer, data):
        tag = _restricted(self.request, Tag, data.get("tag"))
        services.customer_tag_remove(actor=actor, customer=customer, tag=tag)


def _valid_form(form) -> dict:
    """The cleaned data, or the form's errors raised keyed by field."""
    if not form.is_valid():
        raise ValidationError({field: list(errors) for field, errors in form.errors.items()})
    return form.cleaned_data


class GroupAddView(CardActionView):
    """A typed group name: an existing group, or a new one in the chosen set. In a
    single-choice set the customer already has a group of, the card offers to
    move the customer (posting again with `move`) instead of only refusing."""

    card_template = "customers/_groups_card.html"

    def act(self, actor, customer, data):
        cleaned = _valid_form(TypedGroupAddForm(data, user=self.request.user))
        group_services.customer_group_add_typed(
            actor=actor,
            customer=customer,
            name=cleaned["name"],
            group_set=cleaned["group_set"],
            move=cleaned["move"],
            valid_from=cleaned["valid_from"],
            valid_until=cleaned["valid_until"],
        )

    def error_context(self, customer, data, exc):
        # Keep what was typed, and mark the fields the message is about.
        fields = set(exc.message_dict) if hasattr(exc, "error_dict") else set()
        context = {"group_add": data, "group_add_invalid": fields}
        if isinstance(exc, group_services.MoveOffered):
            context["group_move"] = exc.typed
        return context


class GroupRemoveView(CardActionView):
    card_template = "customers/_groups_card.html"

    def act(self, actor, customer, data):
        group = _restricted(self.request, Group, data.get("group"))
        services.customer_group_remove(actor=actor, customer=customer, group=group)


class GroupValidityView(CardActionView):
    """Change or clear the last day of one membership."""

    card_template = "customers/_groups_card.html"

    def act(self, actor, customer, data):
        group = _restricted(self.request, Group, data.get("group"))
        cleaned = _valid_form(MembershipValidityForm(data))
        services.customer_group_validity_set(
            actor=actor, customer=customer, group=group, valid_until=cleaned["valid_until"]
        )


class GroupScheduleCancelView(CardActionView):
    """Cancel a membership that has not started."""

    card_template = "customers/_groups_card.html"

    def act(self, actor, customer, data):
        pk = str(data.get("scheduled") or "")
        scheduled = customer.scheduled_memberships.filter(pk=pk).first() if pk.isdigit() else None
        if scheduled is None:
            raise ValidationError(
                "That scheduled membership has already started or been cancelled; "
                "reload the page to see the current groups."
            )
        services.customer_group_schedule_cancel(actor=actor, scheduled=scheduled)


class StatusChangeView(CardActionView):
    """Change the status from the status card; the page reloads once it changed."""

    card_template = "customers/_status_card.html"
    form_prefix = None
    form_context = "status_form"

    def status_form(self, customer, data=None):
        return StatusChangeForm(
            data, user=self.request.user, customer=customer, prefix=self.form_prefix
        )

    def act(self, actor, customer, data):
        form = self.status_form(customer, data)
        if not form.is_valid():
            raise ValidationError({field: list(errors) for field, errors in form.errors.items()})
        services.customer_status_change(
            actor=actor,
            customer=customer,
            status=form.cleaned_data["status"],
            reason=form.cleaned_data["reason"],
            effective_date=form.cleaned_data["effective_date"],
        )

    def error_context(self, customer, data, exc):
        form = self.status_form(customer, data)
        form.is_valid()
        if hasattr(exc, "error_dict"):
            for field, field_messages in exc.message_dict.items():
                for message in field_messages:
                    if message not in form.errors.get(field, []):
                        form.add_error(field if field in form.fields else None, message)
        return {self.form_context: form, "status_form_open": True}

    def post(self, request, pk):
        response = super().post(request, pk)
        if request.htmx and response.get("HX-Trigger"):
            # The top row and badges show the status too: reload the whole page.
            response["HX-Refresh"] = "true"
        return response


class StatusDialogView(StatusChangeView):
    """The same change from the header's "Change status" dialog: a wrong submit
    answers with the dialog's form, one message under each field."""

    card_template = "customers/_status_dialog_form.html"
    form_prefix = "change"
    form_context = "status_dialog_form"

    def post(self, request, pk):
        response = super().post(request, pk)
        if request.htmx and not response.get("HX-Trigger"):
            # Errors (or a conflict) are shown in the dialog, not the card.
            response["HX-Retarget"] = "#status-dialog-form"
            response["HX-Reswap"] = "outerHTML"
        return response


class StatusCancelView(CardActionView):
    """Cancel a pending status change, named by its id in `change`."""

    card_template = "customers/_status_card.html"
    missing_change = "Choose the pending status change to cancel; reload the page to see them."

    def post(self, request, pk):
        if not re.fullmatch(r"\d{1,18}", str(request.POST.get("change") or ""), re.ASCII):
            # Not a form the card sends: a 400 that says what is missing.
            customer = load_customer(request, pk, "change")
            if not request.htmx:
                return HttpResponse(
                    self.missing_change, status=400, content_type="text/plain; charset=utf-8"
                )
            context = card_context(request, customer, card_error=self.missing_change)
            return TemplateResponse(request, self.card_template, context, status=400)
        return super().post(request, pk)

    def act(self, actor, customer, data):
        change = customer.status_changes.pending().filter(pk=data["change"]).first()
        if change is None:
            raise ValidationError(
                "That status change has already taken effect or been cancelled; "
                "reload the page to see the current status."
            )
        services.customer_status_change_cancel(actor=actor, change=change)


class NotesSaveView(CardActionView):
    card_template = "customers/_notes_card.html"

    def act(self, actor, customer, data):
        services.customer_update(
            actor=actor,
            customer=customer,
            data={"notes": data.get("notes", "")},
            expected_version=data.get("version") or None,
        )
