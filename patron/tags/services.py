"""Writes for tags: create, rename/recolour, merge, delete."""

from django.db import transaction

from patron.core import audit
from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.core.services import object_delete, require_perm, simple_create, simple_update
from patron.tags.models import Tag


def tag_create(*, actor: Actor, data: dict) -> Tag:
    return simple_create(actor=actor, model=Tag, data=data)


def tag_update(*, actor: Actor, tag: Tag, data: dict, expected_version: int | None = None) -> Tag:
    return simple_update(actor=actor, instance=tag, data=data, expected_version=expected_version)


def _log_on_customers(actor: Actor, customer_ids, message: str, changes_for) -> None:
    from patron.customers.models import Customer

    events = [
        audit.build(
            actor=actor,
            action="tags_changed",
            obj=customer,
            customer=customer,
            changes=changes_for(customer),
            message=message,
        )
        for customer in Customer.objects.filter(pk__in=customer_ids).only(
            "pk", "name", "account_number"
        )
    ]
    audit.record_many(events)


def tag_delete(*, actor: Actor, tag: Tag) -> None:
    """Delete a tag, removing it from every customer; each customer's log says so."""
    from patron.customers.models import CustomerTag

    require_perm(actor, Tag, "delete")
    with transaction.atomic():
        ids = list(CustomerTag.objects.filter(tag=tag).values_list("customer_id", flat=True))
        _log_on_customers(
            actor, ids, f"Removed tag {tag} (tag deleted)", lambda c: {"tags": [[tag.name], []]}
        )
        CustomerTag.objects.filter(tag=tag).delete()
        object_delete(actor=actor, instance=tag)


def tag_merge(*, actor: Actor, source: Tag, target: Tag) -> Tag:
    """Move every customer of `source` to `target`, then delete `source`."""
    from patron.customers.models import CustomerTag

    require_perm(actor, Tag, "delete")
    require_perm(actor, Tag, "change")
    if source.pk == target.pk:
        raise ValidationError({"target": "Choose a different tag to merge into."})
    with transaction.atomic():
        source_ids = set(
            CustomerTag.objects.filter(tag=source).values_list("customer_id", flat=True)
        )
        target_ids = set(
            CustomerTag.objects.filter(tag=target).values_list("customer_id", flat=True)
        )
        moving = source_ids - target_ids
        CustomerTag.objects.bulk_create([CustomerTag(customer_id=c, tag=target) for c in moving])
        _log_on_customers(
            actor,
            source_ids,
            f"Tag {source} merged into {target}",
            lambda c: {"tags": [[source.name], [target.name]]},
        )
        CustomerTag.objects.filter(tag=source).delete()
        audit.record(
            actor=actor,
            action="merged",
            obj=target,
            changes={"merged_from": [source.name, None]},
            message=f"Merged tag {source} into {target} ({len(source_ids)} customers)",
        )
        object_delete(actor=actor, instance=source, message=f"Deleted tag {source} (merged)")
    return target
