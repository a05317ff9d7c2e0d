from django.apps import AppConfig

from patron.core.cards import overview_cards


class CustomFieldsConfig(AppConfig):
    name = "patron.customfields"
    label = "customfields"
    verbose_name = "Custom fields"

    def ready(self):
        # The card module imports models, which exist only once Django calls ready().
        from patron.customfields.overview import overview_context

        overview_cards.register(
            "custom_fields",
            template="customfields/_customer_card.html",
            column="side",
            position=20,
            context=overview_context,
        )
