from django.apps import AppConfig

from patron.core.cards import overview_cards

# The customer's own overview cards: (name, template, column, position). They
# read the page's own context (`views.overview.card_context`), which also
# re-renders each of them after an action posted from it.
OWN_CARDS = (
    ("profile", "customers/_profile_card.html", "side", 10),
    ("tags", "customers/_tags_card.html", "side", 30),
    ("groups", "customers/_groups_card.html", "side", 40),
    ("status", "customers/_status_card.html", "side", 60),
    ("customer_notes", "customers/_notes_card.html", "side", 70),
    ("contacts", "customers/_contacts_card.html", "main", 50),
)


class CustomersConfig(AppConfig):
    name = "patron.customers"
    label = "customers"
    verbose_name = "Customers"

    def ready(self):
        for name, template, column, position in OWN_CARDS:
            overview_cards.register(name, template=template, column=column, position=position)
