from django.urls import path

from patron.calls import views

app_name = "calls"
urlpatterns = [
    path("", views.CallLogListView.as_view(), name="list"),
    path("customer/<int:pk>/", views.CustomerCallsView.as_view(), name="customer"),
    path("customer/<int:pk>/new/", views.CallLogCreateView.as_view(), name="new"),
    path("<int:pk>/", views.CallLogEditView.as_view(), name="edit"),
    path("<int:pk>/delete/", views.CallLogDeleteView.as_view(), name="delete"),
]
