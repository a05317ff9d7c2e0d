"""Posting to the ledger: the one way money moves on a customer's account.

`ledger_post()` posts one entry; `ledger_post_many()` posts any number in one
transaction with a fixed number of statements per thousand entries (the
billing run and cashback runs call it). Both lock the (customer, book)
balance rows first, in customer order, so two postings racing for the same
customer queue behind each other and every running balance is exact.

These are building blocks: the service that causes the money to move (an
invoice, a payment, `ledger_adjust`) checks who may do it and writes the
event; `ledger_post_many` checks only that the actor may see the customers.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone

from patron.core import audit
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.core.money import format_money, is_exact, parse_amount, to_money
from patron.customers.models import Customer
from patron.ledger.models import KIND_RULES, Balance, Book, Kind, LedgerEntry

CHUNK = 2000  # customers per IN (...) list: well inside every database's parameter limit


@dataclass(frozen=True)
class Posting:
    """One entry to post: the customer (by id), its kind and signed amount, and its text.

    `amount` must already be in the currency's minor unit (round each line
    with `to_money` first, the documented rule); `source` is the document
    that caused it (an invoice, a payment), `reverses_id` the entry it undoes.
    """

    customer_id: int
    kind: str
    amount: Decimal
    effective_date: date | None = None
    description: str = ""
    reason: str = ""
    source: models.Model | None = field(default=None, compare=False)
    reverses_id: int | None = None


def _check_posting(book: str, posting: Posting) -> None:
    if book not in Book.values:
        raise ValidationError({"book": f"“{book}” is not a ledger book."})
    rule = KIND_RULES.get(posting.kind)
    if rule is None:
        raise ValidationError({"kind": f"“{posting.kind}” is not a kind of ledger entry."})
    rule_book, sign = rule
    label = Kind(posting.kind).label
    if rule_book != book:
        raise ValidationError(
            {"kind": f"{label} entries belong in the {Book(rule_book).label.lower()} book."}
        )
    amount = posting.amount
    if not isinstance(amount, Decimal | int) or isinstance(amount, bool):
        raise ValidationError({"amount": f"An amount is a Decimal, not {type(amount).__name__}."})
    if not is_exact(amount):
        raise ValidationError(
            {"amount": f"{amount} has more decimals than the currency; round each line first."}
        )
    if amount == 0:
        raise ValidationError({"amount": "An entry of zero moves nothing; it is not posted."})
    if sign and (amount > 0) != (sign > 0):
        direction = "positive" if sign > 0 else "negative"
        raise ValidationError(
            {"amount": f"{label} entries are {direction} (got {format_money(amount)})."}
        )


def _chunks(values: list, size: int = CHUNK):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _lock_balances(book: str, customer_ids: list[int]) -> dict[int, Balance]:
    """The balance rows of these customers' book, created if missing, locked in id order."""
    rows: dict[int, Balance] = {}
    for chunk in _chunks(customer_ids):
        have = set(
            Balance.objects.filter(book=book, customer_id__in=chunk).values_list(
                "customer_id", flat=True
            )
        )
        missing = [Balance(customer_id=c, book=book) for c in chunk if c not in have]
        if missing:
            Balance.objects.bulk_create(missing, ignore_conflicts=True)
        locked = (
            Balance.objects.select_for_update()
            .filter(book=book, customer_id__in=chunk)
            .order_by("customer_id")
        )
        rows.update({b.customer_id: b for b in locked})
    return rows


def _check_reach(actor: Actor, customer_ids: list[int]) -> None:
    if actor.user is None:
        return
    visible = 0
    for chunk in _chunks(customer_ids):
        visible += Customer.objects.restrict(actor, "view").filter(pk__in=chunk).count()
    if visible != len(customer_ids):
        raise PermissionDenied("You may not post to customers outside your reach; nothing moved.")


def ledger_post_many(
    *,
    actor: Actor,
    book: str = Book.MONEY,
    postings: Iterable[Posting],
    batch: uuid.UUID | None = None,
    posted_at=None,
) -> list[LedgerEntry]:
    """Post every entry, or none: one transaction, balances locked and updated with them.

    Entries of one customer are posted in the order given; each gets the
    running balance after it. Returns the entries (with their ids), all
    sharing `batch` (a new one unless given) so a run can be found or undone.
    """
    postings = list(postings)
    if not postings:
        return []
    for posting in postings:
        _check_posting(book, posting)
    customer_ids = sorted({p.customer_id for p in postings})
    batch = batch or uuid.uuid4()
    posted_at = posted_at or timezone.now()
    today = timezone.localdate()
    actor_user = actor.user if actor.user is not None and actor.user.pk else None
    content_types: dict[type, ContentType] = {}
    with transaction.atomic():
        _check_reach(actor, customer_ids)
        balances = _lock_balances(book, customer_ids)
        if len(balances) != len(customer_ids):
            raise ValidationError("A posting names a customer that does not exist; nothing moved.")
        running = {c: balances[c].amount for c in customer_ids}
        entries = []
        for posting in postings:
            running[posting.customer_id] += posting.amount
            source_type = source_id = None
            if posting.source is not None:
                model = type(posting.source)
                if model not in content_types:
                    content_types[model] = ContentType.objects.get_for_model(model)
                source_type, source_id = content_types[model], posting.source.pk
            entries.append(
                LedgerEntry(
                    customer_id=posting.customer_id,
                    book=book,
                    kind=posting.kind,
                    amount=to_money(posting.amount),
                    running_balance=to_money(running[posting.customer_id]),
                    effective_date=posting.effective_date or today,
                    posted_at=posted_at,
                    description=posting.description[:200],
                    reason=posting.reason,
                    actor_user=actor_user,
                    actor_label=actor.label[:200],
                    batch=batch,
                    source_type=source_type,
                    source_id=source_id,
                    reverses_id=posting.reverses_id,
                )
            )
        LedgerEntry.objects.bulk_create(entries, batch_size=1000)
        last: dict[int, LedgerEntry] = {}
        counts: dict[int, int] = {}
        for entry in entries:
            last[entry.customer_id] = entry
            counts[entry.customer_id] = counts.get(entry.customer_id, 0) + 1
        changed = []
        for customer_id, balance in balances.items():
            balance.amount = to_money(running[customer_id])
            balance.entry_count += counts[customer_id]
            balance.last_entry = last[customer_id]
            balance.last_posted_at = posted_at
            changed.append(balance)
        Balance.objects.bulk_update(
            changed, ["amount", "entry_count", "last_entry", "last_posted_at"], batch_size=1000
        )
    return entries


def ledger_post(
    *,
    actor: Actor,
    customer: Customer,
    kind: str,
    amount: Decimal,
    book: str = Book.MONEY,
    effective_date: date | None = None,
    description: str = "",
    reason: str = "",
    source: models.Model | None = None,
    reverses: LedgerEntry | None = None,
) -> LedgerEntry:
    """Post one entry to the customer's book (see `ledger_post_many`)."""
    (entry,) = ledger_post_many(
        actor=actor,
        book=book,
        postings=[
            Posting(
                customer_id=customer.pk,
                kind=kind,
                amount=amount,
                effective_date=effective_date,
                description=description,
                reason=reason,
                source=source,
                reverses_id=reverses.pk if reverses is not None else None,
            )
        ],
    )
    return entry


def balance_of(customer: Customer, book: str = Book.MONEY) -> Decimal:
    """The customer's current balance of `book` (zero without any entry)."""
    row = Balance.objects.filter(customer=customer, book=book).values_list("amount", flat=True)
    return to_money(row.first() or 0)


def can_adjust(who) -> bool:
    return who is not None and who.has_perm("ledger.adjust_balance")


def ledger_adjust(
    *,
    actor: Actor,
    customer: Customer,
    amount,
    reason: str,
    effective_date: date | None = None,
    description: str = "",
) -> LedgerEntry:
    """A manual adjustment of the customer's money balance, with its reason.

    `amount` follows the sign convention (positive: the customer owes more);
    text is read with `parse_amount`, so "12.345" is refused, not rounded.
    Only roles with "Can post manual adjustments" (Owners, Administrators,
    any finance role given it) may; the event log records it on the customer.
    """
    if not can_adjust(actor):
        raise PermissionDenied("Your role does not allow you to adjust balances.")
    reason = (reason or "").strip()
    errors = {}
    if not reason:
        errors["reason"] = "Say why the balance is adjusted; the reason is kept with the entry."
    try:
        value = parse_amount(amount, label="Amount")
        if value == 0:
            raise ValidationError("Amount: an adjustment of zero changes nothing.")
    except ValidationError as exc:
        errors["amount"] = exc.messages
    if errors:
        raise ValidationError(errors)
    if not Customer.objects.restrict(actor, "change").filter(pk=customer.pk).exists():
        raise PermissionDenied("You may not adjust this customer's balance.")
    with transaction.atomic():
        before = balance_of(customer)
        entry = ledger_post(
            actor=actor,
            customer=customer,
            kind=Kind.ADJUSTMENT,
            amount=value,
            effective_date=effective_date,
            description=description or "Manual adjustment",
            reason=reason,
        )
        audit.record(
            actor=actor,
            action="balance_adjusted",
            obj=entry,
            customer=customer,
            changes={"balance": [str(before), str(to_money(entry.running_balance))]},
            message=f"Adjusted the balance by {format_money(value, signed=True)}",
            reason=reason,
        )
    return entry


def balances_out_of_step(book: str = Book.MONEY) -> list[int]:
    """Customers whose balance row differs from the sum, count or last running balance of
    their entries: always empty, since both are written in one transaction. For checks
    after a run and for the benchmarks; one grouped query over the book."""
    from django.db.models import Count, Max, Sum

    sums = {
        row["customer_id"]: row
        for row in LedgerEntry.objects.filter(book=book)
        .values("customer_id")
        .annotate(total=Sum("amount"), n=Count("id"), last=Max("id"))
    }
    wrong = []
    for balance in Balance.objects.filter(book=book):
        row = sums.pop(balance.customer_id, None)
        expected = (
            (to_money(row["total"]), row["n"], row["last"]) if row else (to_money(0), 0, None)
        )
        if (to_money(balance.amount), balance.entry_count, balance.last_entry_id) != expected:
            wrong.append(balance.customer_id)
    return sorted(wrong + list(sums))


def ledger_post_selected(
    *,
    actor: Actor,
    kind: str,
    select_sql: str,
    params: Iterable = (),
    book: str = Book.MONEY,
    source_model: type[models.Model] | None = None,
    batch: uuid.UUID | None = None,
    reason: str = "",
) -> int:
    """Post one entry per customer that `select_sql` yields, set-based: a fixed number of
    statements however many customers (the billing run's invoices, a cashback run).

    `select_sql` yields `customer_id, amount, effective_date, description, source_id`,
    at most one row per customer, each amount already rounded to the minor unit and of
    the kind's sign. Call it inside the caller's transaction; the balance rows are
    created if missing and locked in customer order first, as `ledger_post_many` does,
    and every entry's running balance and every balance row are worked out in whole
    minor units (`patron.core.money_sql`). Returns how many entries were posted.
    `reason` is kept on every entry (a cashback run's comment). An actor restricted
    to groups is refused, with nothing posted, unless every selected customer is one
    they may change (a cashback run selects only those).
    """
    from django.db import connection

    from patron.core.money_sql import sql_from_minor, sql_minor

    rule = KIND_RULES.get(kind)
    if rule is None or rule[0] != book:
        raise ValidationError({"kind": f"“{kind}” entries do not belong in the {book} book."})
    restricted = actor.user is not None and getattr(actor.user, "has_customer_restriction", False)
    sign = rule[1]
    pg = connection.vendor == "postgresql"
    update_from = not pg and getattr(connection.Database, "sqlite_version_info", (0,)) >= (3, 33)
    batch = batch or uuid.uuid4()
    now = timezone.now()
    entry_field = LedgerEntry._meta
    batch_value = entry_field.get_field("batch").get_db_prep_value(batch, connection)
    now_value = entry_field.get_field("posted_at").get_db_prep_value(now, connection)
    actor_user = actor.user.pk if actor.user is not None and actor.user.pk else None
    source_type = ContentType.objects.get_for_model(source_model).pk if source_model else None
    temp = "ledger_posting_set"
    entries = connection.ops.quote_name(LedgerEntry._meta.db_table)
    balances = connection.ops.quote_name(Balance._meta.db_table)
    if not connection.in_atomic_block:
        raise RuntimeError("ledger_post_selected must run inside the caller's transaction.")
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {temp}")
        cursor.execute(
            f"CREATE TEMPORARY TABLE {temp} (customer_id BIGINT PRIMARY KEY, "
            "amount_minor BIGINT NOT NULL, effective_date DATE NOT NULL, "
            "description VARCHAR(200) NOT NULL, source_id BIGINT)"
            + (" ON COMMIT DROP" if pg else "")
        )
        cursor.execute(
            f"INSERT INTO {temp} (customer_id, amount_minor, effective_date, description, "
            f"source_id) SELECT s.customer_id, {sql_minor('s.amount')}, s.effective_date, "
            f"SUBSTR(s.description, 1, 200), CAST(s.source_id AS BIGINT) FROM ({select_sql}) s",
            list(params),
        )
        count = max(cursor.rowcount, 0)
        if restricted:
            reach, reach_params = (
                Customer.objects.restrict(actor, "change").values("pk").query.sql_with_params()
            )
            cursor.execute(
                f"SELECT COUNT(*) FROM {temp} WHERE customer_id NOT IN ({reach})", reach_params
            )
            if cursor.fetchone()[0]:
                raise PermissionDenied(
                    "A posting names customers outside your groups; nothing was posted."
                )
        cursor.execute(
            f"SELECT COUNT(*) FROM {temp} WHERE amount_minor = 0"
            + (f" OR amount_minor {'<' if sign > 0 else '>'} 0" if sign else "")
        )
        (bad,) = cursor.fetchone()
        if bad:
            raise ValidationError(
                {
                    "amount": f"{bad} {Kind(kind).label.lower()} entries have the wrong "
                    "sign or are zero; nothing was posted."
                }
            )
        if count:
            cursor.execute(
                f"INSERT INTO {balances} (customer_id, book, amount, entry_count) "
                f"SELECT t.customer_id, %s, 0, 0 FROM {temp} t "
                # WHERE: SQLite reads "FROM t ON CONFLICT" as a join without it.
                "WHERE TRUE ON CONFLICT (customer_id, book) DO NOTHING",
                [book],
            )
            if pg:
                cursor.execute(
                    f"SELECT id FROM {balances} WHERE book = %s AND customer_id IN "
                    f"(SELECT customer_id FROM {temp}) ORDER BY customer_id FOR UPDATE",
                    [book],
                )
            amount = sql_from_minor("t.amount_minor")
            running = sql_from_minor(f"{sql_minor('b.amount')} + t.amount_minor")
            cursor.execute(
                f"INSERT INTO {entries} (customer_id, book, kind, amount, running_balance, "
                "effective_date, posted_at, description, reason, actor_user_id, actor_label, "
                "batch, source_type_id, source_id, reverses_id) "
                f"SELECT t.customer_id, %s, %s, {amount}, {running}, "
                "t.effective_date, %s, t.description, %s, %s, %s, %s, %s, t.source_id, NULL "
                f"FROM {temp} t JOIN {balances} b ON b.customer_id = t.customer_id "
                "AND b.book = %s ORDER BY t.customer_id",
                [book, kind, now_value, reason, actor_user, actor.label[:200], batch_value]
                + [source_type, book],
            )
            if pg or update_from:
                # One join: each customer has exactly one entry in this batch (SQLite
                # 3.33 and later take UPDATE … FROM too).
                total = sql_from_minor(f"{sql_minor('b.amount')} + t.amount_minor")
                cursor.execute(
                    f"UPDATE {balances} AS b SET amount = {total}, "
                    "entry_count = b.entry_count + 1, last_entry_id = e.id, last_posted_at = %s "
                    f"FROM {temp} t JOIN {entries} e ON e.customer_id = t.customer_id "
                    "AND e.book = %s AND e.batch = %s AND e.posted_at = %s "
                    "WHERE b.customer_id = t.customer_id AND b.book = %s",
                    [now_value, book, batch_value, now_value, book],
                )
            else:
                added = (
                    f"(SELECT t.amount_minor FROM {temp} t "
                    f"WHERE t.customer_id = {balances}.customer_id)"
                )
                total = sql_from_minor(f"{sql_minor('amount')} + {added}")
                last = (
                    f"(SELECT MAX(e.id) FROM {entries} e WHERE e.customer_id = "
                    f"{balances}.customer_id AND e.book = %s AND e.batch = %s)"
                )
                cursor.execute(
                    f"UPDATE {balances} SET amount = {total}, "
                    f"entry_count = entry_count + 1, last_entry_id = {last}, last_posted_at = %s "
                    f"WHERE book = %s AND customer_id IN (SELECT customer_id FROM {temp})",
                    [book, batch_value, now_value, book],
                )
        if not pg:
            cursor.execute(f"DROP TABLE {temp}")
    return count
