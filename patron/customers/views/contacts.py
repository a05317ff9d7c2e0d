"""Adding, editing and removing a customer's contacts."""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse

from patron.core.errors import ConflictError, ValidationError
from patron.core.views import PatronView, apply_form_errors
from patron.customers import services
from patron.customers.forms import ContactForm
from patron.customers.models import Contact
from patron.customers.views.overview import load_customer


class ContactEditView(PatronView):
    """New contact (no contact_pk) or edit one, on a customer the user may change."""

    model = Contact

    def dispatch(self, request, *args, **kwargs):
        self.required_action = "change" if kwargs.get("contact_pk") else "add"
        return super().dispatch(request, *args, **kwargs)

    def objects(self, pk, contact_pk):
        customer = load_customer(self.request, pk, "change")
        contact = None
        if contact_pk:
            contact = get_object_or_404(
                Contact.objects.restrict(self.request.user, "change"),
                pk=contact_pk,
                customer=customer,
            )
        return customer, contact

    def render(self, form, customer, contact, status=200):
        return TemplateResponse(
            self.request,
            "core/object_form.html",
            {
                "form": form,
                "title": f"Edit contact {contact}"
                if contact
                else f"New contact for {customer.name}",
                "cancel_url": customer.get_absolute_url(),
            },
            status=status,
        )

    def get(self, request, pk, contact_pk=None):
        customer, contact = self.objects(pk, contact_pk)
        return self.render(ContactForm(instance=contact), customer, contact)

    def post(self, request, pk, contact_pk=None):
        customer, contact = self.objects(pk, contact_pk)
        form = ContactForm(request.POST, instance=contact or Contact(customer=customer))
        if form.is_valid():
            try:
                if contact is None:
                    contact = services.contact_create(
                        actor=self.actor, customer=customer, data=form.model_data
                    )
                    messages.success(request, f"Added contact {contact}.")
                else:
                    services.contact_update(
                        actor=self.actor,
                        contact=contact,
                        data=form.model_data,
                        expected_version=form.cleaned_data.get("version"),
                    )
                    messages.success(request, f"Saved contact {contact}.")
                return HttpResponseRedirect(customer.get_absolute_url())
            except ValidationError as exc:
                apply_form_errors(form, exc)
            except ConflictError as exc:
                form.add_error(None, str(exc))
                return self.render(form, customer, contact, status=409)
        return self.render(form, customer, contact, status=400)


class ContactDeleteView(PatronView):
    model = Contact
    required_action = "delete"

    def post(self, request, pk, contact_pk):
        customer = load_customer(request, pk, "change")
        contact = get_object_or_404(
            Contact.objects.restrict(request.user, "delete"), pk=contact_pk, customer=customer
        )
        services.contact_delete(actor=self.actor, contact=contact)
        messages.success(request, f"Removed contact {contact}.")
        return HttpResponseRedirect(customer.get_absolute_url())
