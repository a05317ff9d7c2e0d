from django.apps import AppConfig

from patron.core.cards import overview_cards


class BannersConfig(AppConfig):
    name = "patron.banners"
    label = "banners"
    verbose_name = "Alert banners"

    def ready(self):
        # The card module imports models, which exist only once Django calls ready().
        from patron.banners.overview import overview_context

        overview_cards.register(
            "banners",
            template="banners/_customer_banners.html",
            column="top",
            position=10,
            context=overview_context,
        )
