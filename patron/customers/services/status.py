"""Changing a customer's status: history, reason, effective date, scheduling.

A change dated in the future is kept as pending and applied by the status
scheduler on the day; a status with a "next status" moves its customers on
after the set number of days. Both scheduler steps are idempotent: running
them twice moves each customer once. The scheduler's pass, which runs them
with the other apps' scheduled work, is `patron.ops.schedule.scheduled_pass`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from patron.core import audit
from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.core.services import lock, object_update, require_perm
from patron.customers.models import Customer, StatusChange
from patron.statuses.models import Status

SCHEDULER = Actor.system_actor("status scheduler")


def _check_change(customer: Customer, status: Status, reason: str, effective_date) -> None:
    """The rules of a change; `customer` must be the row read under its lock."""
    errors = {}
    if status.pk == customer.status_id:
        errors["status"] = f"{customer.name} already has the status “{status}”."
    elif status.availability == Status.Availability.HISTORICAL:
        errors["status"] = f"“{status}” is a historical status and cannot be newly assigned."
    elif not status.visible_in_backend:
        errors["status"] = f"“{status}” is hidden and cannot be assigned."
    if status.require_reason and not reason:
        errors["reason"] = f"A reason is required to change to “{status}”."
    if status.require_date and effective_date is None:
        errors["effective_date"] = f"An effective date is required to change to “{status}”."
    if errors:
        raise ValidationError(errors)


def _lock_customer(customer_or_pk) -> Customer:
    """Re-read the customer under its row lock, inside the caller's transaction.

    On PostgreSQL this is SELECT ... FOR UPDATE (of the customer row only); on
    SQLite the transaction began with BEGIN IMMEDIATE (settings:
    "transaction_mode"), so it already holds the write lock and reads the
    latest committed row.
    """
    pk = getattr(customer_or_pk, "pk", customer_or_pk)
    return Customer.objects.select_for_update(of=("self",)).get(pk=pk)


def customer_status_change(
    *,
    actor: Actor,
    customer: Customer,
    status: Status,
    reason: str = "",
    effective_date: datetime.date | None = None,
    expected_version: int | None = None,
) -> Customer:
    """Move the customer to `status` now, or schedule it for a future date.

    Enforces the status's update requirements (reason, date) and refuses
    historical and hidden statuses. The customer is re-read under its lock, so
    the change starts from the status the customer really has: a racing change
    that got there first makes this one "already has the status" (nothing is
    written) or starts from its result.
    """
    require_perm(actor, Customer, "change")
    reason = (reason or "").strip()
    today = timezone.localdate()
    if effective_date is not None and effective_date > today:
        _schedule(actor, customer, status, reason, effective_date)
        return customer
    return _apply(
        actor,
        customer,
        status,
        reason,
        effective_date or today,
        expected_version=expected_version,
        given_date=effective_date,
    )


def _apply(
    actor,
    customer,
    status,
    reason,
    effective_date,
    *,
    expected_version=None,
    pending=None,
    check=True,
    given_date=None,
):
    """Lock the customer, then write the change: the status, one history row, one event.

    `check=False` skips the assignability rules (the scheduler's own moves), but
    a change to the status the customer already has is always refused, so no
    row or event ever records a change that did not happen.
    """
    with transaction.atomic():
        locked = lock(customer, expected_version)  # SELECT ... FOR UPDATE, version check
        if check:
            _check_change(locked, status, reason, given_date)
        elif locked.status_id == status.pk:
            raise ValidationError({"status": f"{locked.name} already has the status “{status}”."})
        previous = locked.status
        updated = object_update(
            actor=actor,
            instance=locked,
            data={"status": status},
            customer=locked,
            action="status_changed",
            message=f"Status changed from {previous} to {status}",
            reason=reason,
            validate=False,
        )
        # Kept beside the status for the progression query; the history row says the same.
        Customer.objects.filter(pk=updated.pk).update(status_since=effective_date)
        updated.status_since = effective_date
        # ORG-10 hinge: the status's related service status, applied and logged by its app.
        from patron.subscriptions.services import customer_services_apply_status

        customer_services_apply_status(actor=actor, customer=updated, status=status, reason=reason)
        if pending is not None:
            pending.from_status = previous
            pending.state = StatusChange.State.APPLIED
            pending.applied_at = timezone.now()
            pending.save(update_fields=["from_status", "state", "applied_at"])
        else:
            StatusChange.objects.create(
                customer=updated,
                from_status=previous,
                to_status=status,
                reason=reason,
                effective_date=effective_date,
                changed_by=actor.user,
                changed_by_label=actor.label,
                applied_at=timezone.now(),
            )
    return updated


def _schedule(actor, customer, status, reason, effective_date) -> StatusChange:
    with transaction.atomic():
        locked = _lock_customer(customer)
        _check_change(locked, status, reason, effective_date)
        waiting = locked.status_changes.pending().select_related("to_status").first()
        if waiting is not None:
            raise ValidationError(
                {
                    "effective_date": f"{locked.name} already has a change to "
                    f"“{waiting.to_status}” scheduled for {waiting.effective_date:%d %b %Y}; "
                    "cancel it first."
                }
            )
        change = StatusChange.objects.create(
            customer=locked,
            to_status=status,
            reason=reason,
            effective_date=effective_date,
            state=StatusChange.State.PENDING,
            changed_by=actor.user,
            changed_by_label=actor.label,
        )
        audit.record(
            actor=actor,
            action="status_change_scheduled",
            obj=locked,
            customer=locked,
            changes={"pending_status": [None, f"{status} on {effective_date.isoformat()}"]},
            message=f"Scheduled a change to {status} on {effective_date:%d %b %Y}",
            reason=reason,
        )
    return change


def _lock_pending(pk) -> StatusChange | None:
    """The pending change `pk` under its lock, or None once it was applied or cancelled."""
    return (
        StatusChange.objects.select_for_update(of=("self",))
        .select_related("to_status")
        .filter(pk=pk, state=StatusChange.State.PENDING)
        .first()
    )


def customer_status_change_cancel(*, actor: Actor, change: StatusChange) -> StatusChange:
    """Cancel a pending change before its day.

    Locks the customer, then the change (the order every status write takes),
    so a cancel racing the scheduler either cancels a change that is then not
    applied, or finds it already applied and says so.
    """
    require_perm(actor, Customer, "change")
    with transaction.atomic():
        customer = _lock_customer(change.customer_id)
        locked = _lock_pending(change.pk)
        if locked is None:
            raise ValidationError("Only a pending status change can be cancelled.")
        change = locked
        change.state = StatusChange.State.CANCELLED
        change.cancelled_by_label = actor.label
        change.save(update_fields=["state", "cancelled_by_label"])
        audit.record(
            actor=actor,
            action="status_change_cancelled",
            obj=customer,
            customer=customer,
            changes={"pending_status": [f"{change.to_status} on {change.effective_date}", None]},
            message=(
                f"Cancelled the change to {change.to_status} due {change.effective_date:%d %b %Y}"
            ),
        )
    return change


def status_changes_apply_due(*, today: datetime.date | None = None) -> int:
    """Apply every pending change whose day has come. Returns how many were applied."""
    today = today or timezone.localdate()
    applied = 0
    due = (
        StatusChange.objects.pending()
        .filter(effective_date__lte=today)
        .values_list("pk", "customer_id")
    )
    for pk, customer_id in list(due):
        with transaction.atomic():
            # The customer first, then its change: the same order as every other status write.
            customer = Customer.objects.select_for_update(of=("self",)).filter(pk=customer_id)
            customer = customer.first()
            change = _lock_pending(pk) if customer is not None else None
            if change is None:  # applied, cancelled or deleted meanwhile
                continue
            try:
                _check_change(customer, change.to_status, change.reason, change.effective_date)
            except ValidationError as exc:
                change.state = StatusChange.State.CANCELLED
                change.cancelled_by_label = SCHEDULER.label
                change.note = ("Not applied: " + " ".join(exc.messages))[:300]
                change.save(update_fields=["state", "cancelled_by_label", "note"])
                continue
            reason = change.reason or f"Scheduled by {change.changed_by_label}"
            _apply(
                SCHEDULER,
                customer,
                change.to_status,
                reason,
                change.effective_date,
                pending=change,
                check=False,
            )
            applied += 1
    return applied


@dataclass
class Progression:
    status: Status
    next_status: Status
    count: int


def _progressions(on_date: datetime.date):
    statuses = Status.objects.filter(next_status__isnull=False, next_status_days__gt=0)
    for status in statuses.select_related("next_status"):
        cutoff = on_date - datetime.timedelta(days=status.next_status_days)
        due = Customer.objects.filter(status=status, status_since__lte=cutoff, archived=False)
        yield status, due


def statuses_progress_preview(*, on_date: datetime.date | None = None) -> list[Progression]:
    """What the scheduler would move on `on_date` ("12 customers will move tomorrow")."""
    on_date = on_date or timezone.localdate()
    return [
        Progression(status, status.next_status, due.count())
        for status, due in _progressions(on_date)
    ]


def statuses_progress_due(*, today: datetime.date | None = None) -> int:
    """Move customers whose status has run its course on to the next status."""
    today = today or timezone.localdate()
    moved = 0
    for status, due in _progressions(today):
        next_status = status.next_status
        reason = f"Automatic: {status.next_status_days} days in {status}"
        cutoff = today - datetime.timedelta(days=status.next_status_days)
        for pk in list(due.values_list("pk", flat=True)):
            with transaction.atomic():
                customer = Customer.objects.select_for_update(of=("self",)).filter(pk=pk).first()
                if (
                    customer is None
                    or customer.status_id != status.pk
                    or customer.status_since is None
                    or customer.status_since > cutoff
                    or customer.archived
                ):
                    continue  # moved, re-dated or archived by someone else meanwhile
                if next_status.pk == status.pk:
                    continue  # a status that "moves on" to itself changes nothing
                _apply(SCHEDULER, customer, next_status, reason, today, check=False)
                moved += 1
    return moved
