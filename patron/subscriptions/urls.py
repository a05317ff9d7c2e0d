from django.urls import path

from patron.subscriptions import views

app_name = "subscriptions"
urlpatterns = [
    path("customer/<int:pk>/", views.CustomerServicesView.as_view(), name="customer"),
    path("customer/<int:pk>/add/", views.CustomerServiceAddView.as_view(), name="add"),
    path("<int:pk>/", views.CustomerServiceEditView.as_view(), name="edit"),
    path("<int:pk>/end/", views.CustomerServiceEndView.as_view(), name="end"),
]
