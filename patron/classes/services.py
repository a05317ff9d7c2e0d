"""Writes for customer classes."""

from patron.classes.models import CustomerClass
from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.core.services import simple_create, simple_delete, simple_update


def customer_class_create(*, actor: Actor, data: dict) -> CustomerClass:
    return simple_create(actor=actor, model=CustomerClass, data=data)


def customer_class_update(
    *, actor: Actor, customer_class: CustomerClass, data: dict, expected_version: int | None = None
) -> CustomerClass:
    return simple_update(
        actor=actor, instance=customer_class, data=data, expected_version=expected_version
    )


def customer_class_delete(*, actor: Actor, customer_class: CustomerClass) -> None:
    from patron.customers.models import Customer

    used = Customer.objects.filter(customer_class=customer_class).count()
    if used:
        raise ValidationError(
            f"“{customer_class}” is the class of {used} customer(s); move them to another "
            "class before deleting it."
        )
    simple_delete(actor=actor, instance=customer_class)
