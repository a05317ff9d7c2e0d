"""A customer's ledger page (every entry with its running balance) and manual adjustments."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse

from patron.core.errors import ValidationError
from patron.core.views import PatronView, apply_form_errors, get_restricted_object
from patron.customers.models import Customer
from patron.ledger import services
from patron.ledger.forms import AdjustmentForm
from patron.ledger.models import Balance, Book, LedgerEntry

PAGE_SIZE = 50


def ledger_page_context(request, customer, book: str, page_number) -> dict:
    """One page of the book, newest first: two small queries (balance row, the page)
    whatever the number of entries; the count comes from the balance row."""
    balance = Balance.objects.filter(customer=customer, book=book).first()
    entries = (
        LedgerEntry.objects.restrict(request.user)
        .filter(customer=customer, book=book)
        .select_related("actor_user")
        .order_by("-id")
    )
    paginator = Paginator(entries, PAGE_SIZE)
    paginator.count = balance.entry_count if balance else 0  # exact: kept with every entry
    page = paginator.get_page(page_number)
    return {
        "customer": customer,
        "book": book,
        "books": Book.choices,
        "balance": balance.amount if balance else 0,
        "entries": page.object_list,
        "page_obj": page,
        "query": f"book={book}",
    }


class CustomerLedgerView(PatronView):
    """All entries of a customer's book with the running balance, 50 a page."""

    model = LedgerEntry

    def get(self, request, pk):
        customer = get_restricted_object(request, Customer, "view", pk=pk)
        book = request.GET.get("book") or Book.MONEY
        if book not in Book.values:
            book = Book.MONEY
        context = {
            **ledger_page_context(request, customer, book, request.GET.get("page")),
            "title": f"Ledger of {customer.name}",
            "can_adjust": services.can_adjust(request.user),
            "form": AdjustmentForm(),
        }
        return TemplateResponse(request, "ledger/customer_ledger.html", context)


class LedgerAdjustView(PatronView):
    """POST a manual adjustment; a refusal comes back on the ledger page's form."""

    model = LedgerEntry

    def post(self, request, pk):
        customer = get_restricted_object(request, Customer, "view", pk=pk)
        if not services.can_adjust(request.user):
            raise PermissionDenied("Your role does not allow you to adjust balances.")
        form = AdjustmentForm(request.POST)
        if form.is_valid():
            try:
                entry = services.ledger_adjust(
                    actor=self.actor,
                    customer=customer,
                    amount=form.cleaned_data["amount"],
                    reason=form.cleaned_data["reason"],
                    effective_date=form.cleaned_data["effective_date"],
                )
            except ValidationError as exc:
                apply_form_errors(form, exc)
            else:
                messages.success(request, f"Posted {entry}.")
                return HttpResponseRedirect(entry.get_absolute_url())
        context = {
            **ledger_page_context(request, customer, Book.MONEY, 1),
            "title": f"Ledger of {customer.name}",
            "can_adjust": True,
            "form": form,
            "adjust_open": True,
        }
        return TemplateResponse(request, "ledger/customer_ledger.html", context, status=400)
