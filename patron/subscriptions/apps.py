from django.apps import AppConfig


class SubscriptionsConfig(AppConfig):
    name = "patron.subscriptions"
    label = "subscriptions"
    verbose_name = "Customer services"

    def ready(self):
        from patron.core.cards import overview_cards
        from patron.subscriptions.overview import overview_context

        overview_cards.register(
            "services",
            template="subscriptions/_customer_services.html",
            column="main",
            position=6,
            context=overview_context,
        )
