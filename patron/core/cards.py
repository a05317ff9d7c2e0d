"""The cards on a customer's overview page, registered by the apps that draw them.

A customer's overview is a page of cards: the customer's own (profile, tags,
groups, status, contacts) and those of the apps built on customers (notes,
tasks, tickets, calls, alert banners, custom fields, segments, the event
log). The customers app names none of them: each app registers its cards
from its `AppConfig.ready()`, and the overview draws whatever is registered,
column by column, in `position` order.

    from patron.core.cards import overview_cards

    class NotesConfig(AppConfig):
        def ready(self):
            from patron.notes.overview import overview_context

            overview_cards.register(
                "notes",
                template="notes/_customer_notes.html",
                column="main",
                position=10,
                context=overview_context,
            )

`context(request, customer)` returns what the card's template needs, in a
fixed number of queries whatever the customer holds (the query-count tests
keep the page that way). Its keys share one page context, so an app prefixes
them with its own name (`notes`, `notes_more`, `note_form`). A card without
a `context` only reads what the page already has: the customer and, for the
customers app's own cards, `customers.views.overview.card_context`.
`refresh_context`, when given, is used instead when the card is fetched on
its own (`customers.views.overview.OverviewCardView`: htmx refreshes, paging).

This module imports no app: the arrows point from the apps to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured

# Under the customer's top row (alert banners), the narrow left column, the wide right one.
COLUMNS = ("top", "side", "main")

CardContext = Callable[[Any, Any], dict]


@dataclass(frozen=True)
class OverviewCard:
    name: str
    template: str
    column: str
    position: int
    context: CardContext | None = None
    refresh_context: CardContext | None = None

    def context_for(self, request, customer, *, alone: bool = False) -> dict:
        """The card's own context; `alone` when the card is fetched without its page."""
        build = (self.refresh_context or self.context) if alone else self.context
        return build(request, customer) if build is not None else {}


class OverviewCards:
    """The registry: one per process (`overview_cards`), filled while Django starts."""

    def __init__(self) -> None:
        self._cards: dict[str, OverviewCard] = {}

    def register(
        self,
        name: str,
        *,
        template: str,
        column: str,
        position: int,
        context: CardContext | None = None,
        refresh_context: CardContext | None = None,
    ) -> OverviewCard:
        if column not in COLUMNS:
            raise ImproperlyConfigured(
                f"Overview card {name!r}: column must be one of {', '.join(COLUMNS)}."
            )
        card = OverviewCard(name, template, column, position, context, refresh_context)
        known = self._cards.get(name)
        if known is not None and known != card:
            raise ImproperlyConfigured(f"Two different overview cards are called {name!r}.")
        self._cards[name] = card
        return card

    def unregister(self, name: str) -> None:
        self._cards.pop(name, None)

    def get(self, name: str) -> OverviewCard:
        try:
            return self._cards[name]
        except KeyError:
            raise ImproperlyConfigured(f"No overview card is called {name!r}.") from None

    def ordered(self) -> list[OverviewCard]:
        """Every card, column by column, each column by position (then name)."""
        return sorted(
            self._cards.values(), key=lambda c: (COLUMNS.index(c.column), c.position, c.name)
        )

    def columns(self) -> dict[str, list[OverviewCard]]:
        """`{"top": [...], "side": [...], "main": [...]}` for the overview template."""
        columns: dict[str, list[OverviewCard]] = {column: [] for column in COLUMNS}
        for card in self.ordered():
            columns[card.column].append(card)
        return columns

    def context(self, request, customer, *, column: str | None = None) -> dict:
        """What every registered card (or every card of one `column`) adds to a page's
        context; a customer's other tabs draw the `top` column under their top row too."""
        context: dict = {}
        for card in self.ordered():
            if column is None or card.column == column:
                context.update(card.context_for(request, customer))
        return context


overview_cards = OverviewCards()
