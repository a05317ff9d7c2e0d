"""Writes for the catalogue: tax rates, inventory types and services.

Only roles with the catalogue permissions (Owners and Administrators) edit
it. Anything a customer service or a document uses is archived, never
deleted, so history keeps its meaning.
"""

from __future__ import annotations

from django.db import transaction

from patron.catalogue.models import InventoryType, Service, TaxRate
from patron.core import audit
from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.core.services import (
    object_create,
    object_touch,
    object_update,
    require_perm,
    simple_create,
    simple_delete,
    simple_update,
)

# --- tax rates --------------------------------------------------------------


def _clear_other_defaults(tax_rate: TaxRate) -> None:
    if tax_rate.is_default:
        TaxRate.objects.filter(is_default=True).exclude(pk=tax_rate.pk).update(is_default=False)


def tax_rate_create(*, actor: Actor, data: dict) -> TaxRate:
    """Add a rate; marked default, it becomes the only default."""
    require_perm(actor, TaxRate, "add")
    with transaction.atomic():
        if data.get("is_default"):
            TaxRate.objects.filter(is_default=True).update(is_default=False)
        return object_create(actor=actor, instance=TaxRate(**data))


def tax_rate_update(
    *, actor: Actor, tax_rate: TaxRate, data: dict, expected_version: int | None = None
) -> TaxRate:
    require_perm(actor, TaxRate, "change")
    with transaction.atomic():
        if data.get("is_default"):
            TaxRate.objects.filter(is_default=True).exclude(pk=tax_rate.pk).update(is_default=False)
        if "rate" in data and data["rate"] != tax_rate.rate and tax_rate.services.exists():
            raise ValidationError(
                {
                    "rate": f"“{tax_rate.name}” is used by {tax_rate.services.count()} "
                    "service(s); add a new rate and move them to it, so past prices keep "
                    "their tax."
                }
            )
        return object_update(
            actor=actor, instance=tax_rate, data=data, expected_version=expected_version
        )


def tax_rate_delete(*, actor: Actor, tax_rate: TaxRate) -> None:
    require_perm(actor, TaxRate, "delete")
    used = tax_rate.services.count()
    if used:
        raise ValidationError(
            f"“{tax_rate.name}” is the tax rate of {used} service(s): archive it instead."
        )
    simple_delete(actor=actor, instance=tax_rate)


def default_tax_rate() -> TaxRate | None:
    return TaxRate.objects.filter(is_default=True, archived=False).first()


# --- inventory types --------------------------------------------------------


def inventory_type_create(*, actor: Actor, data: dict) -> InventoryType:
    return simple_create(actor=actor, model=InventoryType, data=data)


def inventory_type_update(
    *,
    actor: Actor,
    inventory_type: InventoryType,
    data: dict,
    expected_version: int | None = None,
) -> InventoryType:
    return simple_update(
        actor=actor, instance=inventory_type, data=data, expected_version=expected_version
    )


def inventory_type_delete(*, actor: Actor, inventory_type: InventoryType) -> None:
    require_perm(actor, InventoryType, "delete")
    used = inventory_type.services.count()
    if used:
        raise ValidationError(
            f"“{inventory_type}” is the inventory type of {used} service(s): archive it instead."
        )
    simple_delete(actor=actor, instance=inventory_type)


# --- services ---------------------------------------------------------------

SERVICE_FIELDS = {
    "code",
    "name",
    "description",
    "kind",
    "price",
    "unit",
    "tax_rate",
    "inventory_type",
    "archived",
}


def _check_refs(data: dict, instance: Service | None = None) -> None:
    tax_rate = data.get("tax_rate")
    if (
        tax_rate is not None
        and tax_rate.archived
        and (instance is None or instance.tax_rate_id != tax_rate.pk)
    ):
        raise ValidationError({"tax_rate": f"The tax rate “{tax_rate.name}” is archived."})


def _set_groups(actor: Actor, service: Service, groups) -> None:
    before = audit.display_value(service, "allowed_groups")
    service.allowed_groups.set(groups)
    after = audit.display_value(service, "allowed_groups")
    if before != after:
        object_touch(service)
        audit.record(
            actor=actor,
            action="updated",
            obj=service,
            changes={"allowed_groups": [before, after]},
            message=f"Changed the allowed groups of service {service}",
        )


def service_create(*, actor: Actor, data: dict) -> Service:
    """Add a catalogue item; without a tax rate it takes the default rate."""
    require_perm(actor, Service, "add")
    data = dict(data)
    groups = data.pop("allowed_groups", None) or []
    data = {k: v for k, v in data.items() if k in SERVICE_FIELDS}
    if data.get("tax_rate") is None:
        data["tax_rate"] = default_tax_rate()
        if data["tax_rate"] is None:
            raise ValidationError(
                {"tax_rate": "Choose a tax rate (there is no default rate to take)."}
            )
    _check_refs(data)
    with transaction.atomic():
        service = object_create(actor=actor, instance=Service(**data))
        if groups:
            service.allowed_groups.set(groups)
            audit.record(
                actor=actor,
                action="updated",
                obj=service,
                changes={"allowed_groups": [[], sorted(str(g) for g in groups)]},
                message=f"Restricted service {service} to groups",
            )
    return service


def service_update(
    *, actor: Actor, service: Service, data: dict, expected_version: int | None = None
) -> Service:
    require_perm(actor, Service, "change")
    data = dict(data)
    groups = data.pop("allowed_groups", None)
    data = {k: v for k, v in data.items() if k in SERVICE_FIELDS}
    _check_refs(data, service)
    with transaction.atomic():
        service = object_update(
            actor=actor, instance=service, data=data, expected_version=expected_version
        )
        if groups is not None:
            _set_groups(actor, service, groups)
    return service


def service_archive(*, actor: Actor, service: Service, archived: bool = True) -> Service:
    """Archive (or bring back) a service: no new customer may get it; existing ones keep it."""
    return service_update(actor=actor, service=service, data={"archived": archived})


def service_delete(*, actor: Actor, service: Service) -> None:
    """Delete a service nobody ever had; one that was used is archived instead."""
    require_perm(actor, Service, "delete")
    from patron.subscriptions.models import CustomerService

    used = CustomerService.objects.filter(service=service).count()
    if used:
        raise ValidationError(
            f"“{service}” has been given to customers {used} time(s): archive it instead."
        )
    with transaction.atomic():
        service.allowed_groups.clear()
        simple_delete(actor=actor, instance=service)
