"""`customers.bulk_tag`: add a tag to, or remove it from, many customers at once.

Set-based: one INSERT … SELECT (or DELETE) for the tag links, whose RETURNING
clause names exactly the customers that changed; their events and version
bumps are then written in batches. Running it again changes nothing, because
the second INSERT finds every link already there.
"""

from __future__ import annotations

import contextlib
from types import SimpleNamespace

from django.db import connection
from django.db.models import Exists, F, OuterRef
from django.http import QueryDict
from django.utils import timezone

from patron.core import audit
from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.customers.filters import CustomerFilterSet
from patron.customers.models import Customer, CustomerTag
from patron.customers.selection import selection_data
from patron.jobs.bulk.targets import ids_in, visible_customers
from patron.jobs.registry import job_type
from patron.tags.models import Tag

BATCH = 2000
ACTIONS = ("add", "remove")


def _filterset(actor: Actor, data: QueryDict, queryset):
    return CustomerFilterSet(data, queryset=queryset, request=SimpleNamespace(user=actor.user))


def validate_bulk_tag(actor: Actor, params: dict) -> dict:
    """Check the parameters and return them in their stored form."""
    errors = {}
    tags = Tag.objects.restrict(actor)
    tag = None
    with contextlib.suppress(TypeError, ValueError):
        tag = tags.filter(pk=int(params.get("tag"))).first()
    if tag is None:
        errors["tag"] = "Choose an existing tag."
    action = params.get("action", "add")
    if action not in ACTIONS:
        errors["action"] = "Choose “add” or “remove”."
    customers, filter_value = params.get("customers"), params.get("filter")
    clean = {"tag": tag.pk if tag else None, "action": action}
    if (customers is None) == (filter_value is None):
        errors["customers"] = "Choose the customers: give either a list of ids or a filter."
    elif customers is not None:
        try:
            ids = sorted({int(c) for c in customers})
        except (TypeError, ValueError):
            ids = None
        if not ids or isinstance(customers, str | dict):
            errors["customers"] = "Give the customers as a non-empty list of customer ids."
        else:
            clean["customers"] = ids
    else:
        try:
            data = selection_data(filter_value)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        else:
            filterset = _filterset(actor, data, Customer.objects.none())
            if not filterset.is_valid():
                errors["filter"] = [
                    f"{name}: {message}" if name != "__all__" else message
                    for name, messages in filterset.errors.items()
                    for message in messages
                ]
            clean["filter"] = {key: data.getlist(key) for key in sorted(data)}
    if errors:
        raise ValidationError(errors)
    return clean


def _returning(sql: str, params: list) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def _add_links(tag: Tag, target) -> list[int]:
    """INSERT … SELECT the missing links; the ids of the customers that gained the tag."""
    missing = target.exclude(
        Exists(CustomerTag.objects.filter(customer_id=OuterRef("pk"), tag_id=tag.pk))
    )
    select_sql, select_params = (
        missing.order_by().annotate(chosen_id=F("pk")).values("chosen_id").query.sql_with_params()
    )
    qn = connection.ops.quote_name
    sql = (
        f"INSERT INTO {qn(CustomerTag._meta.db_table)} (customer_id, tag_id, created) "
        f"SELECT chosen.chosen_id, %s, %s FROM ({select_sql}) chosen WHERE true "
        "ON CONFLICT DO NOTHING RETURNING customer_id"
    )
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    return _returning(sql, [tag.pk, now, *select_params])


def _remove_links(tag: Tag, target) -> list[int]:
    """DELETE the links of the chosen customers; the ids of those that lost the tag."""
    select_sql, select_params = target.order_by().values("pk").query.sql_with_params()
    qn = connection.ops.quote_name
    sql = (
        f"DELETE FROM {qn(CustomerTag._meta.db_table)} WHERE tag_id = %s "
        f"AND customer_id IN ({select_sql}) RETURNING customer_id"
    )
    return _returning(sql, [tag.pk, *select_params])


def _log_batch(*, actor, job, tag, action, ids: list[int], when) -> None:
    """One event per customer of the batch (written in bulk) and one version bump."""
    current: dict[int, list[str]] = {pk: [] for pk in ids}
    for customer_id, name in CustomerTag.objects.filter(customer_id__in=ids).values_list(
        "customer_id", "tag__name"
    ):
        current[customer_id].append(name)
    verb = "added" if action == "add" else "removed"
    message = f"Tags: {verb} {tag.name} (bulk tag by job #{job.pk})"
    events = []
    for customer in Customer.objects.filter(pk__in=ids).only("id", "name", "account_number"):
        after = sorted(current[customer.pk])
        before = (
            sorted(t for t in after if t != tag.name)
            if action == "add"
            else sorted([*after, tag.name])
        )
        events.append(
            audit.build(
                actor=actor,
                action="tags_changed",
                obj=customer,
                customer=customer,
                changes={"tags": [before, after], "job": [None, job.pk]},
                message=message,
                when=when,
            )
        )
    audit.record_many(events)
    Customer.objects.filter(pk__in=ids).update(version=F("version") + 1, modified=when)


@job_type(
    "customers.bulk_tag",
    label="Bulk tag",
    permissions=["customers.change_customer"],
    validate=validate_bulk_tag,
)
def customers_bulk_tag(job, context) -> dict:
    """Add or remove one tag on the chosen customers the actor may change."""
    actor = context.actor
    params = validate_bulk_tag(actor, job.params)
    tag = Tag.objects.get(pk=params["tag"])
    action = params["action"]
    visible = visible_customers(actor)
    if "customers" in params:
        chosen = visible.filter(ids_in(params["customers"]))
        found = set(chosen.values_list("pk", flat=True))
        for missing in sorted(set(params["customers"]) - found):
            context.fail(None, f"Customer #{missing} was not found.")
    else:
        chosen = _filterset(actor, selection_data(params["filter"]), visible).qs
    for customer in chosen.filter(archived=True).only("id", "name", "account_number"):
        context.fail(customer, "The account is archived; restore it before changing its tags.")
    target = chosen.filter(archived=False)
    total = target.count()
    context.progress(0, total)
    context.check_cancelled()

    changed = _add_links(tag, target) if action == "add" else _remove_links(tag, target)
    changed.sort()
    done = total - len(changed)
    context.progress(done, total)
    when = timezone.now()
    for start in range(0, len(changed), BATCH):
        context.check_cancelled()
        batch = changed[start : start + BATCH]
        _log_batch(actor=actor, job=job, tag=tag, action=action, ids=batch, when=when)
        done += len(batch)
        context.progress(done, total)

    unchanged = total - len(changed)
    if action == "add":
        message = f"Added “{tag.name}” to {len(changed)} customers; {unchanged} already had it."
    else:
        message = (
            f"Removed “{tag.name}” from {len(changed)} customers; {unchanged} did not have it."
        )
    if context.failures:
        message += f" {len(context.failures)} could not be changed (listed below)."
    return {
        "message": message,
        "tag": tag.name,
        "action": action,
        "matched": total,
        "changed": len(changed),
        "unchanged": unchanged,
        "failed": len(context.failures),
    }
