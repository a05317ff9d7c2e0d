"""Writes for customer services; each add, change and end is an event on the customer."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from patron.catalogue.models import Service
from patron.core import audit
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.core.money import parse_amount
from patron.core.services import object_create, object_update, require_perm
from patron.customers.models import Customer
from patron.subscriptions.models import CustomerService

EDITABLE = {"quantity", "price_override", "start_date", "end_date", "status", "note"}


def _check_customer(actor: Actor, customer: Customer) -> None:
    if not Customer.objects.restrict(actor, "view").filter(pk=customer.pk).exists():
        raise PermissionDenied("You may not change this customer's services.")


def _clean_input(data: dict) -> dict:
    """Clear messages for what people get wrong most (before the model's own checks)."""
    data = {k: v for k, v in data.items() if k in EDITABLE}
    if "start_date" in data and data["start_date"] is None:
        data["start_date"] = timezone.localdate()
    errors = {}
    quantity = data.get("quantity")
    if quantity is not None and (isinstance(quantity, bool) or int(quantity) < 1):
        errors["quantity"] = f"The quantity is a whole number of at least 1 (got {quantity})."
    price = data.get("price_override")
    if price is not None and price != "":
        if isinstance(price, float):
            raise TypeError("A price is never a float.")
        try:
            data["price_override"] = parse_amount(price, label="Price", allow_negative=False)
        except ValidationError as exc:
            errors["price_override"] = exc.messages
    elif "price_override" in data:
        data["price_override"] = None
    if errors:
        raise ValidationError(errors)
    return data


def _check_service_allowed(service: Service, customer: Customer) -> None:
    if service.archived:
        raise ValidationError(
            {"service": f"“{service}” is archived: no customer can be given it any more."}
        )
    if not service.allowed_for(customer):
        names = ", ".join(f"“{g.name}”" for g in service.allowed_groups.all())
        raise ValidationError(
            {
                "service": f"“{service}” is only for customers in {names} (or their "
                f"subgroups); {customer.name} is not in any of them."
            }
        )


def customer_service_add(
    *, actor: Actor, customer: Customer, service: Service, data: dict | None = None
) -> CustomerService:
    """Give the customer a catalogue service (quantity, price override, start, end)."""
    require_perm(actor, CustomerService, "add")
    _check_customer(actor, customer)
    data = _clean_input(dict(data or {}))
    given_status = bool(data.get("status"))
    data["status"] = data.get("status") or CustomerService.Status.ACTIVE
    with transaction.atomic():
        # Lock the customer: a concurrent status change applies to this service too.
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        _check_service_allowed(service, locked)
        item = CustomerService(customer=locked, service=service, **data)
        if item.end_date and item.end_date < timezone.localdate() and not given_status:
            item.status = CustomerService.Status.ENDED
        return object_create(
            actor=actor,
            instance=item,
            customer=locked,
            message=f"Added service {item}",
        )


def customer_service_update(
    *,
    actor: Actor,
    customer_service: CustomerService,
    data: dict,
    expected_version: int | None = None,
) -> CustomerService:
    """Change quantity, price, dates, status (active/suspended) or the note."""
    require_perm(actor, CustomerService, "change")
    _check_customer(actor, customer_service.customer)
    data = _clean_input(dict(data))
    if data.get("status") == CustomerService.Status.ENDED:
        raise ValidationError({"status": "End a service with “End”, which sets its last day."})
    if customer_service.status == CustomerService.Status.ENDED and data.get("status"):
        raise ValidationError({"status": "An ended service stays ended; add it again instead."})
    return object_update(
        actor=actor,
        instance=customer_service,
        data=data,
        expected_version=expected_version,
        customer=customer_service.customer,
        message=f"Changed service {customer_service}",
    )


def customer_service_end(
    *,
    actor: Actor,
    customer_service: CustomerService,
    end_date: datetime.date | None = None,
    reason: str = "",
    expected_version: int | None = None,
) -> CustomerService:
    """End the service on `end_date` (its last day, today unless given).

    A last day in the future keeps the service active until then (the
    billing run charges it up to that day); today or earlier ends it now.
    """
    require_perm(actor, CustomerService, "change")
    _check_customer(actor, customer_service.customer)
    if customer_service.status == CustomerService.Status.ENDED:
        raise ValidationError(f"“{customer_service}” has already ended.")
    end_date = end_date or timezone.localdate()
    data = {"end_date": end_date}
    if end_date <= timezone.localdate():
        data["status"] = CustomerService.Status.ENDED
    return object_update(
        actor=actor,
        instance=customer_service,
        data=data,
        expected_version=expected_version,
        customer=customer_service.customer,
        action="ended",
        message=f"Ended service {customer_service} on {end_date:%-d %b %Y}",
        reason=reason,
    )


# ORG-10: a status's "related service status" names what its customers' services become.
STATUS_WORDS = {
    "active": CustomerService.Status.ACTIVE,
    "activate": CustomerService.Status.ACTIVE,
    "resume": CustomerService.Status.ACTIVE,
    "suspended": CustomerService.Status.SUSPENDED,
    "suspend": CustomerService.Status.SUSPENDED,
    "ended": CustomerService.Status.ENDED,
    "end": CustomerService.Status.ENDED,
    "ceased": CustomerService.Status.ENDED,
    "cease": CustomerService.Status.ENDED,
}


def related_service_status(text: str) -> str | None:
    """The service status a status's `related_service_status` names (None: leave alone)."""
    return STATUS_WORDS.get((text or "").strip().lower())


def customer_services_apply_status(
    *, actor: Actor, customer: Customer, status, reason: str = ""
) -> int:
    """Give the customer's current services the customer status's related service status.

    Called by the customer status change, inside its transaction. Services
    already in that state are left alone; ending one sets its last day to
    today. Each change is one event on the customer. Returns how many changed.
    """
    target = related_service_status(getattr(status, "related_service_status", ""))
    if target is None:
        return 0
    today = timezone.localdate()
    with transaction.atomic():
        items = list(
            CustomerService.objects.select_for_update()
            .filter(customer=customer)
            .current()
            .exclude(status=target)
            .select_related("service")
        )
        if not items:
            return 0
        events = []
        for item in items:
            before = item.get_status_display()
            item.status = target
            fields = ["status", "version", "modified"]
            if target == CustomerService.Status.ENDED and not item.end_date:
                item.end_date = max(today, item.start_date)
                fields.append("end_date")
            item.version += 1
            item.save(update_fields=fields)
            events.append(
                audit.build(
                    actor=actor,
                    action="updated",
                    obj=item,
                    customer=customer,
                    changes={"status": [before, item.get_status_display()]},
                    message=f"Service {item} is now {item.get_status_display().lower()} "
                    f"(status {status})",
                    reason=reason,
                )
            )
        audit.record_many(events)
    return len(items)


def customer_services_changing(customers, status) -> tuple[str | None, object]:
    """The set-based `customer_services_apply_status` (bulk status change): the service
    status `status` names, and the current services of `customers` (a queryset) not
    already in it, the rows the single path would change. (None, no rows) when the
    status leaves services alone. The caller writes and logs them, as the single path does.
    """
    target = related_service_status(getattr(status, "related_service_status", ""))
    if target is None:
        return None, CustomerService.objects.none()
    rows = CustomerService.objects.filter(customer__in=customers).current().exclude(status=target)
    return target, rows


def monthly_total(items) -> Decimal:
    """What the active monthly services cost a month, exactly (Decimal)."""
    from patron.core.money import money_sum

    return money_sum(
        i.total_price
        for i in items
        if i.status == CustomerService.Status.ACTIVE and i.service.kind == Service.Kind.MONTHLY
    )
