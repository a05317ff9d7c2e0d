"""Generic building blocks for service functions.

Domain services (`tag_create`, `customer_update`, ...) check their own rules
and call these helpers, which validate, save only the changed fields, bump the
version, and write the event: the same steps for every model.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, models, transaction
from django.db.models import F

from patron.core import audit
from patron.core.actor import Actor
from patron.core.errors import ConflictError, PermissionDenied, ValidationError
from patron.core.models import RestrictedQuerySet


def require_perm(actor: Actor, model: type[models.Model], action: str) -> None:
    """Refuse the write unless the actor's role allows it."""
    opts = model._meta
    if not actor.has_perm(f"{opts.app_label}.{action}_{opts.model_name}"):
        raise PermissionDenied(
            f"Your role does not allow you to {action} {opts.verbose_name_plural}."
        )


def audited_fields(instance: models.Model) -> list[str]:
    return [
        f.name
        for f in instance._meta.get_fields()
        if getattr(f, "concrete", False)
        and not f.auto_created
        and f.editable
        and not f.many_to_many
        and f.name not in {"created", "modified", "version", "id"}
    ]


def _save(instance, **kwargs):
    try:
        with transaction.atomic():
            instance.save(**kwargs)
    except IntegrityError as exc:
        # A concurrent writer won the race for a unique value the checks saw free.
        raise ValidationError(
            f"{instance._meta.verbose_name.capitalize()} could not be saved because another "
            "record with the same values was saved at the same moment. Please try again."
        ) from exc


def object_create(
    *,
    actor: Actor,
    instance: models.Model,
    customer=None,
    message: str = "",
    reason: str = "",
) -> models.Model:
    """Validate and insert `instance`, then log it with every field it was given."""
    instance.full_clean()
    _save(instance)
    after = audit.snapshot(instance, audited_fields(instance))
    changes = {k: [None, v] for k, v in after.items() if v not in (None, "", [], False)}
    audit.record(
        actor=actor,
        action="created",
        obj=instance,
        customer=customer,
        changes=changes,
        message=message or f"Created {instance._meta.verbose_name} {instance}",
        reason=reason,
    )
    return instance


def lock(instance: models.Model, expected_version: int | None = None) -> models.Model:
    """Re-read `instance` under a row lock, refusing if it changed since `expected_version`."""
    locked = type(instance)._default_manager.select_for_update().get(pk=instance.pk)
    if expected_version is not None and locked.version != int(expected_version):
        raise ConflictError(locked)
    return locked


def _reach(actor: Actor, model: type[models.Model]):
    """The rows of `model` the actor may change, or None when no row rule applies
    (a system actor, or a model without `restrict()`)."""
    queryset = model._default_manager.all()
    if actor.user is None or not isinstance(queryset, RestrictedQuerySet):
        return None
    return queryset.restrict(actor, "change")


def keep_within_reach(actor: Actor, instance: models.Model, reach) -> None:
    """Refuse (and so roll back) a write that moved a row out of the actor's reach.

    NetBox's rule: a person may not edit a row into a state they could no
    longer change themselves (a ticket into a department they cannot see, a
    segment to another owner). Call inside the write's transaction.
    """
    if reach is not None and not reach.filter(pk=instance.pk).exists():
        raise PermissionDenied(
            f"This change would put the {instance._meta.verbose_name} “{instance}” outside "
            "what you may change; nothing was saved."
        )


def object_update(
    *,
    actor: Actor,
    instance: models.Model,
    data: dict,
    expected_version: int | None = None,
    customer=None,
    action: str = "updated",
    message: str = "",
    reason: str = "",
    validate: bool = True,
) -> models.Model:
    """Apply `data` to a locked copy of `instance`; log the field-level changes.

    Returns the saved object. Nothing is written when no value changed.
    """
    with transaction.atomic():
        locked = lock(instance, expected_version)
        reach = _reach(actor, type(locked))
        if reach is not None and not reach.filter(pk=locked.pk).exists():
            reach = None  # a write the service allows beyond the role's reach (its own rules)
        fields = list(data)
        before = audit.snapshot(locked, fields)
        for name, value in data.items():
            setattr(locked, name, value)
        if validate:
            locked.full_clean()
        changes = audit.diff(before, audit.snapshot(locked, fields))
        if not changes:
            return locked
        locked.version = F("version") + 1
        concrete = [f for f in fields if not locked._meta.get_field(f).many_to_many]
        _save(locked, update_fields=[*concrete, "version", "modified"])
        locked.refresh_from_db(fields=["version"])
        keep_within_reach(actor, locked, reach)
        audit.record(
            actor=actor,
            action=action,
            obj=locked,
            customer=customer,
            changes=changes,
            message=message or f"Changed {locked._meta.verbose_name} {locked}",
            reason=reason,
        )
    return locked


def object_touch(instance: models.Model) -> None:
    """Bump the version of an object whose related rows changed (tags, groups)."""
    type(instance)._default_manager.filter(pk=instance.pk).update(version=F("version") + 1)
    instance.refresh_from_db(fields=["version", "modified"])


def object_delete(
    *, actor: Actor, instance: models.Model, customer=None, message: str = "", reason: str = ""
) -> None:
    with transaction.atomic():
        locked = lock(instance)
        before = audit.snapshot(locked, audited_fields(locked))
        audit.record(
            actor=actor,
            action="deleted",
            obj=locked,
            customer=customer,
            changes={k: [v, None] for k, v in before.items() if v not in (None, "", [], False)},
            message=message or f"Deleted {locked._meta.verbose_name} {locked}",
            reason=reason,
        )
        locked.delete()


def only_changed(instance: models.Model, data: dict, fields: Iterable[str] | None = None) -> dict:
    """The subset of `data` that differs from `instance` (for forms that post every field)."""
    keys = fields or data.keys()
    return {k: data[k] for k in keys if getattr(instance, k) != data[k]}


def simple_create(*, actor: Actor, model: type[models.Model], data: dict) -> models.Model:
    """Create a configuration object the actor's role allows them to add."""
    require_perm(actor, model, "add")
    with transaction.atomic():
        return object_create(actor=actor, instance=model(**data))


def simple_update(
    *, actor: Actor, instance: models.Model, data: dict, expected_version: int | None = None
) -> models.Model:
    require_perm(actor, type(instance), "change")
    return object_update(
        actor=actor, instance=instance, data=data, expected_version=expected_version
    )


def simple_delete(*, actor: Actor, instance: models.Model) -> None:
    require_perm(actor, type(instance), "delete")
    object_delete(actor=actor, instance=instance)
