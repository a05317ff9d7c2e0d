"""What one viewer may read of the event log: customers they cannot see are never named.

The log stores values as the text a person reads (`patron.core.audit`), so
a customer's change of referrer holds the referrer's `str()`, "Meadow Print
Works Ltd (C000001)". An event is shown to whoever may see the customer it
belongs to, so that text would reach a user restricted to other groups who
may not see the referrer. Every surface that shows events (the overview's
event card, /events/, a ticket's history and /api/events/) passes its page of
events through `EventPrivacy.for_events` and shows `privacy.changes(event)`
instead of the stored changes.

A customer's text always ends in its account number, which is unique and
never changes, so a stored text is matched to its customer by that number,
for events written at any time. Two rules:

- a field that refers to customers (a foreign key such as `referred_by`, or a
  reverse relation) names a customer in every value: the value is shown only
  when it ends in the account number of a customer the viewer can see;
- any other text of the exact form "Name (NUMBER)" is masked when NUMBER is
  the account number of a customer the viewer cannot see.

A masked value reads `HIDDEN_CUSTOMER`. For a viewer who sees every customer
nothing is looked up; for anyone else it is one query per page of events.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

HIDDEN_CUSTOMER = "a customer you cannot see"

# Account numbers asked about per query (SQLite limits the parameters of one statement).
NUMBERS_PER_QUERY = 500


def account_number_in(text: str) -> str | None:
    """The NUMBER of a text "Name (NUMBER)" (how a customer reads), else None."""
    if not text.endswith(")"):
        return None
    name, separator, number = text[:-1].rpartition(" (")
    if not separator or not name.strip() or not number.strip():
        return None
    return number


@functools.cache
def _customer_fields(model) -> frozenset[str]:
    """Names of `model`'s fields whose values are customers (forward and reverse)."""
    from patron.customers.models import Customer

    return frozenset(
        field.name
        for field in model._meta.get_fields(include_hidden=True)
        if field.is_relation
        and field.related_model is not None
        and not isinstance(field.related_model, str)
        and issubclass(field.related_model, Customer)
    )


def _names_customers(event) -> frozenset[str]:
    from django.contrib.contenttypes.models import ContentType

    if not event.object_type_id:
        return frozenset()
    # get_for_id is served from the content type cache: no query per event.
    model = ContentType.objects.get_for_id(event.object_type_id).model_class()
    return _customer_fields(model) if model is not None else frozenset()


def _texts(value) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _texts(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _texts(item)


class EventPrivacy:
    """For one viewer and one page of events: which customer texts to mask.

    `visible` and `hidden` are the account numbers, met on the page, of the
    customers the viewer can and cannot see. `EventPrivacy.everything()`
    masks nothing.
    """

    def __init__(
        self,
        *,
        sees_everyone: bool = False,
        visible: frozenset[str] = frozenset(),
        hidden: frozenset[str] = frozenset(),
    ):
        self.sees_everyone = sees_everyone
        self.visible = visible
        self.hidden = hidden

    @classmethod
    def everything(cls) -> EventPrivacy:
        return cls(sees_everyone=True)

    @classmethod
    def for_events(cls, events: Iterable, user) -> EventPrivacy:
        """What `user` may read of `events` (a page: a list, a Page or a queryset)."""
        from django.db.models import Exists, OuterRef

        from patron.customers.models import Customer

        visible = Customer.objects.restrict(user, "view")
        if not visible.query.where:
            # restrict() added no condition at all: this viewer sees every customer.
            return cls.everything()
        numbers = {
            number
            for event in events
            for text in (*_texts(event.changes), event.object_repr or "")
            if (number := account_number_in(text)) is not None
        }
        if not numbers:
            return cls()
        seen, unseen = set(), set()
        ordered = sorted(numbers)
        for start in range(0, len(ordered), NUMBERS_PER_QUERY):
            chunk = ordered[start : start + NUMBERS_PER_QUERY]
            rows = Customer.objects.filter(account_number__in=chunk)
            if visible.query.is_empty():
                unseen.update(rows.values_list("account_number", flat=True))
                continue
            rows = rows.annotate(seen=Exists(visible.filter(pk=OuterRef("pk"))))
            for number, is_seen in rows.values_list("account_number", "seen"):
                (seen if is_seen else unseen).add(number)
        return cls(visible=frozenset(seen), hidden=frozenset(unseen))

    def text(self, value: str, *, names_customer: bool = False) -> str:
        """`value` as the viewer may read it."""
        if self.sees_everyone or not value:
            return value
        number = account_number_in(value)
        if names_customer:
            return value if number in self.visible else HIDDEN_CUSTOMER
        return HIDDEN_CUSTOMER if number in self.hidden else value

    def _value(self, value, names_customer: bool):
        if isinstance(value, str):
            return self.text(value, names_customer=names_customer)
        if isinstance(value, list | tuple):
            return [self._value(item, names_customer) for item in value]
        if isinstance(value, dict):
            return {key: self._value(item, names_customer) for key, item in value.items()}
        return value

    def changes(self, event):
        """The event's `changes` (same shape) with every customer the viewer cannot see masked."""
        changes = event.changes
        if self.sees_everyone:
            return changes
        if not isinstance(changes, dict):
            return self._value(changes, False)
        references = _names_customers(event)
        return {name: self._value(pair, name in references) for name, pair in changes.items()}

    def object_repr(self, event) -> str:
        return self.text(event.object_repr or "")
