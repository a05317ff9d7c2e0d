"""The "Billing" card on the customer overview: balance and recent activities.

Two queries whatever the size of the ledger: the balance row and the last
few entries (each carries its running balance, so nothing is summed).
"""

from patron.ledger.models import Balance, Book, LedgerEntry
from patron.ledger.services import can_adjust

RECENT_ENTRIES = 5


def overview_context(request, customer) -> dict:
    if not request.user.has_perm("ledger.view_ledgerentry"):
        return {"billing_visible": False}
    balance = Balance.objects.filter(customer=customer, book=Book.MONEY).first()
    entries = list(
        LedgerEntry.objects.restrict(request.user)
        .filter(customer=customer, book=Book.MONEY)
        .order_by("-id")[:RECENT_ENTRIES]
    )
    return {
        "billing_visible": True,
        "billing_balance": balance.amount if balance else 0,
        "billing_entry_count": balance.entry_count if balance else 0,
        "billing_entries": entries,
        "billing_can_adjust": can_adjust(request.user),
    }
