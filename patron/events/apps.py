from django.apps import AppConfig

from patron.core.cards import overview_cards


class EventsConfig(AppConfig):
    name = "patron.events"
    label = "events"
    verbose_name = "Event log"

    def ready(self):
        # The card module imports models, which exist only once Django calls ready().
        from patron.events.overview import overview_context, refresh_context

        overview_cards.register(
            "events",
            template="events/_customer_events_card.html",
            column="main",
            position=60,
            context=overview_context,
            refresh_context=refresh_context,
        )
