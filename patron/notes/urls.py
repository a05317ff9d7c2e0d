from django.urls import path

from patron.notes import views

app_name = "notes"
urlpatterns = [
    path("customer/<int:pk>/", views.NoteCardView.as_view(), name="customer_card"),
    path("customer/<int:pk>/add/", views.NoteAddView.as_view(), name="customer_add"),
    path("<int:pk>/edit/", views.NoteEditView.as_view(), name="edit"),
    path("<int:pk>/pin/", views.NotePinView.as_view(), name="pin"),
]
