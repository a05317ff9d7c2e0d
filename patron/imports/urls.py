from django.urls import path

from patron.imports import views

app_name = "imports"
urlpatterns = [
    path("", views.ImportView.as_view(), name="upload"),
    path("template.csv", views.ImportTemplateView.as_view(), name="template"),
    path("<int:pk>/", views.ImportDetailView.as_view(), name="detail"),
    path("<int:pk>/status/", views.ImportStatusView.as_view(), name="status"),
    path("<int:pk>/apply/", views.ImportApplyView.as_view(), name="apply"),
    path("<int:pk>/options/", views.ImportOptionsView.as_view(), name="options"),
    path("<int:pk>/mapping/", views.ImportMappingView.as_view(), name="mapping"),
    path("<int:pk>/rejected/", views.ImportRejectedView.as_view(), name="rejected"),
    path("export/", views.ExportView.as_view(), name="export"),
    path("export/<int:pk>/", views.ExportDetailView.as_view(), name="export_detail"),
    path("export/<int:pk>/status/", views.ExportStatusView.as_view(), name="export_status"),
    path("export/<int:pk>/download/", views.ExportDownloadView.as_view(), name="export_download"),
    path("phone-list/", views.PhoneListView.as_view(), name="phone_list"),
]
