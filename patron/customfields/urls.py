from django.urls import path

from patron.customfields import views

app_name = "customfields"
urlpatterns = [
    path("", views.CustomFieldListView.as_view(), name="list"),
    path("add/", views.CustomFieldEditView.as_view(), name="add"),
    path("<int:pk>/", views.CustomFieldEditView.as_view(), name="edit"),
    path("<int:pk>/delete/", views.CustomFieldDeleteView.as_view(), name="delete"),
    path(
        "customer/<int:pk>/",
        views.CustomerCustomFieldsView.as_view(),
        name="customer_edit",
    ),
]
