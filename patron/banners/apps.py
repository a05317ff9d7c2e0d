from django.apps import AppConfig


class BannersConfig(AppConfig):
    name = "patron.banners"
    label = "banners"
    verbose_name = "Alert banners"
