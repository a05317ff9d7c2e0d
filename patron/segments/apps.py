from django.apps import AppConfig

from patron.core.cards import overview_cards


class SegmentsConfig(AppConfig):
    name = "patron.segments"
    label = "segments"
    verbose_name = "Segments"

    def ready(self):
        # The segments card fetches its content itself (htmx, on load), so it needs no context.
        overview_cards.register(
            "segments",
            template="segments/_customer_segments_card.html",
            column="side",
            position=50,
        )
