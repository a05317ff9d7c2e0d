"""Cashback (BIL-5): a run for a group or any selection, its preview and undo, one adjustment.

A cashback balance is the ledger's cashback book. A run is set-based: one
SELECT over the chosen customers joined to their cashback balance row works
out each member's entry (relative: the amount; absolute: the amount less the
balance) and `ledger_post_selected` posts them all in a fixed number of
statements, inside the job's transaction, with the comment as each entry's
reason and the actor who ran it. Nobody's balance goes below zero: those
members are skipped and listed with the reason. Undo posts the reverse of
the run's batch (the ledger is append-only), skipping members who have spent
the cashback since. See docs/cashback.md.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from patron.bulk.targets import clean_target, describe_target, target_queryset
from patron.cashback.models import CashbackRun, Mode
from patron.core import audit
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.core.money import format_money, parse_amount, to_money
from patron.core.money_sql import scale, sql_from_minor, sql_minor
from patron.customers.models import Customer
from patron.groups.models import Group
from patron.ledger.models import Balance, Book, Kind, LedgerEntry
from patron.ledger.services import balance_of, ledger_post_selected

PERMISSION = "cashback.run_cashback"
RUN_KIND = "cashback.run"
UNDO_KIND = "cashback.undo"
SAMPLE_SIZE = 10
MAX_COMMENT = 500
REQUEST_KEYS = ("mode", "amount", "comment")
# The reverse of each kind, for undo.
REVERSE = {
    Kind.CASHBACK_ACCRUAL: Kind.CASHBACK_WITHDRAWAL,
    Kind.CASHBACK_WITHDRAWAL: Kind.CASHBACK_ACCRUAL,
    Kind.CASHBACK_SET: Kind.CASHBACK_SET,
}


def can_run(who) -> bool:
    return who is not None and who.has_perm(PERMISSION)


def _require(actor: Actor) -> None:
    if not can_run(actor):
        raise PermissionDenied("Your role does not allow you to run cashback.")


# --- parameters --------------------------------------------------------------------------


def clean_request(data) -> dict:
    """Mode, amount (exact: "5.005" is refused, never rounded) and the required comment."""
    errors: dict[str, list[str] | str] = {}
    mode = str(data.get("mode") or "").strip().lower()
    if mode not in Mode.values:
        errors["mode"] = "Choose “absolute” (set each balance) or “relative” (add or withdraw)."
    amount = None
    try:
        amount = parse_amount(data.get("amount"), label="Amount")
    except ValidationError as exc:
        errors["amount"] = exc.messages
    except (TypeError, ValueError):
        errors["amount"] = "Amount: give the amount as a number like 5.00."
    if amount is not None:
        if mode == Mode.ABSOLUTE and amount < 0:
            errors["amount"] = "An absolute cashback sets each balance; it cannot be negative."
        elif mode == Mode.RELATIVE and amount == 0:
            errors["amount"] = "A relative cashback of zero changes nothing."
    comment = str(data.get("comment") or "").strip()
    if not comment:
        errors["comment"] = "Say why: the comment is kept with every cashback entry."
    elif len(comment) > MAX_COMMENT:
        errors["comment"] = f"Keep the comment to {MAX_COMMENT} characters."
    if errors:
        raise ValidationError(errors)
    return {"mode": mode, "amount": str(amount), "comment": comment}


def _group(actor: Actor, value) -> Group:
    group = None
    try:
        if value not in (None, ""):
            group = Group.objects.restrict(actor).filter(pk=int(value)).first()
    except (TypeError, ValueError):
        group = None
    if group is None:
        raise ValidationError({"group": "Choose a group you can see."})
    return group


def group_members_total(group: Group) -> int:
    """Everyone in the group now, whoever looks (to say how many a restricted user leaves out)."""
    from patron.groups.dynamic import dynamic_group_members

    if group.is_dynamic:
        return dynamic_group_members(group, user=None).count()
    return Customer.objects.filter(memberships__group=group).distinct().count()


def freeze_group(actor: Actor, group: Group, *, freeze: bool = True) -> dict:
    """The group's members at this moment, as a stored target (ORG-5 for a dynamic group:
    the snapshot is kept and logged by the groups app), and how many the actor's reach
    leaves out. `freeze=False` (a preview) reads the same members without a snapshot."""
    from patron.groups.dynamic import dynamic_group_members, dynamic_group_snapshot

    snapshot = None
    if freeze or not group.is_dynamic:
        ids = dynamic_group_snapshot(group, actor)
        if group.is_dynamic:
            snapshot = group.snapshots.order_by("-id").values_list("pk", flat=True).first()
    else:
        members = dynamic_group_members(group, user=actor.user)
        ids = list(members.order_by("pk").values_list("pk", flat=True))
    target = {"ids": ids} if ids else {"ids": []}
    in_reach = target_queryset(actor, target).count() if ids else 0
    return {
        "target": target,
        "group": group.pk,
        "snapshot": snapshot,
        "left_out": max(0, group_members_total(group) - in_reach),
    }


def cashback_params(actor: Actor, data: dict, *, freeze: bool = True) -> dict:
    """Job parameters from a request: mode, amount, comment and the customers.

    The customers are `group` (frozen here: its members now), or a stored
    `target` (ids, segment query, list filter; see `patron/bulk/targets.py`),
    or `ids` / `q` / `filter` as the bulk page sends them. Called again when
    the job starts; a frozen target stays frozen.
    """
    _require(actor)
    errors = {}
    try:
        params = clean_request(data)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        params = {}
    target = data.get("target")
    try:
        if isinstance(target, dict):
            if target.get("ids") == []:
                frozen = {"target": {"ids": []}}
            else:
                frozen = {"target": clean_target(actor, target)}
            for key in ("group", "snapshot", "left_out", "request"):
                if data.get(key) is not None:
                    frozen[key] = data[key]
        elif data.get("group") not in (None, ""):
            frozen = freeze_group(actor, _group(actor, data.get("group")), freeze=freeze)
            if data.get("request") is not None:
                frozen["request"] = data["request"]
        else:
            from patron.bulk.targets import target_from_data

            frozen = {"target": clean_target(actor, target_from_data(data))}
            if data.get("request") is not None:
                frozen["request"] = data["request"]
        params.update(frozen)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    params.setdefault("left_out", None)
    if params["left_out"] is None and "group" not in params:
        params["left_out"] = left_out_of_target(actor, params)
    return params


def request_signature(data: dict, *, group=None) -> dict:
    """What an idempotent request asked for, to compare a replay with."""
    signature = {key: str(data.get(key) or "").strip() for key in REQUEST_KEYS}
    with contextlib.suppress(ArithmeticError, ValueError):  # unreadable: compared as typed
        signature["amount"] = str(to_money(Decimal(signature["amount"])))
    if group is not None:
        signature["group"] = int(group)
    else:
        signature["customers"] = {
            key: data.get(key) for key in ("ids", "q", "filter", "target") if data.get(key)
        }
    return signature


class IdempotencyConflict(ValidationError):
    """An idempotency key used before for a different request (the API answers 422)."""


def cashback_enqueue(*, actor: Actor, data: dict, idempotency_key: str | None = None):
    """Start a cashback run as a job. The same key with the same request returns the job
    started the first time (and freezes nothing again); with a different one, refused."""
    from patron.jobs.models import Job
    from patron.jobs.services import job_enqueue

    _require(actor)
    signature = request_signature(data, group=data.get("group") or None)
    key = (idempotency_key or "").strip() or None
    if key is not None:
        existing = Job.objects.filter(idempotency_key=key).first()
        if existing is not None:
            user_id = actor.user.pk if actor.user is not None else None
            same = (
                existing.kind == RUN_KIND
                and existing.actor_user_id == user_id
                and (existing.params or {}).get("request") == signature
            )
            if not same:
                raise IdempotencyConflict(
                    {
                        "idempotency_key": "This Idempotency-Key was already used for a "
                        "different request; nothing was started. Use a new key for a new "
                        "cashback."
                    }
                )
            return existing
    params = {
        k: data[k] for k in data if k in (*REQUEST_KEYS, "group", "ids", "q", "filter", "target")
    }
    params["request"] = signature
    try:
        return job_enqueue(actor=actor, kind=RUN_KIND, params=params, idempotency_key=key)
    except ValidationError as exc:
        if hasattr(exc, "error_dict") and "idempotency_key" in exc.error_dict:
            raise IdempotencyConflict(exc.message_dict) from exc
        raise


# --- the set-based statements ------------------------------------------------------------


def _chosen(actor: Actor, params: dict):
    target = params["target"]
    if target.get("ids") == []:
        return Customer.objects.none()
    return target_queryset(actor, target)


@dataclass
class Rows:
    """The chosen customers joined to their cashback balance: SQL pieces in minor units."""

    base: str  # FROM … WHERE c.id IN (the chosen customers)
    params: list
    old: str  # balance before, minor units
    new: str  # balance after
    delta: str  # the entry's amount


def _rows(chosen, params: dict) -> Rows:
    """The FROM clause and expressions of a run over `chosen` for `params`."""
    amount_m = int(Decimal(params["amount"]) * scale())
    inner, inner_params = chosen.values("pk").query.sql_with_params()
    balances = connection.ops.quote_name(Balance._meta.db_table)
    customers = connection.ops.quote_name(Customer._meta.db_table)
    base = (
        f"FROM {customers} c LEFT JOIN {balances} b ON b.customer_id = c.id AND b.book = %s "
        f"WHERE c.archived = %s AND c.id IN ({inner})"
    )
    old = f"COALESCE({sql_minor('b.amount')}, 0)"
    if params["mode"] == Mode.RELATIVE:
        new, delta = f"({old} + {amount_m})", f"{amount_m}"
    else:
        new, delta = f"{amount_m}", f"({amount_m} - {old})"
    return Rows(base, [Book.CASHBACK, False, *inner_params], old, new, delta)


def _lock_balances(customers_sql: str, params) -> None:
    """Lock the cashback balance rows of these customers (PostgreSQL), in customer order,
    before their entries are worked out from them: a redemption committed meanwhile can
    then neither be missed (a withdrawal below zero) nor overwritten (an absolute set).
    SQLite has one writer at a time already."""
    if connection.vendor != "postgresql":
        return
    balances = connection.ops.quote_name(Balance._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {balances} WHERE book = %s AND customer_id IN ({customers_sql}) "
            "ORDER BY customer_id FOR UPDATE",
            [Book.CASHBACK, *params],
        )


def _fetch(sql: str, params) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, list(params))
        return cursor.fetchall()


def _money(minor) -> Decimal:
    return to_money(Decimal(int(minor)) / scale())


def _below_zero_message(name: str, old, new_delta, params) -> str:
    held = format_money(_money(old))
    taken = format_money(-_money(new_delta)) if params["mode"] == Mode.RELATIVE else ""
    return (
        f"{name} holds {held} in cashback; withdrawing {taken} would take it below zero; skipped."
    )


@dataclass
class Preview:
    description: str
    target: str
    matched: int
    will_change: int
    unchanged: int
    below_zero: int
    archived: int
    left_out: int | None
    sample: list = field(default_factory=list)  # (customer, before, after)
    below_zero_sample: list = field(default_factory=list)  # (customer, message)


def describe(params: dict) -> str:
    amount = Decimal(params["amount"])
    if params["mode"] == Mode.ABSOLUTE:
        return f"Set cashback to {format_money(amount)}"
    if amount < 0:
        return f"Withdraw {format_money(-amount)} cashback"
    return f"Add {format_money(amount)} cashback"


def _customers(ids) -> dict[int, Customer]:
    return {
        c.pk: c
        for c in Customer.objects.filter(pk__in=list(ids)).only("id", "name", "account_number")
    }


def _counts(rows: Rows) -> tuple[int, int, int]:
    """(matched, will change, would go below zero) of the active chosen customers."""
    ((matched, changing, below),) = _fetch(
        f"SELECT COUNT(*), "
        f"COALESCE(SUM(CASE WHEN {rows.delta} <> 0 AND {rows.new} >= 0 THEN 1 ELSE 0 END), 0), "
        f"COALESCE(SUM(CASE WHEN {rows.new} < 0 THEN 1 ELSE 0 END), 0) {rows.base}",
        rows.params,
    )
    return int(matched), int(changing), int(below)


def _below_zero(rows: Rows, limit: int | None = None) -> list[tuple]:
    sql = f"SELECT c.id, {rows.old}, {rows.delta} {rows.base} AND {rows.new} < 0 ORDER BY c.id"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return _fetch(sql, rows.params)


def _archived(chosen) -> list[Customer]:
    return list(chosen.filter(archived=True).only("id", "name", "account_number").order_by("pk"))


def cashback_preview(actor: Actor, params: dict) -> Preview:
    """What a run would do now; changes nothing."""
    _require(actor)
    chosen = _chosen(actor, params)
    rows = _rows(chosen, params)
    matched, changing, below = _counts(rows)
    sample_rows = _fetch(
        f"SELECT c.id, {rows.old}, {rows.new} {rows.base} AND {rows.delta} <> 0 "
        f"AND {rows.new} >= 0 ORDER BY c.name, c.id LIMIT {SAMPLE_SIZE}",
        rows.params,
    )
    below_rows = _below_zero(rows, SAMPLE_SIZE)
    people = _customers([r[0] for r in sample_rows] + [r[0] for r in below_rows])
    archived = chosen.filter(archived=True).count()
    return Preview(
        description=describe(params),
        target=_target_text(params),
        matched=matched + archived,
        will_change=changing,
        unchanged=matched - changing - below,
        below_zero=below,
        archived=archived,
        left_out=params.get("left_out"),
        sample=[
            (people[pk], format_money(_money(old)), format_money(_money(new)))
            for pk, old, new in sample_rows
        ],
        below_zero_sample=[
            (people[pk], _below_zero_message(people[pk].name, old, delta, params))
            for pk, old, delta in below_rows
        ],
    )


def _target_text(params: dict) -> str:
    if params.get("group"):
        group = Group.objects.filter(pk=params["group"]).first()
        count = len(params["target"].get("ids", []))
        kind = "dynamic group" if group is not None and group.is_dynamic else "group"
        return f"the {kind} “{group}” ({count:,} members frozen)" if group else "a deleted group"
    return describe_target(params["target"])


def left_out_of_target(actor: Actor, params: dict) -> int | None:
    """How many customers of a segment or selection the actor's reach leaves out."""
    if actor.user is None or not getattr(actor.user, "has_customer_restriction", False):
        return 0
    target = params["target"]
    if target.get("ids") == []:
        return 0
    system = Actor.system_actor("cashback preview")
    return max(0, target_queryset(system, target).count() - _chosen(actor, params).count())


# --- the run -----------------------------------------------------------------------------


def _summary(run: CashbackRun, params: dict, *, unchanged: int, failed: int) -> dict:
    text = f"{describe(params)}: {run.entries:,} customers changed, {unchanged:,} already so."
    if failed:
        text += f" {failed:,} skipped (listed below)."
    return {
        "message": text,
        "run": run.pk,
        "batch": str(run.batch),
        "mode": run.mode,
        "amount": str(run.amount),
        "changed": run.entries,
        "unchanged": unchanged,
        "failed": failed,
        "applied_at": run.created.isoformat(),
        "undoable": run.entries > 0,
    }


def _kind_for(params: dict) -> str:
    if params["mode"] == Mode.ABSOLUTE:
        return Kind.CASHBACK_SET
    if Decimal(params["amount"]) > 0:
        return Kind.CASHBACK_ACCRUAL
    return Kind.CASHBACK_WITHDRAWAL


def cashback_run(*, actor: Actor, params: dict, job=None, context=None) -> dict:
    """Carry out a cashback run: every chosen member's entry, or none (one transaction).

    `params` come from `cashback_params`. Run for a job, it applies at most
    once: a second run of the same job finds its run row and changes nothing.
    Members whose balance would go below zero, and archived accounts, are
    skipped and reported through `context.fail` (when given).
    """
    _require(actor)
    with transaction.atomic():
        if job is not None:
            done = CashbackRun.objects.filter(job=job).first()
            if done is not None:
                summary = dict(job.result_summary or {}) or _summary(
                    done, params, unchanged=0, failed=done.skipped
                )
                summary["message"] = (
                    f"Already applied by this job (run #{done.pk}); nothing was posted again."
                )
                return summary
        chosen = _chosen(actor, params)
        _lock_balances(*chosen.values("pk").query.sql_with_params())
        rows = _rows(chosen, params)
        # An accrual changes every active member and takes nobody below zero: its counts
        # are the entries posted, with no statement of their own.
        accrual = _kind_for(params) == Kind.CASHBACK_ACCRUAL
        matched, changing, below = (None, None, 0) if accrual else _counts(rows)
        if context is not None:
            context.progress(0, changing or 0)
            context.check_cancelled()
        failures: list[tuple[Customer, str]] = [
            (c, f"{c.name} is archived; restore the account before changing it.")
            for c in _archived(chosen)
        ]
        if below:
            below_rows = _below_zero(rows)
            people = _customers(r[0] for r in below_rows)
            failures += [
                (people[pk], _below_zero_message(people[pk].name, old, delta, params))
                for pk, old, delta in below_rows
            ]
        user = actor.user if actor.user is not None and actor.user.pk else None
        run = CashbackRun.objects.create(
            mode=params["mode"],
            amount=Decimal(params["amount"]),
            comment=params["comment"],
            group_id=params.get("group"),
            job=job,
            batch=uuid.uuid4(),
            actor_user=user,
            actor_label=actor.label[:200],
        )
        description = f"{describe(params)} (cashback run #{run.pk})"[:200]
        select = (
            f"SELECT c.id AS customer_id, {sql_from_minor(rows.delta)} AS amount, "
            "%s AS effective_date, %s AS description, %s AS source_id "
            f"{rows.base} AND {rows.delta} <> 0 AND {rows.new} >= 0"
        )
        posted = ledger_post_selected(
            actor=actor,
            kind=_kind_for(params),
            select_sql=select,
            params=[timezone.localdate(), description, run.pk, *rows.params],
            book=Book.CASHBACK,
            source_model=CashbackRun,
            batch=run.batch,
            reason=params["comment"],
        )
        if accrual:
            matched = changing = posted
        run.entries, run.skipped = posted, len(failures)
        CashbackRun.objects.filter(pk=run.pk).update(entries=posted, skipped=len(failures))
        for customer, message in failures:
            if context is not None:
                context.fail(customer, message)
        audit.record(
            actor=actor,
            action="cashback_run",
            obj=run,
            changes={"entries": [None, posted], "job": [None, job.pk if job else None]},
            message=f"{description}: {posted:,} customers, {len(failures):,} skipped",
            reason=params["comment"],
        )
        if context is not None:
            context.progress(posted, posted)
        return _summary(run, params, unchanged=matched - changing - below, failed=len(failures))


# --- undo --------------------------------------------------------------------------------


def undo_refusal(run: CashbackRun | None) -> str:
    if run is None:
        return "Choose a cashback run you can see."
    if run.undo_of_id:
        return "An undo cannot itself be undone; run the cashback again instead."
    if run.customer_id is not None:
        return "One customer's adjustment is corrected by another adjustment, not undone."
    if not run.entries:
        return "This cashback run posted nothing, so there is nothing to undo."
    previous = CashbackRun.objects.filter(undo_of=run).first()
    if previous is not None:
        return f"This cashback run was already undone (run #{previous.pk})."
    return ""


def cashback_undo(*, actor: Actor, run: CashbackRun, job=None, context=None) -> dict:
    """Post the reverse of every entry of `run`'s batch, set-based, in one transaction.

    A member whose balance would go below zero (they spent the cashback since)
    is skipped and listed, as is a member outside the actor's reach.
    """
    _require(actor)
    with transaction.atomic():
        if job is not None:
            done = CashbackRun.objects.filter(job=job).first()
            if done is not None:
                return {
                    **(job.result_summary or {}),
                    "message": f"Already undone by this job (run #{done.pk}); nothing posted.",
                }
        refusal = undo_refusal(run)
        if refusal:
            raise ValidationError({"run": refusal})
        entries = LedgerEntry.objects.filter(batch=run.batch, book=Book.CASHBACK)
        kind = entries.values_list("kind", flat=True).first()
        reach_sql, reach_params = (
            Customer.objects.restrict(actor, "change").values("pk").query.sql_with_params()
        )
        batch = LedgerEntry._meta.get_field("batch").get_db_prep_value(run.batch, connection)
        table = connection.ops.quote_name(LedgerEntry._meta.db_table)
        balances = connection.ops.quote_name(Balance._meta.db_table)
        old = f"COALESCE({sql_minor('b.amount')}, 0)"
        undone = f"{sql_minor('e.amount')}"
        base = (
            f"FROM {table} e LEFT JOIN {balances} b ON b.customer_id = e.customer_id "
            f"AND b.book = %s WHERE e.batch = %s AND e.book = %s"
        )
        base_params = [Book.CASHBACK, batch, Book.CASHBACK]
        _lock_balances(
            f"SELECT e.customer_id FROM {table} e WHERE e.batch = %s AND e.book = %s",
            [batch, Book.CASHBACK],
        )
        failures: list[tuple[Customer | None, str]] = []
        hidden = _fetch(
            f"SELECT e.customer_id {base} AND e.customer_id NOT IN ({reach_sql}) "
            "ORDER BY e.customer_id",
            [*base_params, *reach_params],
        )
        failures += [
            (None, f"Customer #{pk} is not one you may change; not reverted.") for (pk,) in hidden
        ]
        spent = _fetch(
            f"SELECT e.customer_id, {old}, {undone} {base} AND e.customer_id IN ({reach_sql}) "
            f"AND {old} - {undone} < 0 ORDER BY e.customer_id",
            [*base_params, *reach_params],
        )
        people = _customers(r[0] for r in spent)
        failures += [
            (
                people[pk],
                f"{people[pk].name} has spent it since: holds {format_money(_money(held))}; "
                f"taking back {format_money(_money(amount))} would go below zero; not reverted.",
            )
            for pk, held, amount in spent
        ]
        user = actor.user if actor.user is not None and actor.user.pk else None
        comment = f"Undo of cashback run #{run.pk}: {run.comment}"[:MAX_COMMENT]
        undo = CashbackRun.objects.create(
            mode=run.mode,
            amount=run.amount,
            comment=comment,
            group=run.group,
            job=job,
            undo_of=run,
            batch=uuid.uuid4(),
            actor_user=user,
            actor_label=actor.label[:200],
        )
        if context is not None:
            context.progress(0, run.entries)
            context.check_cancelled()
        description = f"Undo of cashback run #{run.pk}"
        select = (
            f"SELECT e.customer_id AS customer_id, {sql_from_minor(f'0 - {undone}')} AS amount, "
            "%s AS effective_date, %s AS description, %s AS source_id "
            f"{base} AND e.customer_id IN ({reach_sql}) AND {old} - {undone} >= 0"
        )
        posted = 0
        if kind is not None:
            posted = ledger_post_selected(
                actor=actor,
                kind=REVERSE[kind],
                select_sql=select,
                params=[timezone.localdate(), description, undo.pk, *base_params, *reach_params],
                book=Book.CASHBACK,
                source_model=CashbackRun,
                batch=undo.batch,
                reason=comment,
            )
        undo.entries, undo.skipped = posted, len(failures)
        CashbackRun.objects.filter(pk=undo.pk).update(entries=posted, skipped=len(failures))
        for customer, message in failures:
            if context is not None:
                context.fail(customer, message)
        audit.record(
            actor=actor,
            action="cashback_undo",
            obj=undo,
            changes={"entries": [None, posted], "undo_of": [None, run.pk]},
            message=f"{description}: {posted:,} customers reverted, {len(failures):,} not",
            reason=comment,
        )
        if context is not None:
            context.progress(posted, posted)
        text = f"Reverted cashback run #{run.pk} for {posted:,} customers."
        if failures:
            text += f" {len(failures):,} could not be reverted (listed below)."
        return {
            "message": text,
            "run": undo.pk,
            "undo_of_run": run.pk,
            "batch": str(undo.batch),
            "changed": posted,
            "failed": len(failures),
            "applied_at": undo.created.isoformat(),
        }


# --- one customer ------------------------------------------------------------------------


def _adjust_replay(actor: Actor, customer: Customer, key: str, signature: dict):
    """The entry a first request with `key` posted, or None; a different request: refused."""
    run = CashbackRun.objects.filter(idempotency_key=key).first()
    if run is None:
        return None
    user_id = actor.user.pk if actor.user is not None else None
    if run.actor_user_id != user_id or run.request != signature:
        raise IdempotencyConflict(
            {
                "idempotency_key": "This Idempotency-Key was already used for a different "
                "request; nothing was posted. Use a new key for a new adjustment."
            }
        )
    return LedgerEntry.objects.filter(batch=run.batch).order_by("id").first()


def cashback_adjust(
    *, actor: Actor, customer: Customer, data: dict, idempotency_key: str | None = None
) -> LedgerEntry:
    """One customer's cashback: absolute (set) or relative (add; negative withdraws), with
    the required comment. Refuses a customer outside the actor's reach, a balance that
    would go below zero, and a change of nothing. Recorded as a run of one; given an
    `idempotency_key`, the same request again returns the first entry and posts nothing,
    and a different request with that key is refused (`IdempotencyConflict`)."""
    from django.db import IntegrityError

    _require(actor)
    request = clean_request(data)
    if not Customer.objects.restrict(actor, "change").filter(pk=customer.pk).exists():
        raise PermissionDenied("You may not change this customer's cashback.")
    key = (idempotency_key or "").strip() or None
    if key is not None and len(key) > 200:
        raise ValidationError({"idempotency_key": "Use a key of at most 200 characters."})
    signature = {**request, "customer": customer.pk}
    if key is not None:
        replay = _adjust_replay(actor, customer, key, signature)
        if replay is not None:
            return replay
    amount = Decimal(request["amount"])
    try:
        with transaction.atomic():
            return _adjust(actor, customer, request, amount, key, signature)
    except IntegrityError:
        # The same key at the same moment: the first request won.
        replay = _adjust_replay(actor, customer, key, signature) if key else None
        if replay is None:
            raise
        return replay


def _adjust(actor, customer, request, amount, key, signature) -> LedgerEntry:
    from patron.ledger.services import Posting, ledger_post_many

    Balance.objects.select_for_update().filter(customer=customer, book=Book.CASHBACK).first()
    before = balance_of(customer, Book.CASHBACK)
    if request["mode"] == Mode.ABSOLUTE:
        delta, kind = amount - before, Kind.CASHBACK_SET
    else:
        delta = amount
        kind = Kind.CASHBACK_ACCRUAL if amount > 0 else Kind.CASHBACK_WITHDRAWAL
    if delta == 0:
        raise ValidationError(
            {"amount": f"{customer.name} already holds {format_money(before)}; nothing to set."}
        )
    if before + delta < 0:
        raise ValidationError(
            {
                "amount": f"{customer.name} holds {format_money(before)} in cashback; "
                f"withdrawing {format_money(-delta)} would take it below zero."
            }
        )
    user = actor.user if actor.user is not None and actor.user.pk else None
    run = CashbackRun.objects.create(
        mode=request["mode"],
        amount=amount,
        comment=request["comment"],
        customer=customer,
        idempotency_key=key,
        request=signature,
        batch=uuid.uuid4(),
        actor_user=user,
        actor_label=actor.label[:200],
        entries=1,
    )
    params = {**request, "amount": str(amount)}
    (entry,) = ledger_post_many(
        actor=actor,
        book=Book.CASHBACK,
        batch=run.batch,
        postings=[
            Posting(
                customer_id=customer.pk,
                kind=kind,
                amount=to_money(delta),
                description=describe(params)[:200],
                reason=request["comment"],
                source=run,
            )
        ],
    )
    audit.record(
        actor=actor,
        action="cashback_adjusted",
        obj=entry,
        customer=customer,
        changes={"cashback": [str(before), str(to_money(entry.running_balance))]},
        message=f"{describe(params)} ({format_money(before)} → "
        f"{format_money(entry.running_balance)})",
        reason=request["comment"],
    )
    return entry


def cashback_accrue(*, actor: Actor, customer_ids: list[int], amount, comment: str) -> dict:
    """A relative cashback for these customers, outside a job (the demo loader, scripts)."""
    params = cashback_params(
        actor, {"mode": Mode.RELATIVE, "amount": amount, "comment": comment, "ids": customer_ids}
    )
    return cashback_run(actor=actor, params=params)
