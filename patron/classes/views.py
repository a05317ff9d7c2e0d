"""Customer class pages: list, add/edit, delete."""

from django.utils.html import format_html
from django.utils.safestring import mark_safe

from patron.classes import services
from patron.classes.filters import CustomerClassFilterSet
from patron.classes.forms import CustomerClassForm
from patron.classes.models import CustomerClass
from patron.core.tables import Column, badge
from patron.core.views import ObjectDeleteView, ObjectEditView, ObjectListView
from patron.statuses.views import customer_count_subquery, name_cell


def retention(customer_class: CustomerClass):
    days = customer_class.retention_days
    if days and days % 365 == 0:
        years = days // 365
        return format_html(
            '{} year{} <span class="small text-secondary">({} days)</span>',
            years,
            "" if years == 1 else "s",
            days,
        )
    return f"{days} day{'' if days == 1 else 's'}"


def verification(customer_class: CustomerClass):
    if customer_class.verification_required:
        return badge("Required", "#fd7e14")
    return mark_safe('<span class="text-body-tertiary">Not required</span>')


class CustomerClassListView(ObjectListView):
    model = CustomerClass
    filterset_class = CustomerClassFilterSet
    add_url_name = "classes:add"
    title = "Customer classes"
    default_ordering = ("position", "name")

    @property
    def columns(self):
        user = self.request.user
        return [
            Column("position", label="#"),
            Column("name", html=lambda c: name_cell(user, CustomerClass, c)),
            Column("description", sortable=False),
            Column("retention_days", label="Retention after the account ends", html=retention),
            Column("verification_required", label="Identity verification", html=verification),
            Column("customer_count", label="Customers"),
        ]

    def get_base_queryset(self):
        return (
            super()
            .get_base_queryset()
            .annotate(customer_count=customer_count_subquery("customer_class"))
        )


class CustomerClassEditView(ObjectEditView):
    model = CustomerClass
    form_class = CustomerClassForm
    success_url_name = "classes:list"
    delete_url_name = "classes:delete"

    def create(self, form):
        return services.customer_class_create(actor=self.actor, data=form.model_data)

    def update(self, instance, form, expected_version):
        return services.customer_class_update(
            actor=self.actor,
            customer_class=instance,
            data=form.model_data,
            expected_version=expected_version,
        )


class CustomerClassDeleteView(ObjectDeleteView):
    model = CustomerClass
    success_url_name = "classes:list"

    def delete(self, obj):
        services.customer_class_delete(actor=self.actor, customer_class=obj)
