from django.apps import AppConfig


class StatusesConfig(AppConfig):
    name = "patron.statuses"
    label = "statuses"
    verbose_name = "Customer statuses"
