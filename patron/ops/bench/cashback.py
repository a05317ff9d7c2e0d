"""Bench row for cashback: a relative +5.00 run to min(200,000, customers) customers.

Patron's side is what a `cashback.run` job does: `cashback_params` (the
target checked against the owner's reach) and `cashback_run` (one SELECT
over the chosen customers joined to their cashback balance, posted by
`ledger_post_selected`: the entries with their running balances, and every
balance row created or updated, in one transaction). The SQL side runs
first, in a transaction that is rolled back: one INSERT … SELECT of the
ledger entries (amount, running balance from the balance row) and one
upsert of the balance rows from them. Both sides must post the same number
of entries, or the row fails.

Target (the payments and cashback issue): within 3× its SQL at 1,000,000
customers on both databases.
"""

from __future__ import annotations

import uuid

from django.db import connection
from django.utils import timezone

from patron.cashback.services import cashback_params, cashback_run
from patron.core.actor import Actor
from patron.ledger.models import Book, LedgerEntry
from patron.ops.bench.billing import StatementTimes

SIZE = 200_000


def _chosen(size: int) -> str:
    return "SELECT id FROM customers_customer WHERE archived = %s ORDER BY id LIMIT " + str(
        int(size)
    )


def cashback_sql(size: int) -> int:
    """The run by hand: the entries, then the balance rows; how many entries."""
    pg = connection.vendor == "postgresql"
    batch = uuid.uuid4()
    batch_value = LedgerEntry._meta.get_field("batch").get_db_prep_value(batch, connection)
    now = LedgerEntry._meta.get_field("posted_at").get_db_prep_value(timezone.now(), connection)
    today = timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO ledger_ledgerentry (customer_id, book, kind, amount, running_balance, "
            "effective_date, posted_at, description, reason, actor_user_id, actor_label, batch, "
            "source_type_id, source_id, reverses_id) "
            "SELECT c.id, %s, 'cashback_accrual', 5.00, COALESCE(b.amount, 0) + 5.00, %s, %s, "
            "'Add £5.00 cashback', 'bench', NULL, 'bench SQL', %s, NULL, NULL, NULL "
            "FROM customers_customer c LEFT JOIN ledger_balance b ON b.customer_id = c.id "
            f"AND b.book = %s WHERE c.id IN ({_chosen(size)}) ORDER BY c.id",
            [Book.CASHBACK, today, now, batch_value, Book.CASHBACK, False],
        )
        count = max(cursor.rowcount, 0)
        cursor.execute(
            "INSERT INTO ledger_balance (customer_id, book, amount, entry_count, last_entry_id, "
            "last_posted_at) SELECT e.customer_id, e.book, e.running_balance, 1, e.id, e.posted_at "
            "FROM ledger_ledgerentry e WHERE e.batch = %s "
            + ("" if pg else "AND TRUE ")
            + "ON CONFLICT (customer_id, book) DO UPDATE SET amount = excluded.amount, "
            "entry_count = ledger_balance.entry_count + 1, last_entry_id = excluded.last_entry_id, "
            "last_posted_at = excluded.last_posted_at",
            [batch_value],
        )
    return count


def cashback_relative(bench, Result, once, once_rolled_back) -> None:
    size = min(SIZE, bench.data.customers)
    actor = Actor(user=bench.owner)
    with connection.cursor() as cursor:
        cursor.execute(_chosen(size), [False])
        ids = [row[0] for row in cursor.fetchall()]
    counts: dict = {}
    sql_times, patron_times = StatementTimes(), StatementTimes()
    with connection.execute_wrapper(sql_times):
        sql_ms = once_rolled_back(lambda: counts.update(sql=cashback_sql(size)))

    def patron():
        params = cashback_params(
            actor, {"mode": "relative", "amount": "5.00", "comment": "bench", "ids": ids}
        )
        counts["patron"] = cashback_run(actor=actor, params=params)["changed"]

    with connection.execute_wrapper(patron_times):
        patron_ms = once(patron)
    if counts["patron"] != counts["sql"]:
        raise RuntimeError(f"cashback posted {counts['patron']} entries, the SQL {counts['sql']}")
    bench.add(
        Result(
            f"cashback relative +5 to {size:,} customers",
            patron_ms,
            sql_ms,
            "cashback_params + cashback_run (the cashback.run job's work: target checked, one "
            "SELECT of each member's entry posted by ledger_post_selected, balance rows "
            "created or updated, one transaction); SQL side is the hand-written INSERT … "
            "SELECT of the ledger entries plus the balance upsert, run first in a transaction "
            "rolled back. Target: within 3× its SQL at 1,000,000 customers. Where the time "
            f"goes: Patron {patron_times.top()}; SQL {sql_times.top()}",
        )
    )
