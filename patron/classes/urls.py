from django.urls import path

from patron.classes import views

app_name = "classes"
urlpatterns = [
    path("", views.CustomerClassListView.as_view(), name="list"),
    path("add/", views.CustomerClassEditView.as_view(), name="add"),
    path("<int:pk>/", views.CustomerClassEditView.as_view(), name="edit"),
    path("<int:pk>/delete/", views.CustomerClassDeleteView.as_view(), name="delete"),
]
