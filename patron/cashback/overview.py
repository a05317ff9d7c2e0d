"""The "Cashback" card on the customer overview: what is held and the last entries.

Two queries whatever the size of the ledger: the cashback balance row and the
last few entries of the cashback book (each with its comment and actor).
"""

from django.urls import NoReverseMatch, reverse

from patron.cashback.services import can_run
from patron.ledger.models import Balance, Book, LedgerEntry

RECENT_ENTRIES = 5


def overview_context(request, customer) -> dict:
    if not request.user.has_perm("ledger.view_ledgerentry"):
        return {"cashback_visible": False}
    balance = Balance.objects.filter(customer=customer, book=Book.CASHBACK).first()
    entries = list(
        LedgerEntry.objects.restrict(request.user)
        .filter(customer=customer, book=Book.CASHBACK)
        .order_by("-id")[:RECENT_ENTRIES]
    )
    return {
        "cashback_visible": True,
        "cashback_balance": balance.amount if balance else 0,
        "cashback_entry_count": balance.entry_count if balance else 0,
        "cashback_entries": entries,
        "cashback_run_url": run_url(f"?ids={customer.pk}") if can_run(request.user) else "",
    }


def run_url(query: str = "") -> str:
    """The cashback page (empty where an installation's URLs do not mount it)."""
    try:
        return reverse("cashback:run") + query
    except NoReverseMatch:
        return ""
