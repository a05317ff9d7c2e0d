from django.urls import path

from patron.catalogue import views

app_name = "catalogue"
urlpatterns = [
    path("", views.ServiceListView.as_view(), name="service_list"),
    path("add/", views.ServiceEditView.as_view(), name="service_add"),
    path("<int:pk>/", views.ServiceEditView.as_view(), name="service_edit"),
    path("<int:pk>/delete/", views.ServiceDeleteView.as_view(), name="service_delete"),
    path("tax-rates/", views.TaxRateListView.as_view(), name="taxrate_list"),
    path("tax-rates/add/", views.TaxRateEditView.as_view(), name="taxrate_add"),
    path("tax-rates/<int:pk>/", views.TaxRateEditView.as_view(), name="taxrate_edit"),
    path("tax-rates/<int:pk>/delete/", views.TaxRateDeleteView.as_view(), name="taxrate_delete"),
    path("inventory-types/", views.InventoryTypeListView.as_view(), name="inventorytype_list"),
    path("inventory-types/add/", views.InventoryTypeEditView.as_view(), name="inventorytype_add"),
    path(
        "inventory-types/<int:pk>/",
        views.InventoryTypeEditView.as_view(),
        name="inventorytype_edit",
    ),
    path(
        "inventory-types/<int:pk>/delete/",
        views.InventoryTypeDeleteView.as_view(),
        name="inventorytype_delete",
    ),
]
