from django.apps import AppConfig
from django.core import checks


class LedgerConfig(AppConfig):
    name = "patron.ledger"
    label = "ledger"
    verbose_name = "Ledger"

    def ready(self):
        from patron.core.cards import overview_cards
        from patron.ledger.overview import overview_context

        checks.register(check_currency_setting)
        overview_cards.register(
            "billing",
            template="ledger/_billing_card.html",
            column="main",
            position=5,
            context=overview_context,
        )


def check_currency_setting(app_configs=None, **kwargs):
    """PATRON_CURRENCY must be a currency whose minor unit Patron knows."""
    from patron.core.money import minor_unit

    try:
        minor_unit()
    except ValueError as exc:
        return [checks.Error(str(exc), id="patron.E101")]
    return []
