"""The bulk tag request, carried out by the engine's add and remove tag.

`POST /api/jobs/bulk-tag/` and the customer list's `/jobs/bulk-tag/` form
came before the bulk actions and keep their shape: a tag, `action` ("add" or
"remove") and the customers as `customers` (ids) or `filter` (the customer
list's query string, or an object of its filters; empty: every active account
the user may change). `bulk_tag_enqueue` turns that into the bulk action
`add_tag` or `remove_tag` on the same customers, so the job is the engine's
like any other bulk action: set-based, with the same events, and it can be
undone.

The former job type `customers.bulk_tag` stays registered: its rows keep
their name in the job list, and code that starts it by name gets the same
checks and the same work from the engine (`run_former_bulk_tag`), only no undo,
as the job's kind names no bulk action.
"""

from __future__ import annotations

import contextlib

from patron.bulk.engine import PERMISSIONS, bulk_params, kind_for, run_bulk_action
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.customers.selection import filter_dict, selection_data
from patron.jobs.models import Job
from patron.jobs.services import job_enqueue

FORMER_KIND = "customers.bulk_tag"
LABEL = "Bulk tag"
ACTIONS = {"add": "add_tag", "remove": "remove_tag"}
# An empty filter chooses every account the list shows by default: the active ones.
EVERY_ACTIVE_ACCOUNT = "archived:false"
# The engine's names for what is wrong with the customers, as the bulk tag request names it.
ERROR_KEYS = {"ids": "customers", "target": "customers", "q": "filter"}


def bulk_tag_request(params: dict) -> tuple[str, dict]:
    """The bulk action and its request data for a bulk tag request (ValidationError by field)."""
    errors = {}
    action = params.get("action") or "add"
    if action not in ACTIONS:
        errors["action"] = "Choose “add” or “remove”."
    customers, filter_value = params.get("customers"), params.get("filter")
    data = {"tag": params.get("tag")}
    if (customers is None) == (filter_value is None):
        errors["customers"] = "Choose the customers: give either a list of ids or a filter."
    elif customers is not None:
        ids = None
        if isinstance(customers, list | tuple):
            with contextlib.suppress(TypeError, ValueError):
                ids = sorted({int(c) for c in customers})
        if not ids:
            errors["customers"] = "Give the customers as a non-empty list of customer ids."
        data["ids"] = ids
    else:
        try:
            chosen = selection_data(filter_value)
        except ValidationError as exc:
            errors.update(exc.message_dict)
        else:
            data["q"] = chosen.get("q", "").strip()
            data["filter"] = filter_dict(chosen)
            if not data["q"] and not data["filter"]:
                data["q"] = EVERY_ACTIVE_ACCOUNT
    if errors:
        raise ValidationError(errors)
    return ACTIONS[action], data


def _bulk_tag_errors(exc: ValidationError) -> ValidationError:
    if not hasattr(exc, "error_dict"):
        return exc
    errors: dict[str, list[str]] = {}
    for key, messages in exc.message_dict.items():
        if key == "q":
            messages = [f"q: {message}" for message in messages]
        errors.setdefault(ERROR_KEYS.get(key, key), []).extend(messages)
    return ValidationError(errors)


def bulk_tag_enqueue(*, actor: Actor, params: dict, idempotency_key: str | None = None) -> Job:
    """Queue the bulk action a bulk tag request asks for; the job the client polls."""
    for perm in PERMISSIONS:
        if not actor.has_perm(perm):
            raise PermissionDenied(f"Your role does not allow you to run “{LABEL}”.")
    action_name, data = bulk_tag_request(params)
    try:
        return job_enqueue(
            actor=actor, kind=kind_for(action_name), params=data, idempotency_key=idempotency_key
        )
    except ValidationError as exc:
        raise _bulk_tag_errors(exc) from None


def validate_former_bulk_tag(actor: Actor, params: dict) -> dict:
    """The `validate` hook of `customers.bulk_tag`: the engine's checks, the stored form
    the former job type kept (tag, action, and `customers` or `filter`)."""
    action_name, data = bulk_tag_request(params)
    try:
        checked = bulk_params(actor, action_name, data)
    except ValidationError as exc:
        raise _bulk_tag_errors(exc) from None
    clean = {"tag": checked["tag"], "action": params.get("action") or "add"}
    if "ids" in data:
        clean["customers"] = data["ids"]
    else:
        chosen = selection_data(params["filter"])
        clean["filter"] = {key: chosen.getlist(key) for key in sorted(chosen)}
    return clean


def run_former_bulk_tag(job, context) -> dict:
    """A `customers.bulk_tag` job: its stored parameters (tag, action, customers or filter)
    run through the engine as the bulk action they ask for."""
    action_name, data = bulk_tag_request(job.params)
    job.params = data  # read by the engine; the row keeps what it was started with
    return run_bulk_action(action_name, job, context)
