from django.urls import path

from patron.tasks import views

app_name = "tasks"
urlpatterns = [
    path("customer/<int:pk>/", views.TaskCardView.as_view(), name="customer_card"),
    path("customer/<int:pk>/add/", views.TaskAddView.as_view(), name="customer_add"),
    path("<int:pk>/edit/", views.TaskEditView.as_view(), name="edit"),
    path("<int:pk>/done/", views.TaskDoneView.as_view(), name="done"),
]
