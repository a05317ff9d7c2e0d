"""Patron's URLs: one include per app, the API under /api/."""

from django.urls import path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="customers:list"), name="home"),
]
