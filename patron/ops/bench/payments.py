"""Bench rows for payments (#11), beside hand-written SQL on the same data.

- **group payment**: `payment_record(group=...)` for a payment group of 10,000 members
  with 3 open invoices each (30,000 invoices, set up once, untimed), allocated oldest
  first across the members, one PAYMENT entry per member. The SQL side, in a rolled
  back transaction as Patron's is: one INSERT of the payment, one INSERT … SELECT of
  the allocations (a running sum over the open invoices in allocation order), one
  UPDATE of the invoices' `amount_paid`, one INSERT … SELECT of the ledger entries
  and one UPDATE of the balance rows. Target: under 10 s on PostgreSQL.
- **payment through the API**: one `POST /api/payments/` (a customer with two open
  invoices) with an `Idempotency-Key`, beside a hand-written INSERT of the payment,
  its allocation and its ledger entry. Target: ≤ 100 ms.

`group_payment(bench, Result, once_rolled_back)` and
`api_payment(bench, Result, timed)` add their rows with `bench.add(Result(...))`,
like `patron/ops/bench/billing.py`.
"""

from __future__ import annotations

import datetime
import uuid
from decimal import Decimal

from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone

from patron.billing.models import Invoice
from patron.core.actor import Actor
from patron.core.money_sql import sql_from_minor, sql_minor
from patron.customers.models import Customer, GroupMembership
from patron.groups.models import Group, GroupSet
from patron.payments.defaults import ensure_default_payment_methods
from patron.payments.models import Payment, PaymentMethod
from patron.payments.services import payment_record

GROUP_MEMBERS = 10_000
INVOICES_EACH = 3
INVOICE_GROSS = Decimal("12.50")
GROUP_NAME = "Bench payment group"


def _execute(sql: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.rowcount


def _bench_group(members: int = GROUP_MEMBERS) -> tuple[Group, list[int]]:
    """The payment group with `members` members, each with 3 open invoices (made once)."""
    group = Group.objects.filter(name=GROUP_NAME).first()
    if group is None:
        group_set = GroupSet.objects.create(name="Bench payers", single_choice=False)
        group = Group.objects.create(
            name=GROUP_NAME, group_set=group_set, payment_group=True, path="", depth=0
        )
        group.path = f"/{group.pk}/"
        group.save(update_fields=["path"])
    ids = list(
        GroupMembership.objects.filter(group=group)
        .order_by("customer_id")
        .values_list("customer_id", flat=True)
    )
    if len(ids) < members:
        have = set(ids)
        taken = GroupMembership.objects.filter(group__payment_group=True).values("customer_id")
        new = list(
            Customer.objects.exclude(pk__in=taken)
            .exclude(pk__in=have)
            .order_by("pk")
            .values_list("pk", flat=True)[: members - len(ids)]
        )
        GroupMembership.objects.bulk_create(
            [
                GroupMembership(
                    customer_id=c, group=group, group_set_id=group.group_set_id, exclusive=False
                )
                for c in new
            ],
            batch_size=2000,
        )
        today = timezone.localdate()
        invoices = [
            Invoice(
                number=f"BENCHPAY-{c}-{n}",
                customer_id=c,
                issue_date=today - datetime.timedelta(days=30 * (INVOICES_EACH - n)),
                due_date=today - datetime.timedelta(days=30 * (INVOICES_EACH - n) - 14),
                net=INVOICE_GROSS,
                tax=0,
                gross=INVOICE_GROSS,
            )
            for c in new
            for n in range(INVOICES_EACH)
        ]
        Invoice.objects.bulk_create(invoices, batch_size=2000)
        ids = sorted(have | set(new))
    if connection.vendor == "postgresql":
        # Fresh statistics, as after any bulk load (docs/performance.md).
        _execute(
            "ANALYZE billing_invoice, customers_groupmembership, payments_paymentallocation, "
            "ledger_balance, ledger_ledgerentry"
        )
    return group, ids


def group_payment_sql(group: Group, amount: Decimal, method: PaymentMethod) -> int:
    """The same group payment by hand: allocations by running sum, invoices, ledger."""
    m = sql_minor
    f = sql_from_minor
    now = timezone.now()
    today = timezone.localdate()
    _execute(
        "INSERT INTO payments_payment (kind, customer_id, group_id, method_id, amount, "
        "unallocated, received_date, reference, note, reverses_id, actor_user_id, "
        "actor_label, created) VALUES ('payment', NULL, %s, %s, %s, 0, %s, 'SQL', '', "
        "NULL, NULL, 'bench', %s)",
        [group.pk, method.pk, amount, today, now],
    )
    payment_id = Payment.objects.order_by("-id").values_list("id", flat=True).first()
    amount_minor = int(amount * 100)
    open_invoices = (
        f"SELECT i.id, i.customer_id, {m('i.gross')} - {m('i.amount_paid')} AS owed, "
        f"SUM({m('i.gross')} - {m('i.amount_paid')}) OVER (ORDER BY i.issue_date, i.id) "
        "AS upto FROM billing_invoice i JOIN customers_groupmembership g "
        f"ON g.customer_id = i.customer_id AND g.group_id = {int(group.pk)} "
        f"WHERE i.kind = 'invoice' AND {m('i.gross')} > {m('i.amount_paid')}"
    )
    take = (
        f"CASE WHEN o.upto <= {amount_minor} THEN o.owed "
        f"ELSE {amount_minor} - (o.upto - o.owed) END"
    )
    count = _execute(
        "INSERT INTO payments_paymentallocation (payment_id, invoice_id, customer_id, amount, "
        f"created, by_billing_run_id) SELECT {int(payment_id)}, o.id, o.customer_id, "
        f"{f(take)}, %s, NULL FROM ({open_invoices}) o WHERE o.upto - o.owed < {amount_minor}",
        [now],
    )
    pg = connection.vendor == "postgresql"
    if pg:
        _execute(
            f"UPDATE billing_invoice AS i SET amount_paid = {f(m('i.amount_paid') + ' + t.paid')} "
            f"FROM (SELECT a.invoice_id, SUM({m('a.amount')}) AS paid "
            "FROM payments_paymentallocation a "
            f"WHERE a.payment_id = {int(payment_id)} GROUP BY a.invoice_id) t "
            "WHERE i.id = t.invoice_id"
        )
    else:
        added = (
            f"(SELECT SUM({m('a.amount')}) FROM payments_paymentallocation a "
            f"WHERE a.payment_id = {int(payment_id)} AND a.invoice_id = billing_invoice.id)"
        )
        _execute(
            f"UPDATE billing_invoice SET amount_paid = {f(m('amount_paid') + ' + ' + added)} "
            "WHERE id IN (SELECT invoice_id FROM payments_paymentallocation "
            f"WHERE payment_id = {int(payment_id)})"
        )
    shares = (
        f"SELECT a.customer_id, SUM({m('a.amount')}) AS share FROM payments_paymentallocation a "
        f"WHERE a.payment_id = {int(payment_id)} GROUP BY a.customer_id"
    )
    _execute(
        "INSERT INTO ledger_balance (customer_id, book, amount, entry_count) "
        f"SELECT s.customer_id, 'money', 0, 0 FROM ({shares}) s WHERE TRUE "
        "ON CONFLICT (customer_id, book) DO NOTHING"
    )
    batch = uuid.uuid4().hex
    _execute(
        "INSERT INTO ledger_ledgerentry (customer_id, book, kind, amount, running_balance, "
        "effective_date, posted_at, description, reason, actor_user_id, actor_label, batch, "
        "source_type_id, source_id, reverses_id) "
        f"SELECT s.customer_id, 'money', 'payment', {f('-s.share')}, "
        f"{f(m('b.amount') + ' - s.share')}, %s, %s, 'Group payment', '', NULL, 'bench', "
        f"%s, NULL, {int(payment_id)}, NULL FROM ({shares}) s JOIN ledger_balance b "
        "ON b.customer_id = s.customer_id AND b.book = 'money'",
        [today, now, batch],
    )
    if pg:
        _execute(
            f"UPDATE ledger_balance AS b SET amount = {f(m('b.amount') + ' - s.share')}, "
            f"entry_count = b.entry_count + 1 FROM ({shares}) s "
            "WHERE b.customer_id = s.customer_id AND b.book = 'money'"
        )
    else:
        mine = (
            f"(SELECT SUM({m('a.amount')}) FROM payments_paymentallocation a "
            f"WHERE a.payment_id = {int(payment_id)} "
            "AND a.customer_id = ledger_balance.customer_id)"
        )
        _execute(
            f"UPDATE ledger_balance SET amount = {f(m('amount') + ' - ' + mine)}, "
            "entry_count = entry_count + 1 "
            f"WHERE book = 'money' AND customer_id IN (SELECT customer_id FROM ({shares}) s)"
        )
    return count


def group_payment(bench, Result, once_rolled_back, members: int = GROUP_MEMBERS) -> None:
    """The "group payment" row: 10,000 members × 3 open invoices, Patron beside SQL."""
    ensure_default_payment_methods()
    group, ids = _bench_group(members)
    method = PaymentMethod.objects.get(name="Bank transfer")
    total = INVOICE_GROSS * INVOICES_EACH * len(ids)
    amount = total - Decimal("5.00")  # the last invoice part-paid
    counts = {}

    def sql():
        counts["sql"] = group_payment_sql(group, amount, method)

    def patron():
        payment = payment_record(
            actor=Actor.system_actor("patron bench"),
            group=group,
            amount=amount,
            method=method,
            reference="bench",
        )
        counts["patron"] = payment.allocations.count()

    sql_ms = once_rolled_back(sql)
    patron_ms = once_rolled_back(patron)
    if counts.get("sql") != counts.get("patron"):
        raise RuntimeError(f"group payment: Patron and SQL disagree ({counts})")
    bench.add(
        Result(
            f"group payment ({len(ids):,} members, {counts['patron']:,} invoices)",
            patron_ms,
            sql_ms,
            "payment_record(group=…) oldest first across members, one ledger entry per "
            "member; SQL: running-sum allocation INSERT … SELECT, invoice UPDATE, ledger "
            "INSERT … SELECT and balance UPDATE; target under 10 s on PostgreSQL",
        )
    )


def api_payment(bench, Result, timed) -> None:
    """The "payment through the API" row: one POST /api/payments/ with an Idempotency-Key."""
    from rest_framework.test import APIClient

    ensure_default_payment_methods()
    client = APIClient()
    client.force_login(bench.owner)
    customer = Customer.objects.order_by("-pk").first()
    method = PaymentMethod.objects.get(name="Card")
    counter = {"n": 0}

    def patron():
        counter["n"] += 1
        response = client.post(
            "/api/payments/",
            {"customer": customer.pk, "amount": "1.00", "method": "Card"},
            format="json",
            headers={"Idempotency-Key": f"bench-{uuid.uuid4().hex}"},
        )
        if response.status_code != 201:
            raise RuntimeError(f"POST /api/payments/: {response.status_code} {response.content}")

    def sql():
        with transaction.atomic():
            now = timezone.now()
            _execute(
                "INSERT INTO payments_payment (kind, customer_id, group_id, method_id, amount, "
                "unallocated, received_date, reference, note, reverses_id, actor_user_id, "
                "actor_label, created) VALUES ('payment', %s, NULL, %s, 1, 1, %s, '', '', "
                "NULL, NULL, 'bench', %s)",
                [customer.pk, method.pk, timezone.localdate(), now],
            )
            _execute(
                "INSERT INTO ledger_ledgerentry (customer_id, book, kind, amount, "
                "running_balance, effective_date, posted_at, description, reason, "
                "actor_user_id, actor_label, batch, source_type_id, source_id, reverses_id) "
                "VALUES (%s, 'money', 'payment', -1, -1, %s, %s, 'Card payment', '', NULL, "
                "'bench', NULL, NULL, NULL, NULL)",
                [customer.pk, timezone.localdate(), now],
            )

    try:
        # The scratch settings allow only the configured hosts; the test client is "testserver".
        with override_settings(ALLOWED_HOSTS=["*"]), transaction.atomic():
            patron_ms = timed(patron)
            sql_ms = timed(sql)
            raise _Undo
    except _Undo:
        pass
    bench.add(
        Result(
            "payment through the API",
            patron_ms,
            sql_ms,
            "POST /api/payments/ with an Idempotency-Key (key row, payment, allocation, "
            "ledger entry, event); SQL: INSERT of the payment and its ledger entry; "
            "target ≤ 100 ms",
        )
    )


class _Undo(Exception):
    pass
