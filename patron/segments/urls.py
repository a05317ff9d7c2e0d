from django.urls import path

from patron.segments import views

app_name = "segments"
urlpatterns = [
    path("", views.SegmentListView.as_view(), name="list"),
    path("add/", views.SegmentEditView.as_view(), name="add"),
    path("preview/", views.SegmentPreviewView.as_view(), name="preview"),
    path("help/", views.SegmentHelpView.as_view(), name="help"),
    path("<int:pk>/", views.SegmentDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.SegmentEditView.as_view(), name="edit"),
    path("<int:pk>/delete/", views.SegmentDeleteView.as_view(), name="delete"),
    path("customer/<int:customer_pk>/", views.CustomerSegmentsView.as_view(), name="customer"),
    path(
        "<int:pk>/explain/<int:customer_pk>/",
        views.SegmentExplainView.as_view(),
        name="explain",
    ),
]
