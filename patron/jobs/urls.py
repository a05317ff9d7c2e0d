from django.urls import path

from patron.jobs import bulk_views, views

app_name = "jobs"
urlpatterns = [
    path("", views.JobListView.as_view(), name="list"),
    path("bulk/", bulk_views.BulkActionView.as_view(), name="bulk"),
    path("bulk-tag/", views.BulkTagView.as_view(), name="bulk_tag"),
    path("<int:pk>/", views.JobDetailView.as_view(), name="detail"),
    path("<int:pk>/progress/", views.JobProgressView.as_view(), name="progress"),
    path("<int:pk>/cancel/", views.JobCancelView.as_view(), name="cancel"),
    path("<int:pk>/undo/", bulk_views.JobUndoView.as_view(), name="undo"),
]
