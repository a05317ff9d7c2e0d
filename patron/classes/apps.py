from django.apps import AppConfig


class ClassesConfig(AppConfig):
    name = "patron.classes"
    label = "classes"
    verbose_name = "Customer classes"
