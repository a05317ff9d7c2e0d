"""The money fields of the segment language: what customers buy and what they owe.

    service:"Fibre 500"     has a current (active or suspended) service of that name or code
    service_count>2         number of current services (`=`, `<`, `<=`, `>`, `>=`)
    balance>100             money balance (positive: the customer owes), same operators
    cashback>=10            cashback held

Fast at a million customers: `balance` reads the narrow balance table
through its (book, amount, customer) index, never the ledger, and
`service_count` groups the customer-service index. A customer with no
balance row has a balance of zero, and one without services a count of
zero, so a comparison that zero satisfies (`balance<5`, `service_count=0`)
is written as "not among those that fail it": every customer without a row
is then included, as they should be.
"""

from __future__ import annotations

import operator
from decimal import Decimal

from django.db.models import Count, Q

from patron.segments.language.errors import SegmentError

KINDS = frozenset({"service", "count", "amount"})
BOOKS = {"balance": "money", "cashback": "cashback"}
LOOKUPS = {"=": "exact", "<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}
COMPARE = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
WORDS = {
    "=": "is",
    "<": "below",
    "<=": "at most",
    ">": "above",
    ">=": "at least",
    ":": "is",
}


def _number(term, *, whole: bool) -> Decimal | int:
    from patron.segments.language.fields import number

    value = number(term.value)
    if value is None or (whole and not isinstance(value, int)):
        kind = "a whole number" if whole else "a number"
        raise SegmentError(
            f"'{term.field}{term.op}' compares {kind}; '{term.value}' at column "
            f"{term.value_column} is not {kind}",
            term.value_column,
        )
    return value


def check_value(spec, term) -> None:
    if spec.kind == "service" and not term.value.strip():
        raise SegmentError(f"empty service name at column {term.value_column}", term.value_column)
    if spec.kind in {"count", "amount"}:
        _number(term, whole=spec.kind == "count")


def _op(term) -> str:
    return "=" if term.op == ":" else term.op


def _compare(rows, column: str, term, value) -> Q:
    """Customers whose `column` (zero when they have no row) compares to `value`."""
    op = _op(term)
    matches = Q(**{f"{column}__{LOOKUPS[op]}": value})
    if COMPARE[op](0, value):
        return ~Q(pk__in=rows.exclude(matches).values("customer_id"))
    return Q(pk__in=rows.filter(matches).values("customer_id"))


def _services(user):
    from patron.catalogue.models import Service
    from patron.core.actor import who_or_system

    return Service.objects.restrict(who_or_system(user))


def term_q(compiler, spec, term) -> Q:
    from patron.subscriptions.models import CustomerService

    current = CustomerService.objects.exclude(status=CustomerService.Status.ENDED)
    if spec.kind == "service":
        wanted = term.value.strip()
        matching = list(
            _services(compiler.user)
            .filter(Q(name__iexact=wanted) | Q(code__iexact=wanted))
            .values_list("pk", flat=True)
        )
        if not matching:
            names = list(_services(compiler.user).values_list("name", flat=True))
            from difflib import get_close_matches

            guess = get_close_matches(wanted.casefold(), [n.casefold() for n in names], n=1)
            suggestion = next((n for n in names if guess and n.casefold() == guess[0]), None)
            message = f"unknown service '{term.value}' at column {term.value_column}"
            if suggestion:
                message += f"; did you mean '{suggestion}'?"
            raise SegmentError(message, term.value_column, suggestion)
        return Q(pk__in=current.filter(service_id__in=matching).values("customer_id"))
    if spec.kind == "count":
        counts = current.values("customer_id").annotate(n=Count("id"))
        return _compare(counts, "n", term, _number(term, whole=True))
    from patron.ledger.models import Balance

    rows = Balance.objects.filter(book=BOOKS[spec.name])
    return _compare(rows, "amount", term, _number(term, whole=False))


def label(spec, term) -> str:
    if spec.kind == "service":
        return f"has service {term.value}"
    return f"{spec.label} {WORDS[term.op]} {term.value}"


def actual(spec, term, customer_id) -> str:
    """What the customer has instead (for the explain view): one small query."""
    from patron.core.money import format_money

    if spec.kind == "service":
        return f"no current service {term.value}"
    if spec.kind == "count":
        from patron.subscriptions.models import CustomerService

        n = (
            CustomerService.objects.filter(customer_id=customer_id)
            .exclude(status=CustomerService.Status.ENDED)
            .count()
        )
        return f"{n} current service{'' if n == 1 else 's'}, needs {WORDS[term.op]} {term.value}"
    from patron.ledger.models import Balance

    amount = (
        Balance.objects.filter(customer_id=customer_id, book=BOOKS[spec.name])
        .values_list("amount", flat=True)
        .first()
    )
    shown = format_money(amount if amount is not None else Decimal(0))
    return f"{spec.label} is {shown}, needs {WORDS[term.op]} {term.value}"
