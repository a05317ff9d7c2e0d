from django.apps import AppConfig

from patron.core.cards import overview_cards


class TicketsConfig(AppConfig):
    name = "patron.tickets"
    label = "tickets"
    verbose_name = "Tickets"

    def ready(self):
        # The card module imports models, which exist only once Django calls ready().
        from patron.tickets.overview import overview_context

        overview_cards.register(
            "tickets",
            template="tickets/_customer_tickets.html",
            column="main",
            position=20,
            context=overview_context,
        )
