from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "patron.billing"
    label = "billing"
    verbose_name = "Billing"

    def ready(self):
        # The card module imports models, which exist only once Django calls ready().
        from patron.billing.overview import overview_context
        from patron.core.cards import overview_cards

        overview_cards.register(
            "invoices",
            template="billing/_customer_card.html",
            column="main",
            position=7,  # after the ledger's Billing card (5) and the services (6)
            context=overview_context,
        )
