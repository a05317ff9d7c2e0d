"""Writes for the status list (the customer's own status changes live in customers)."""

from django.db import transaction

from patron.core import audit
from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.core.services import require_perm, simple_create, simple_delete, simple_update
from patron.statuses.models import Status, StatusReason

REASON_MAX = StatusReason._meta.get_field("text").max_length


def clean_reasons(texts) -> list[str]:
    """The preset reasons as given, trimmed, blanks and repeats (any case) left out."""
    seen, reasons = set(), []
    for text in texts or []:
        text = " ".join(str(text).split())
        if text and text.lower() not in seen:
            seen.add(text.lower())
            reasons.append(text)
    too_long = [t for t in reasons if len(t) > REASON_MAX]
    if too_long:
        raise ValidationError(
            {"reasons": f"A preset reason can be at most {REASON_MAX} characters: “{too_long[0]}”."}
        )
    return reasons


def status_create(*, actor: Actor, data: dict) -> Status:
    """A new status; `data` may hold `reasons`, its preset reasons in order."""
    data = dict(data)
    reasons = data.pop("reasons", None)
    with transaction.atomic():
        status = simple_create(actor=actor, model=Status, data=data)
        if reasons:
            status_reasons_set(actor=actor, status=status, reasons=reasons)
    return status


def status_update(
    *, actor: Actor, status: Status, data: dict, expected_version: int | None = None
) -> Status:
    """Change a status; `reasons` in `data` replaces its preset reasons (absent: kept)."""
    data = dict(data)
    reasons = data.pop("reasons", None)
    with transaction.atomic():
        status = simple_update(
            actor=actor, instance=status, data=data, expected_version=expected_version
        )
        if reasons is not None:
            status_reasons_set(actor=actor, status=status, reasons=reasons)
    return status


def status_reasons_set(*, actor: Actor, status: Status, reasons) -> list[StatusReason]:
    """Replace the status's preset reasons with `reasons` (in that order); one event
    when they changed. Customers' past reasons are text and stay as they were."""
    require_perm(actor, Status, "change")
    reasons = clean_reasons(reasons)
    with transaction.atomic():
        before = list(status.reasons.order_by("position", "id").values_list("text", flat=True))
        if before == reasons:
            return list(status.reasons.all())
        status.reasons.all().delete()
        rows = StatusReason.objects.bulk_create(
            StatusReason(status=status, text=text, position=i) for i, text in enumerate(reasons)
        )
        audit.record(
            actor=actor,
            action="updated",
            obj=status,
            changes={"preset reasons": [before, reasons]},
            message=f"Preset reasons of {status} changed",
        )
    return rows


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
