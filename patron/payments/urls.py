from django.urls import path

from patron.payments import views

app_name = "payments"

urlpatterns = [
    path("", views.PaymentListView.as_view(), name="list"),
    path("new/", views.PaymentRecordView.as_view(), name="record"),
    path("<int:pk>/", views.PaymentDetailView.as_view(), name="detail"),
    path("<int:pk>/refund/", views.PaymentRefundView.as_view(), name="refund"),
    path("<int:pk>/reverse/", views.PaymentReverseView.as_view(), name="reverse"),
    path("groups/<int:pk>/", views.GroupPaymentView.as_view(), name="group"),
    path("groups/<int:pk>/statement/", views.GroupStatementView.as_view(), name="statement"),
    path("methods/", views.MethodListView.as_view(), name="methods"),
    path("methods/new/", views.MethodEditView.as_view(), name="method_create"),
    path("methods/<int:pk>/", views.MethodEditView.as_view(), name="method_edit"),
]
