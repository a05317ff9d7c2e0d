from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "patron.calls"
    label = "calls"
    verbose_name = "Call logs"
