from django.apps import AppConfig


class DepartmentsConfig(AppConfig):
    name = "patron.departments"
    label = "departments"
    verbose_name = "Departments"
