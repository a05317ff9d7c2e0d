from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "patron.groups"
    label = "groups"
    verbose_name = "Customer groups"
