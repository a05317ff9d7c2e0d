"""Customer service pages: a customer's services, add, change and end."""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse

from patron.core.errors import ValidationError
from patron.core.views import ObjectEditView, PatronView, apply_form_errors, get_restricted_object
from patron.customers.models import Customer
from patron.subscriptions import services
from patron.subscriptions.forms import CustomerServiceForm, EndServiceForm
from patron.subscriptions.models import CustomerService
from patron.subscriptions.services import monthly_total


class CustomerServicesView(PatronView):
    """Every service the customer has had, current first."""

    model = CustomerService

    def get(self, request, pk):
        customer = get_restricted_object(request, Customer, "view", pk=pk)
        items = list(
            CustomerService.objects.restrict(request.user)
            .filter(customer=customer)
            .select_related("service")
            .order_by("status", "-start_date", "-id")
        )
        context = {
            "customer": customer,
            "title": f"Services of {customer.name}",
            "items": items,
            "monthly_total": monthly_total(items),
            "can_add": request.user.has_perm("subscriptions.add_customerservice"),
            "can_change": request.user.has_perm("subscriptions.change_customerservice"),
        }
        return TemplateResponse(request, "subscriptions/customer_services.html", context)


class CustomerServiceAddView(PatronView):
    model = CustomerService
    required_action = "add"

    def render(self, customer, form, status=200):
        return TemplateResponse(
            self.request,
            "subscriptions/service_form.html",
            {
                "customer": customer,
                "form": form,
                "title": f"Add a service for {customer.name}",
                "cancel_url": customer.get_absolute_url(),
            },
            status=status,
        )

    def get(self, request, pk):
        customer = get_restricted_object(request, Customer, "change", pk=pk)
        return self.render(customer, CustomerServiceForm(user=request.user))

    def post(self, request, pk):
        customer = get_restricted_object(request, Customer, "change", pk=pk)
        form = CustomerServiceForm(request.POST, user=request.user)
        if form.is_valid():
            data = dict(form.model_data)
            service = data.pop("service")
            try:
                item = services.customer_service_add(
                    actor=self.actor, customer=customer, service=service, data=data
                )
            except ValidationError as exc:
                apply_form_errors(form, exc)
            else:
                messages.success(request, f"Added {item} to {customer.name}.")
                return HttpResponseRedirect(customer.get_absolute_url())
        return self.render(customer, form, status=400)


class CustomerServiceEditView(ObjectEditView):
    model = CustomerService
    form_class = CustomerServiceForm
    template_name = "subscriptions/service_form.html"

    def get_form(self, instance, data=None):
        return CustomerServiceForm(data=data, instance=instance, user=self.request.user)

    def update(self, instance, form, expected_version):
        return services.customer_service_update(
            actor=self.actor,
            customer_service=instance,
            data=form.model_data,
            expected_version=expected_version,
        )

    def success_url(self, obj):
        return obj.customer.get_absolute_url()

    def render(self, form, instance, status=200):
        response = super().render(form, instance, status)
        response.context_data["customer"] = instance.customer
        response.context_data["cancel_url"] = instance.customer.get_absolute_url()
        response.context_data["title"] = f"{instance} for {instance.customer.name}"
        return response


class CustomerServiceEndView(PatronView):
    """Confirm the last day, then end the service."""

    model = CustomerService
    required_action = "change"

    def render(self, item, form, status=200):
        return TemplateResponse(
            self.request,
            "subscriptions/service_end.html",
            {
                "item": item,
                "customer": item.customer,
                "form": form,
                "title": f"End {item} for {item.customer.name}",
                "cancel_url": item.customer.get_absolute_url(),
            },
            status=status,
        )

    def get(self, request, pk):
        item = get_restricted_object(request, CustomerService, "change", pk=pk)
        return self.render(item, EndServiceForm())

    def post(self, request, pk):
        item = get_restricted_object(request, CustomerService, "change", pk=pk)
        form = EndServiceForm(request.POST)
        if form.is_valid():
            try:
                services.customer_service_end(
                    actor=self.actor,
                    customer_service=item,
                    end_date=form.cleaned_data["end_date"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                apply_form_errors(form, exc)
            else:
                messages.success(request, f"Ended {item}.")
                return HttpResponseRedirect(item.customer.get_absolute_url())
        return self.render(item, form, status=400)
