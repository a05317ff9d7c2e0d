"""Custom field pages: the definitions list (admins) and a customer's Custom tab."""

from django.contrib import messages
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse

from patron.core.cards import overview_cards
from patron.core.errors import ConflictError, ValidationError
from patron.core.tables import Column
from patron.core.views import (
    ObjectDeleteView,
    ObjectEditView,
    ObjectListView,
    PatronView,
    apply_form_errors,
)
from patron.customers.models import Customer
from patron.customers.views.overview import load_customer
from patron.customfields import services
from patron.customfields.filters import CustomFieldFilterSet
from patron.customfields.forms import CustomFieldForm, CustomValuesForm
from patron.customfields.models import CustomField
from patron.customfields.overview import overview_context


class CustomFieldListView(ObjectListView):
    model = CustomField
    filterset_class = CustomFieldFilterSet
    add_url_name = "customfields:add"
    default_ordering = ("position", "label", "id")
    title = "Custom fields"
    columns = [
        Column("label", link=True),
        Column("key"),
        Column("field_type", label="Type", accessor=lambda f: f.get_field_type_display()),
        Column(
            "choices", sortable=False, accessor=lambda f: ", ".join(f.choices) if f.choices else ""
        ),
        Column("required"),
        Column("show_on_overview", label="On overview"),
        Column("position"),
        Column("archived"),
    ]


class CustomFieldEditView(ObjectEditView):
    model = CustomField
    form_class = CustomFieldForm
    success_url_name = "customfields:list"
    delete_url_name = "customfields:delete"

    def create(self, form):
        return services.custom_field_create(actor=self.actor, data=form.model_data)

    def update(self, instance, form, expected_version):
        return services.custom_field_update(
            actor=self.actor,
            field=instance,
            data=form.model_data,
            expected_version=expected_version,
        )


class CustomFieldDeleteView(ObjectDeleteView):
    model = CustomField
    success_url_name = "customfields:list"

    def delete(self, obj):
        services.custom_field_delete(actor=self.actor, field=obj)


class CustomerCustomFieldsView(PatronView):
    """A customer's Custom tab: every active field in one form."""

    model = Customer
    required_action = "change"

    def load(self, pk):
        return load_customer(self.request, pk, "change")

    def render(self, customer, form, status=200):
        context = {
            "customer": customer,
            "form": form,
            "title": f"Custom fields of {customer.name}",
            **overview_context(self.request, customer),
            # The cards under the top row (alert banners), as on the overview.
            **overview_cards.context(self.request, customer, column="top"),
            "overview_cards": overview_cards.columns(),
        }
        return TemplateResponse(
            self.request, "customfields/customer_edit.html", context, status=status
        )

    def form(self, customer, data=None):
        definitions = list(CustomField.objects.filter(archived=False))
        return CustomValuesForm(data, definitions=definitions, customer=customer)

    def get(self, request, pk):
        customer = self.load(pk)
        return self.render(customer, self.form(customer))

    def post(self, request, pk):
        customer = self.load(pk)
        form = self.form(customer, request.POST)
        if form.is_valid():
            try:
                services.customer_custom_fields_set(
                    actor=self.actor,
                    customer=customer,
                    values=form.values,
                    expected_version=form.cleaned_data.get("version"),
                )
            except ValidationError as exc:
                apply_form_errors(form, exc)
            except ConflictError as exc:
                form.add_error(None, str(exc))
                return self.render(customer, form, status=409)
            else:
                messages.success(request, f"Saved the custom fields of “{customer.name}”.")
                return HttpResponseRedirect(customer.get_absolute_url())
        return self.render(customer, form, status=400)
