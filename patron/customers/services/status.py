"""Changing a customer's status, with history, reason and effective date."""

from __future__ import annotations

import datetime

from django.db import transaction
from django.utils import timezone

from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.core.services import object_update, require_perm
from patron.customers.models import Customer, StatusChange
from patron.statuses.models import Status


def customer_status_change(
    *,
    actor: Actor,
    customer: Customer,
    status: Status,
    reason: str = "",
    effective_date: datetime.date | None = None,
    expected_version: int | None = None,
) -> Customer:
    """Move the customer to `status`, enforcing the status's update requirements."""
    require_perm(actor, Customer, "change")
    reason = (reason or "").strip()
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
    today = timezone.localdate()
    if effective_date is not None and effective_date > today:
        errors["effective_date"] = (
            "The effective date cannot be in the future; change the status on the day."
        )
    if errors:
        raise ValidationError(errors)
    effective_date = effective_date or today
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
        StatusChange.objects.create(
            customer=updated,
            from_status=previous,
            to_status=status,
            reason=reason,
            effective_date=effective_date,
            changed_by=actor.user,
            changed_by_label=actor.label,
        )
    return updated
