from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "patron.search"
    label = "search"
    verbose_name = "Customer search"
