from django.apps import AppConfig


class TasksConfig(AppConfig):
    name = "patron.tasks"
    label = "tasks"
    verbose_name = "Tasks"
