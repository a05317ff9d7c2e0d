from django.apps import AppConfig

from patron.core.cards import overview_cards


class CallsConfig(AppConfig):
    name = "patron.calls"
    label = "calls"
    verbose_name = "Call logs"

    def ready(self):
        # The card module imports models, which exist only once Django calls ready().
        from patron.calls.overview import overview_context

        overview_cards.register(
            "calls",
            template="calls/_customer_calls.html",
            column="main",
            position=40,
            context=overview_context,
        )
