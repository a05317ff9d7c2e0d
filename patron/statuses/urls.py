from django.urls import path

from patron.statuses import views

app_name = "statuses"
urlpatterns = [
    path("", views.StatusListView.as_view(), name="list"),
    path("add/", views.StatusEditView.as_view(), name="add"),
    path("<int:pk>/", views.StatusEditView.as_view(), name="edit"),
    path("<int:pk>/delete/", views.StatusDeleteView.as_view(), name="delete"),
]
