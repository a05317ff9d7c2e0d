from django.apps import AppConfig


class TagsConfig(AppConfig):
    name = "patron.tags"
    label = "tags"
    verbose_name = "Customer tags"
