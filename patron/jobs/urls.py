from django.urls import path

from patron.jobs import views

app_name = "jobs"
urlpatterns = [
    path("", views.JobListView.as_view(), name="list"),
    path("<int:pk>/", views.JobDetailView.as_view(), name="detail"),
    path("<int:pk>/progress/", views.JobProgressView.as_view(), name="progress"),
    path("<int:pk>/cancel/", views.JobCancelView.as_view(), name="cancel"),
]
