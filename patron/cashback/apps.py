from django.apps import AppConfig


class CashbackConfig(AppConfig):
    name = "patron.cashback"
    label = "cashback"
    verbose_name = "Cashback"

    def ready(self):
        # The card module imports models, which exist only once Django calls ready().
        from patron.cashback.models import CashbackRun
        from patron.cashback.overview import overview_context
        from patron.core.cards import overview_cards
        from patron.groups.services import delete_guards

        def used_by_cashback(group):
            # ORG-8: a group a cashback ran for is kept (archived or renamed), never deleted.
            if CashbackRun.objects.filter(group=group).exists():
                return f"A cashback ran for “{group}”, so it is kept: archive it instead."
            return None

        if not any(getattr(g, "__name__", "") == "used_by_cashback" for g in delete_guards):
            delete_guards.append(used_by_cashback)

        overview_cards.register(
            "cashback",
            template="cashback/_customer_card.html",
            column="main",
            position=8,  # after the ledger's Billing card (5), the services (6), invoices (7)
            context=overview_context,
        )
