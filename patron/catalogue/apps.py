from django.apps import AppConfig


class CatalogueConfig(AppConfig):
    name = "patron.catalogue"
    label = "catalogue"
    verbose_name = "Service catalogue"
