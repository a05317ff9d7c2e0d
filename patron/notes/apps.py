from django.apps import AppConfig

from patron.core.cards import overview_cards


class NotesConfig(AppConfig):
    name = "patron.notes"
    label = "notes"
    verbose_name = "Notes"

    def ready(self):
        # The card module imports models, which exist only once Django calls ready().
        from patron.notes.overview import overview_context

        overview_cards.register(
            "notes",
            template="notes/_customer_notes.html",
            column="main",
            position=10,
            context=overview_context,
        )
