from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "patron.dashboard"
    verbose_name = "Home page"
