"""Catalogue pages in the settings area: services, tax rates, inventory types."""

from django.db.models import Count

from patron.catalogue import services
from patron.catalogue.filters import InventoryTypeFilterSet, ServiceFilterSet, TaxRateFilterSet
from patron.catalogue.forms import InventoryTypeForm, ServiceForm, TaxRateForm
from patron.catalogue.models import InventoryType, Service, TaxRate
from patron.core.tables import Column
from patron.core.views import ObjectDeleteView, ObjectEditView, ObjectListView
from patron.statuses.views import flag, name_cell


class ServiceListView(ObjectListView):
    model = Service
    filterset_class = ServiceFilterSet
    add_url_name = "catalogue:service_add"
    title = "Service catalogue"
    default_ordering = ("name",)
    select_related = ("tax_rate", "inventory_type")
    prefetch_related = ("allowed_groups",)

    @property
    def columns(self):
        user = self.request.user
        return [
            Column("code"),
            Column("name", html=lambda s: name_cell(user, Service, s)),
            Column("kind", accessor=lambda s: s.get_kind_display()),
            Column("price", accessor=lambda s: s.price_display),
            Column("tax_rate", label="Tax", order_by="tax_rate__rate"),
            Column("inventory_type", label="Inventory type", order_by="inventory_type__name"),
            Column(
                "allowed_groups",
                label="Allowed groups",
                sortable=False,
                accessor=lambda s: ", ".join(g.name for g in s.allowed_groups.all()) or "Anyone",
            ),
            Column("archived", html=lambda s: flag(s.archived)),
        ]


class ServiceEditView(ObjectEditView):
    model = Service
    form_class = ServiceForm
    success_url_name = "catalogue:service_list"
    delete_url_name = "catalogue:service_delete"

    def get_form(self, instance, data=None):
        return ServiceForm(data=data, instance=instance, user=self.request.user)

    def create(self, form):
        return services.service_create(actor=self.actor, data=form.model_data)

    def update(self, instance, form, expected_version):
        return services.service_update(
            actor=self.actor,
            service=instance,
            data=form.model_data,
            expected_version=expected_version,
        )


class ServiceDeleteView(ObjectDeleteView):
    model = Service
    success_url_name = "catalogue:service_list"

    def delete(self, obj):
        services.service_delete(actor=self.actor, service=obj)


class TaxRateListView(ObjectListView):
    model = TaxRate
    filterset_class = TaxRateFilterSet
    add_url_name = "catalogue:taxrate_add"
    title = "Tax rates"
    default_ordering = ("position", "name")

    @property
    def columns(self):
        user = self.request.user
        return [
            Column("name", html=lambda t: name_cell(user, TaxRate, t)),
            Column("rate", label="Rate (%)"),
            Column("is_default", label="Default", html=lambda t: flag(t.is_default)),
            Column("service_count", label="Services"),
            Column("archived", html=lambda t: flag(t.archived)),
        ]

    def get_base_queryset(self):
        return super().get_base_queryset().annotate(service_count=Count("services"))


class TaxRateEditView(ObjectEditView):
    model = TaxRate
    form_class = TaxRateForm
    success_url_name = "catalogue:taxrate_list"
    delete_url_name = "catalogue:taxrate_delete"

    def create(self, form):
        return services.tax_rate_create(actor=self.actor, data=form.model_data)

    def update(self, instance, form, expected_version):
        return services.tax_rate_update(
            actor=self.actor,
            tax_rate=instance,
            data=form.model_data,
            expected_version=expected_version,
        )


class TaxRateDeleteView(ObjectDeleteView):
    model = TaxRate
    success_url_name = "catalogue:taxrate_list"

    def delete(self, obj):
        services.tax_rate_delete(actor=self.actor, tax_rate=obj)


class InventoryTypeListView(ObjectListView):
    model = InventoryType
    filterset_class = InventoryTypeFilterSet
    add_url_name = "catalogue:inventorytype_add"
    title = "Inventory types"
    default_ordering = ("position", "name")

    @property
    def columns(self):
        user = self.request.user
        return [
            Column("name", html=lambda t: name_cell(user, InventoryType, t)),
            Column("description", sortable=False),
            Column("service_count", label="Services"),
            Column("archived", html=lambda t: flag(t.archived)),
        ]

    def get_base_queryset(self):
        return super().get_base_queryset().annotate(service_count=Count("services"))


class InventoryTypeEditView(ObjectEditView):
    model = InventoryType
    form_class = InventoryTypeForm
    success_url_name = "catalogue:inventorytype_list"
    delete_url_name = "catalogue:inventorytype_delete"

    def create(self, form):
        return services.inventory_type_create(actor=self.actor, data=form.model_data)

    def update(self, instance, form, expected_version):
        return services.inventory_type_update(
            actor=self.actor,
            inventory_type=instance,
            data=form.model_data,
            expected_version=expected_version,
        )


class InventoryTypeDeleteView(ObjectDeleteView):
    model = InventoryType
    success_url_name = "catalogue:inventorytype_list"

    def delete(self, obj):
        services.inventory_type_delete(actor=self.actor, inventory_type=obj)
