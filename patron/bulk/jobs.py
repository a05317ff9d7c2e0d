"""The bulk actions as job types: `customers.bulk_<action>` and `customers.bulk_undo`.

Found by `JobsConfig.ready` like every app's `jobs.py`. Each is atomic: the
whole change, its events and its undo record commit together with the job's
final state, or not at all. `customers.bulk_tag`, the former bulk tag job, stays
registered, carried out by the engine too (see `bulk_tag.py`).
"""

from __future__ import annotations

from functools import partial

from patron.bulk.actions import ACTIONS
from patron.bulk.bulk_tag import (
    FORMER_KIND,
    LABEL,
    run_former_bulk_tag,
    validate_former_bulk_tag,
)
from patron.bulk.engine import (
    PERMISSIONS,
    UNDO_KIND,
    kind_for,
    run_bulk_action,
    run_bulk_undo,
    validate_undo,
    validator,
)
from patron.bulk.views import job_page_context
from patron.jobs.registry import job_type

for _name, _action in ACTIONS.items():
    job_type(
        kind_for(_name),
        label=_action.title,
        permissions=PERMISSIONS,
        validate=validator(_name),
        page_context=job_page_context,
    )(partial(run_bulk_action, _name))

job_type(
    UNDO_KIND,
    label="Undo a bulk action",
    permissions=PERMISSIONS,
    validate=validate_undo,
    page_context=job_page_context,
)(run_bulk_undo)

job_type(FORMER_KIND, label=LABEL, permissions=PERMISSIONS, validate=validate_former_bulk_tag)(
    run_former_bulk_tag
)
