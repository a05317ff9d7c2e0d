"""`customers.bulk_<action>` and `customers.bulk_undo`: the bulk actions as job types.

Each is atomic: the whole change, its events and its undo record commit
together with the job's final state, or not at all.
"""

from __future__ import annotations

from functools import partial

from patron.jobs.bulk.actions import ACTIONS
from patron.jobs.bulk.engine import (
    UNDO_KIND,
    kind_for,
    run_bulk_action,
    run_bulk_undo,
    validate_undo,
    validator,
)
from patron.jobs.registry import job_type

PERMISSIONS = ["customers.change_customer"]

for _name, _action in ACTIONS.items():
    job_type(
        kind_for(_name),
        label=_action.title,
        permissions=PERMISSIONS,
        validate=validator(_name),
    )(partial(run_bulk_action, _name))

job_type(UNDO_KIND, label="Undo a bulk action", permissions=PERMISSIONS, validate=validate_undo)(
    run_bulk_undo
)
