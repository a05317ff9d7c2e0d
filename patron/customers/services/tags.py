"""Tags on a customer: only existing tags can be assigned."""

from __future__ import annotations

from django.db import transaction

from patron.core import audit
from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.core.services import object_touch, require_perm
from patron.customers.models import Customer, CustomerTag
from patron.tags.models import Tag


def customer_tags_set(
    *, actor: Actor, customer: Customer, tags, expected_version: int | None = None
) -> Customer:
    """Make `tags` exactly the customer's tags; log what was added and removed."""
    require_perm(actor, Customer, "change")
    wanted = {t.pk: t for t in tags}
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if expected_version is not None and locked.version != int(expected_version):
            from patron.core.errors import ConflictError

            raise ConflictError(locked)
        current = dict(
            CustomerTag.objects.filter(customer=locked).values_list("tag_id", "tag__name")
        )
        added = [t for pk, t in wanted.items() if pk not in current]
        removed = [pk for pk in current if pk not in wanted]
        if not added and not removed:
            return locked
        CustomerTag.objects.filter(customer=locked, tag_id__in=removed).delete()
        CustomerTag.objects.bulk_create([CustomerTag(customer=locked, tag=t) for t in added])
        before = sorted(current.values())
        after = sorted(t.name for t in wanted.values())
        parts = []
        if added:
            parts.append("added " + ", ".join(sorted(t.name for t in added)))
        if removed:
            parts.append("removed " + ", ".join(sorted(current[pk] for pk in removed)))
        object_touch(locked)
        audit.record(
            actor=actor,
            action="tags_changed",
            obj=locked,
            customer=locked,
            changes={"tags": [before, after]},
            message=("Tags: " + "; ".join(parts))[:300],
        )
    return locked


def customer_tag_add(*, actor: Actor, customer: Customer, tag: Tag) -> Customer:
    # The current tags are read under the customer's lock: two tags added at once both stay.
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        current = list(locked.tags.all())
        if any(t.pk == tag.pk for t in current):
            raise ValidationError({"tag": f"{locked.name} already has the tag “{tag}”."})
        return customer_tags_set(actor=actor, customer=locked, tags=[*current, tag])


def customer_tag_remove(*, actor: Actor, customer: Customer, tag: Tag) -> Customer:
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        current = list(locked.tags.all())
        if not any(t.pk == tag.pk for t in current):
            raise ValidationError({"tag": f"{locked.name} does not have the tag “{tag}”."})
        return customer_tags_set(
            actor=actor, customer=locked, tags=[t for t in current if t.pk != tag.pk]
        )
