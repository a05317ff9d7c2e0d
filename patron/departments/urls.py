from django.urls import path

from patron.departments import views

app_name = "departments"
urlpatterns = [
    path("", views.DepartmentListView.as_view(), name="list"),
    path("add/", views.DepartmentEditView.as_view(), name="add"),
    path("<int:pk>/", views.DepartmentEditView.as_view(), name="edit"),
    path("<int:pk>/delete/", views.DepartmentDeleteView.as_view(), name="delete"),
]
