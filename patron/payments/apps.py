from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "patron.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self):
        from patron.billing.runs import AFTER_CHUNK
        from patron.core.cards import overview_cards
        from patron.groups.services import delete_guards
        from patron.payments.credit import apply_held_credit
        from patron.payments.overview import overview_context
        from patron.payments.services import group_used_by_payments

        if group_used_by_payments not in delete_guards:
            delete_guards.append(group_used_by_payments)
        if apply_held_credit not in AFTER_CHUNK:
            AFTER_CHUNK.append(apply_held_credit)
        overview_cards.register(
            "payments",
            template="payments/_customer_card.html",
            column="main",
            position=8,  # after the invoices (7)
            context=overview_context,
        )
