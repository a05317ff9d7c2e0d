from django.urls import path

from patron.banners import views

app_name = "banners"
urlpatterns = [
    path("", views.BannerRuleListView.as_view(), name="list"),
    path("add/", views.BannerRuleEditView.as_view(), name="add"),
    path("<int:pk>/", views.BannerRuleEditView.as_view(), name="edit"),
    path("<int:pk>/delete/", views.BannerRuleDeleteView.as_view(), name="delete"),
]
