"""Creating, editing, archiving and restoring customer accounts."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.core.models import Sequence
from patron.core.services import lock, object_create, object_update, require_perm
from patron.customers.models import Customer, StatusChange


def next_account_number() -> str:
    """The next free account number in the configured format."""
    while True:
        number = settings.PATRON_ACCOUNT_NUMBER_FORMAT.format(n=Sequence.next_value("customer"))
        if not Customer.objects.filter(account_number=number).exists():
            return number


def check_external_reference(*, actor: Actor, value, exclude_pk=None) -> None:
    """Refuse an external reference another customer holds. Someone restricted to
    groups is not told that a customer they cannot see holds it (as account numbers)."""
    value = (value or "").strip()
    if not value:
        return
    taken = Customer.objects.filter(external_reference=value).exclude(pk=exclude_pk)
    if not taken.exists():
        return
    if Customer.objects.restrict(actor).filter(pk__in=taken.values("pk")).exists():
        message = f"External reference {value} is already used by another customer."
    else:
        message = f"External reference {value} cannot be used. Check it, or leave it empty."
    raise ValidationError({"external_reference": message})


def customer_create(
    *,
    actor: Actor,
    data: dict,
    tags=(),
    groups=(),
    contacts=(),
    status_reason: str = "",
) -> Customer:
    """Open an account; tags, groups and contacts may be given at once.

    Everything is written in one transaction: a bad contact or a group-rule
    conflict leaves no half-made customer behind.
    """
    from patron.customers.services.contacts import contact_create
    from patron.customers.services.groups import customer_groups_set
    from patron.customers.services.tags import customer_tags_set

    require_perm(actor, Customer, "add")
    data = dict(data)
    status = data.get("status")
    if status is None:
        raise ValidationError({"status": "Choose a status for the new customer."})
    if not status.is_assignable:
        raise ValidationError(
            {"status": f"“{status}” is a historical or hidden status and cannot be assigned."}
        )
    if status.require_reason and not status_reason:
        raise ValidationError({"status": f"“{status}” needs a reason; set it after creating."})
    with transaction.atomic():
        if not data.get("account_number"):
            data["account_number"] = next_account_number()
        customer = Customer(**data, status_since=timezone.localdate())
        taken = Customer.objects.filter(account_number=customer.account_number)
        if taken.exists():
            # Someone restricted to groups is not told that a customer they cannot see
            # holds the number (the import check says the same; docs/import-export.md).
            message = (
                f"Account number {customer.account_number} is already in use."
                if Customer.objects.restrict(actor).filter(pk__in=taken.values("pk")).exists()
                else f"Account number {customer.account_number} cannot be used. Choose "
                "another, or leave it empty to number the customer automatically."
            )
            raise ValidationError({"account_number": message})
        check_external_reference(actor=actor, value=customer.external_reference)
        object_create(actor=actor, instance=customer, customer=customer)
        StatusChange.objects.create(
            customer=customer,
            from_status=None,
            to_status=status,
            reason=status_reason or "Account opened",
            effective_date=timezone.localdate(),
            changed_by=actor.user,
            changed_by_label=actor.label,
            applied_at=timezone.now(),
        )
        if tags:
            customer_tags_set(actor=actor, customer=customer, tags=tags)
        if groups:
            customer_groups_set(actor=actor, customer=customer, groups=groups)
        for contact_data in contacts:
            contact_create(actor=actor, customer=customer, data=contact_data)
    customer.refresh_from_db()
    return customer


# Fields that change only through their own services (status has history, archive a flag).
PROTECTED_FIELDS = {
    "status",
    "status_since",
    "archived",
    "archived_at",
    "account_number",
    "custom_fields",
}


# Fields that validation derives from others: when a source is edited, the derived field
# is saved too (the display name from first/last/company name; a billing address's
# country from the service address's; a region and tax number read for their country).
DERIVED_FROM = {
    "name": {"kind", "first_name", "last_name", "company_name"},
    "billing_country": {
        "billing_same_as_service",
        "billing_street",
        "billing_city",
        "billing_postcode",
        "billing_region",
        "service_country",
    },
    "service_region": {"service_country"},
    "billing_region": {"billing_country", "service_country"},
    "tax_number": {"service_country", "billing_country", "billing_same_as_service"},
}


def with_derived_fields(customer: Customer, data: dict) -> dict:
    """`data` plus the current value of every field derived from a field in it, so
    the value validation derives is saved with the edit."""
    data = dict(data)
    for field, sources in DERIVED_FROM.items():
        if field not in data and sources & set(data):
            data[field] = getattr(customer, field)
    return data


def customer_update(
    *, actor: Actor, customer: Customer, data: dict, expected_version: int | None = None
) -> Customer:
    """Edit the profile. Status, archive and tags/groups have their own services.

    Countries, regions and the tax number are checked and normalised by the
    model's validation (`Customer.clean`), whatever path the edit comes from.
    """
    require_perm(actor, Customer, "change")
    wrong = PROTECTED_FIELDS & set(data)
    if wrong:
        raise ValidationError(
            dict.fromkeys(wrong, "Change this with its own action, not the profile form.")
        )
    data = with_derived_fields(customer, data)
    if "external_reference" in data:
        check_external_reference(
            actor=actor, value=data["external_reference"], exclude_pk=customer.pk
        )
    return object_update(
        actor=actor,
        instance=customer,
        data=data,
        expected_version=expected_version,
        customer=customer,
        message="Edited profile",
    )


def customer_archive(*, actor: Actor, customer: Customer, reason: str = "") -> Customer:
    """Take the customer out of active lists, searches and audiences; keep history."""
    require_perm(actor, Customer, "change")
    with transaction.atomic():
        locked = lock(customer)  # a racing archive finds it archived, not archives it again
        if locked.archived:
            raise ValidationError(f"{locked} is already archived.")
        return object_update(
            actor=actor,
            instance=locked,
            data={"archived": True, "archived_at": timezone.now()},
            customer=locked,
            action="archived",
            message="Archived the account",
            reason=reason,
        )


def customer_restore(*, actor: Actor, customer: Customer, reason: str = "") -> Customer:
    require_perm(actor, Customer, "change")
    with transaction.atomic():
        locked = lock(customer)
        if not locked.archived:
            raise ValidationError(f"{locked} is not archived.")
        return object_update(
            actor=actor,
            instance=locked,
            data={"archived": False, "archived_at": None},
            customer=locked,
            action="restored",
            message="Restored the account",
            reason=reason,
        )
