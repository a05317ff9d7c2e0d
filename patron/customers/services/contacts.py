"""Contacts on a customer account; every change shows in the customer's log."""

from __future__ import annotations

from django.db import transaction

from patron.core.actor import Actor
from patron.core.services import object_create, object_delete, object_update, require_perm
from patron.customers.models import Contact, Customer


def _one_primary(contact: Contact) -> None:
    if contact.is_primary:
        Contact.objects.filter(customer_id=contact.customer_id, is_primary=True).exclude(
            pk=contact.pk
        ).update(is_primary=False)


def contact_create(*, actor: Actor, customer: Customer, data: dict) -> Contact:
    require_perm(actor, Contact, "add")
    with transaction.atomic():
        # Under the customer's lock: of two first contacts added at once, one is primary.
        Customer.objects.select_for_update().only("pk").get(pk=customer.pk)
        is_first = not customer.contacts.exists()
        contact = Contact(customer=customer, **data)
        if is_first:
            contact.is_primary = True
        object_create(
            actor=actor, instance=contact, customer=customer, message=f"Added contact {contact}"
        )
        _one_primary(contact)
    return contact


def _with_derived_fields(contact: Contact, data: dict) -> dict:
    """`data` plus the fields validation derives from it: the name from first and last
    name, and each number's unverified flag. A number kept as written stays so while
    it is unchanged; a new number is kept unverified only when the caller asks."""
    data = dict(data)
    if "name" not in data and {"first_name", "last_name"} & set(data):
        data["name"] = contact.name
    for field in Contact.PHONE_FIELDS:
        flag = f"{field}_unverified"
        if field in data and flag not in data:
            data[flag] = getattr(contact, flag) and data[field] == getattr(contact, field)
    return data


def contact_update(
    *, actor: Actor, contact: Contact, data: dict, expected_version: int | None = None
) -> Contact:
    require_perm(actor, Contact, "change")
    data = _with_derived_fields(contact, data)
    with transaction.atomic():
        if data.get("is_primary"):  # one primary, even when two are made primary at once
            Customer.objects.select_for_update().only("pk").get(pk=contact.customer_id)
        contact = object_update(
            actor=actor,
            instance=contact,
            data=data,
            expected_version=expected_version,
            customer=contact.customer,
            message=f"Changed contact {contact}",
        )
        _one_primary(contact)
    return contact


def contact_delete(*, actor: Actor, contact: Contact) -> None:
    require_perm(actor, Contact, "delete")
    object_delete(
        actor=actor,
        instance=contact,
        customer=contact.customer,
        message=f"Removed contact {contact}",
    )
