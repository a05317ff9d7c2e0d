"""Note pages: the overview card and its actions, and the edit page."""

from patron.core.views import ObjectEditView, get_restricted_object
from patron.customers.models import Customer
from patron.notes import services
from patron.notes.forms import NoteForm, NoteQuickForm
from patron.notes.models import Note
from patron.notes.overview import overview_context
from patron.tickets.cards import WorkCardActionView, WorkCardView


class NoteCardMixin:
    card_template = "notes/_customer_notes.html"

    def card_context(self, customer):
        return overview_context(self.request, customer)


class NoteCardView(NoteCardMixin, WorkCardView):
    model = Customer


class NoteAddView(NoteCardMixin, WorkCardActionView):
    model = Note
    required_action = "add"
    form_key = "note_form"

    def act(self, actor, customer):
        form = self.valid_form(NoteQuickForm(self.request.POST, user=self.request.user))
        services.note_create(actor=actor, customer=customer, data=form.model_data)


class NotePinView(NoteCardMixin, WorkCardActionView):
    model = Note
    required_action = "change"

    def get_customer(self, pk):
        self.note = get_restricted_object(self.request, Note, "change", pk=pk)
        return self.note.customer

    def act(self, actor, customer):
        services.note_pin(
            actor=actor, note=self.note, pinned=self.request.POST.get("pinned") == "1"
        )


class NoteEditView(ObjectEditView):
    """Edit a note; notes are added from the customer overview."""

    model = Note
    form_class = NoteForm

    def get_object(self):
        return get_restricted_object(self.request, Note, "change", pk=self.kwargs["pk"])

    def get_form(self, instance, data=None):
        return NoteForm(data=data, instance=instance, user=self.request.user)

    def update(self, instance, form, expected_version):
        return services.note_update(
            actor=self.actor,
            note=instance,
            data=form.model_data,
            expected_version=expected_version,
        )

    def success_url(self, obj):
        return obj.get_absolute_url()

    def render(self, form, instance, status=200):
        response = super().render(form, instance, status)
        response.context_data["title"] = f"Edit {instance.routing_label} on {instance.customer}"
        response.context_data["cancel_url"] = instance.get_absolute_url()
        return response
