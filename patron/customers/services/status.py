"""Changing a customer's status: history, reason, effective date, scheduling.

A change dated in the future is kept as pending and applied by the status
scheduler on the day; a status with a "next status" moves its customers on
after the set number of days. Both scheduler steps are idempotent: running
them twice moves each customer once.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from patron.core import audit
from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.core.services import object_update, require_perm
from patron.customers.models import Customer, StatusChange
from patron.statuses.models import Status

SCHEDULER = Actor.system_actor("status scheduler")


def _check_change(customer: Customer, status: Status, reason: str, effective_date) -> None:
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
    historical and hidden statuses.
    """
    require_perm(actor, Customer, "change")
    reason = (reason or "").strip()
    _check_change(customer, status, reason, effective_date)
    today = timezone.localdate()
    if effective_date is not None and effective_date > today:
        _schedule(actor, customer, status, reason, effective_date)
        return customer
    return _apply(actor, customer, status, reason, effective_date or today, expected_version)


def _apply(actor, customer, status, reason, effective_date, expected_version=None, pending=None):
    with transaction.atomic():
        previous = customer.status
        updated = object_update(
            actor=actor,
            instance=customer,
            data={"status": status},
            expected_version=expected_version,
            customer=customer,
            action="status_changed",
            message=f"Status changed from {previous} to {status}",
            reason=reason,
            validate=False,
        )
        # Kept beside the status for the progression query; the history row says the same.
        Customer.objects.filter(pk=updated.pk).update(status_since=effective_date)
        updated.status_since = effective_date
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
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        waiting = locked.status_changes.pending().select_related("to_status").first()
        if waiting is not None:
            raise ValidationError(
                {
                    "effective_date": f"{customer.name} already has a change to "
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


def customer_status_change_cancel(*, actor: Actor, change: StatusChange) -> StatusChange:
    """Cancel a pending change before its day."""
    require_perm(actor, Customer, "change")
    with transaction.atomic():
        change = StatusChange.objects.select_for_update().get(pk=change.pk)
        if not change.is_pending:
            raise ValidationError("Only a pending status change can be cancelled.")
        change.state = StatusChange.State.CANCELLED
        change.cancelled_by_label = actor.label
        change.save(update_fields=["state", "cancelled_by_label"])
        audit.record(
            actor=actor,
            action="status_change_cancelled",
            obj=change.customer,
            customer=change.customer,
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
        .values_list("pk", flat=True)
    )
    for pk in list(due):
        with transaction.atomic():
            change = (
                StatusChange.objects.select_for_update()
                .select_related("customer__status", "to_status")
                .filter(pk=pk, state=StatusChange.State.PENDING)
                .first()
            )
            if change is None:  # applied or cancelled meanwhile
                continue
            customer = change.customer
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
                SCHEDULER, customer, change.to_status, reason, change.effective_date, pending=change
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
        for pk in list(due.values_list("pk", flat=True)):
            with transaction.atomic():
                customer = (
                    Customer.objects.select_for_update()
                    .select_related("status")
                    .filter(pk=pk)
                    .first()
                )
                if customer is None or customer.status_id != status.pk:
                    continue  # moved by someone else meanwhile
                _apply(SCHEDULER, customer, next_status, reason, today)
                moved += 1
    return moved


def status_schedule_run(*, today: datetime.date | None = None) -> dict:
    """One pass of the status scheduler: pending changes first, then progressions,
    then the groups' scheduled work (temporary memberships, dynamic group history)."""
    from patron.groups.schedule import groups_schedule_run
    from patron.imports.retention import exports_expire

    return {
        "applied": status_changes_apply_due(today=today),
        "progressed": statuses_progress_due(today=today),
        **groups_schedule_run(today=today),
        **exports_expire(),
    }
