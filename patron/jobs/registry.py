"""The job types Patron knows: a name, the function that does the work, its rules.

A job type is a function registered under a dotted name, in the `jobs.py`
module of the app it belongs to (found by `JobsConfig.ready`)::

    @job_type("imports.export", label="Export", permissions=["customers.view_customer"])
    def export(job, context) -> dict:
        ...
        return {"message": "Exported 120 customers."}

The function gets its row and a `JobContext` (`patron/jobs/context.py`); this
module knows neither, so the job model can ask it for a label. See
docs/jobs.md for the contract a job function must keep.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class JobType:
    name: str
    func: Callable
    label: str
    atomic: bool = True
    permissions: tuple[str, ...] = ()
    validate: Callable | None = None
    # `page_context(request, job) -> dict`: what the job's page shows besides the
    # progress bar (a bulk action adds its Undo button; see `patron/bulk/views.py`).
    page_context: Callable | None = None


_registry: dict[str, JobType] = {}


def job_type(
    name: str,
    *,
    label: str = "",
    atomic: bool = True,
    permissions: tuple[str, ...] | list[str] = (),
    validate: Callable | None = None,
    page_context: Callable | None = None,
):
    """Register `func(job, context) -> summary dict` as the job type `name`.

    `atomic=True` (the default) runs the whole function and the job's final
    state in one transaction: a job that raises, is cancelled or loses its
    worker leaves nothing behind. `atomic=False` is for jobs that commit in
    chunks; each chunk must be idempotent (see docs/jobs.md).
    `permissions` are checked against the actor when the job is enqueued, and
    `validate(actor, params)` may raise ValidationError to refuse bad input
    before a row is created. `page_context(request, job)` adds to the job's
    page: `job_type_template`, drawn under the progress bar, the values that
    template shows, and `params` to show the parameters in other words.
    """

    def register(func):
        if name in _registry and _registry[name].func is not func:
            raise ValueError(f"Job type {name!r} is registered twice.")
        _registry[name] = JobType(
            name=name,
            func=func,
            label=label or name,
            atomic=atomic,
            permissions=tuple(permissions),
            validate=validate,
            page_context=page_context,
        )
        return func

    return register


def get_job_type(name: str) -> JobType | None:
    return _registry.get(name)


def job_types() -> dict[str, JobType]:
    return dict(_registry)


def job_label(name: str) -> str:
    jt = _registry.get(name)
    return jt.label if jt else name
