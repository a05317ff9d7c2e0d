"""Writes for call logs; each is logged on its customer's event log."""

from __future__ import annotations

from django.db import transaction

from patron.calls.models import CallLog
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied
from patron.core.services import object_create, object_delete, object_update, require_perm
from patron.customers.models import Customer

EDITABLE = {"direction", "contact", "started_at", "duration", "summary", "outcome", "staff_user"}


def _check_customer(actor: Actor, customer: Customer) -> None:
    if not Customer.objects.restrict(actor, "view").filter(pk=customer.pk).exists():
        raise PermissionDenied("You may not log calls on this customer.")


def call_log_create(*, actor: Actor, customer: Customer, data: dict) -> CallLog:
    """Log a call. It starts now and was taken by the acting user unless told otherwise."""
    require_perm(actor, CallLog, "add")
    _check_customer(actor, customer)
    data = {k: v for k, v in data.items() if k in EDITABLE and v is not None}
    data.setdefault("staff_user", actor.user)
    with transaction.atomic():
        call = CallLog(customer=customer, **data)
        return object_create(
            actor=actor,
            instance=call,
            customer=customer,
            message=f"Logged {call.get_direction_display().lower()} call",
        )


def call_log_update(
    *, actor: Actor, call: CallLog, data: dict, expected_version: int | None = None
) -> CallLog:
    require_perm(actor, CallLog, "change")
    _check_customer(actor, call.customer)
    data = {k: v for k, v in data.items() if k in EDITABLE}
    return object_update(
        actor=actor,
        instance=call,
        data=data,
        expected_version=expected_version,
        customer=call.customer,
        message="Changed call log",
    )


def call_log_delete(*, actor: Actor, call: CallLog) -> None:
    require_perm(actor, CallLog, "delete")
    _check_customer(actor, call.customer)
    object_delete(
        actor=actor, instance=call, customer=call.customer, message=f"Deleted call log: {call}"
    )
