"""Opening and editing an account, archiving and restoring it."""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.core.views import ObjectEditView, PatronView, get_restricted_object
from patron.customers import services
from patron.customers.forms import CustomerForm
from patron.customers.models import Customer


class CustomerEditView(ObjectEditView):
    model = Customer
    form_class = CustomerForm
    success_url_name = "customers:list"

    def get_form(self, instance, data=None):
        return CustomerForm(data=data, instance=instance, user=self.request.user)

    def create(self, form):
        return services.customer_create(
            actor=self.actor,
            data={**form.profile_data, "status": form.cleaned_data["status"]},
            tags=form.cleaned_data["tags"],
            groups=form.cleaned_data["groups"],
            contacts=form.first_contact,
        )

    def update(self, instance, form, expected_version):
        return services.customer_update(
            actor=self.actor,
            customer=instance,
            data=form.profile_data,
            expected_version=expected_version,
        )

    def success_url(self, obj):
        return obj.get_absolute_url()

    def render(self, form, instance, status=200):
        response = super().render(form, instance, status)
        if instance is not None:
            response.context_data["cancel_url"] = instance.get_absolute_url()
        return response


class CustomerArchiveView(PatronView):
    """POST: archive the account, or restore it when it is archived."""

    model = Customer
    required_action = "change"

    def post(self, request, pk):
        customer = get_restricted_object(request, Customer, "change", pk=pk)
        actor = Actor(user=request.user)
        reason = request.POST.get("reason", "")
        try:
            if customer.archived:
                services.customer_restore(actor=actor, customer=customer, reason=reason)
                messages.success(request, f"Restored {customer.name}.")
            else:
                services.customer_archive(actor=actor, customer=customer, reason=reason)
                messages.success(request, f"Archived {customer.name}. Restore it here at any time.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        return HttpResponseRedirect(reverse("customers:detail", args=[pk]))


archive_view = require_POST(CustomerArchiveView.as_view())
