"""Writes for the status list (the customer's own status changes live in customers)."""

from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.core.services import simple_create, simple_delete, simple_update
from patron.statuses.models import Status


def status_create(*, actor: Actor, data: dict) -> Status:
    return simple_create(actor=actor, model=Status, data=data)


def status_update(
    *, actor: Actor, status: Status, data: dict, expected_version: int | None = None
) -> Status:
    return simple_update(actor=actor, instance=status, data=data, expected_version=expected_version)


def status_delete(*, actor: Actor, status: Status) -> None:
    """Delete a status nobody has ever had; a used one should be made Historical."""
    from patron.customers.models import Customer, StatusChange

    if (
        Customer.objects.filter(status=status).exists()
        or StatusChange.objects.filter(to_status=status).exists()
    ):
        raise ValidationError(
            f"“{status}” is or was held by customers, so it is kept for their history. "
            "Set its availability to Historical to stop it being assigned."
        )
    simple_delete(actor=actor, instance=status)
