from django.urls import path

from patron.ledger import views

app_name = "ledger"
urlpatterns = [
    path("customer/<int:pk>/", views.CustomerLedgerView.as_view(), name="customer"),
    path("customer/<int:pk>/adjust/", views.LedgerAdjustView.as_view(), name="adjust"),
]
