from django.urls import path

from patron.billing import views

app_name = "billing"
urlpatterns = [
    path("", views.BillingRunListView.as_view(), name="runs"),
    path("preview/<int:pk>/", views.BillingPreviewView.as_view(), name="preview"),
    path(
        "preview/<int:pk>/progress/",
        views.BillingPreviewProgressView.as_view(),
        name="preview_progress",
    ),
    path("runs/<int:pk>/", views.BillingRunDetailView.as_view(), name="run"),
    path("invoices/", views.InvoiceListView.as_view(), name="invoices"),
    path("invoices/<int:pk>/", views.InvoiceDetailView.as_view(), name="invoice"),
    path("invoices/<int:pk>/pdf/", views.InvoicePdfView.as_view(), name="invoice_pdf"),
    path("invoices/<int:pk>/credit/", views.InvoiceCreditView.as_view(), name="invoice_credit"),
    path("usage/", views.UsageChargeListView.as_view(), name="usage"),
]
