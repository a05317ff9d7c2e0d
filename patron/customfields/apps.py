from django.apps import AppConfig


class CustomFieldsConfig(AppConfig):
    name = "patron.customfields"
    label = "customfields"
    verbose_name = "Custom fields"
