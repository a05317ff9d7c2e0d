from django.urls import path

from patron.events import views

app_name = "events"
urlpatterns = [
    path("", views.EventListView.as_view(), name="list"),
]
