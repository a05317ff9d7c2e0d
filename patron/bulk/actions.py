"""The bulk actions: their parameters, which customers they change, and how.

Each action names the field it changes (the name the event log uses), picks
the customers that will change with one queryset, reports the ones that
would break a rule, and writes its changes with the statements in `sql.py`.
Undo runs the same `write` on rows with before and after swapped.
"""

from __future__ import annotations

import contextlib
import datetime

from django.db.models import BigIntegerField, Exists, OuterRef, Q
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.dateparse import parse_date

from patron.bulk import sql
from patron.core.actor import Actor
from patron.core.errors import ValidationError
from patron.customers.models import Customer, CustomerTag, GroupMembership, StatusChange
from patron.departments.models import Department
from patron.groups.models import Group
from patron.jobs.models import Job, JobChange
from patron.statuses.models import Status
from patron.subscriptions.models import CustomerService
from patron.subscriptions.services import customer_services_changing
from patron.tags.models import Tag


def _pick(model, actor: Actor, value, field: str, message: str):
    obj = None
    with contextlib.suppress(TypeError, ValueError):
        if value not in (None, ""):
            obj = model.objects.restrict(actor).filter(pk=int(value)).first()
    if obj is None:
        raise ValidationError({field: message})
    return obj


class BulkAction:
    """One kind of bulk change. Subclasses fill in the hooks below."""

    name = ""
    label = ""
    title = ""  # the job type's label
    field = ""  # the event log's name for what changes
    event_action = "updated"
    acts_on_archived = False

    def clean(self, actor: Actor, params: dict) -> dict:
        """The action's own parameters in stored form, or ValidationError by field."""
        return {}

    def describe(self, params: dict) -> str:
        """The action in a sentence, e.g. "Add the tag “VIP”"."""
        return self.label

    def candidates(self, chosen, params: dict):
        """The chosen customers this action may act on (archived ones are refused)."""
        return chosen if self.acts_on_archived else chosen.filter(archived=False)

    def changing(self, candidates, params: dict):
        """The candidates whose value is not already what the action sets."""
        raise NotImplementedError

    def conflicts(self, changing, params: dict) -> tuple[Q, list[tuple[Customer, str]]]:
        """Customers that would break a rule: a condition to exclude them, and why."""
        return Q(pk__in=[]), []

    def record(self, job, eligible, params: dict, when) -> int:
        """Write the JobChange rows for `eligible`; how many customers change."""
        raise NotImplementedError

    def write(self, job, when) -> None:
        """Make each customer's value what its JobChange row says (`after`), with one
        version step and a new `modified` per changed customer (`sql.update_customers`)."""
        raise NotImplementedError

    def changes_sql(self) -> str:
        """SQL for the event's [before, after] of the JobChange row `jc` (customer `c`)."""
        raise NotImplementedError

    def changes_join(self) -> str:
        """An extra join the event statement needs for `changes_sql` (see `sql.link_names`)."""
        return ""

    def sample(self, customers: list[Customer], params: dict) -> list[tuple[str, str]]:
        """(before, after) as text for the preview's sample customers."""
        raise NotImplementedError

    def touches(self, change_pair, params: dict) -> bool:
        """Whether a later event's [before, after] for this field touched what this job set."""
        return True

    def after_write(self, job, actor, params, when, upto: int):
        """Extra bookkeeping after each batch of events (rows with ids up to `upto`)."""

    done_word = "changed"  # the summary's "3 customers changed"

    def for_params(self, params: dict) -> BulkAction:
        """The action that carries out `params` (a status change dated later schedules)."""
        return self

    def for_job(self, job) -> BulkAction:
        """The action that carried out `job`, for its undo."""
        return self

    def preview_headline(self, params: dict) -> str:
        """Words after "will schedule N customers" when the action schedules, else ""."""
        return ""

    def late_failures(self, job, params: dict) -> list[tuple[Customer, str]]:
        """Customers `record` had to leave out after all (a race with another change)."""
        return []

    def undo(self, original, job, context) -> dict | None:
        """An undo of its own, returning the undo job's summary; None: the generic undo
        (`engine.run_bulk_undo`) writes the swapped change rows back."""
        return None


def undo_summary(context, done: str, original: Job, changed: int, when) -> dict:
    """The result of an undo job: `done` for how many customers, and who could not be reverted."""
    failed = len(context.failures)
    text = f"{done} for {changed:,} customers."
    if failed:
        text += f" {failed:,} could not be reverted (listed below)."
    return {
        "message": text,
        "undo_of": original.pk,
        "changed": changed,
        "failed": failed,
        "applied_at": when.isoformat(),
    }


# --- tags and groups --------------------------------------------------------------------


class _LinkAction(BulkAction):
    model = None  # Tag or Group
    link_field = ""  # "tag" or "group"
    param = ""
    adding = True

    def _obj(self, params):
        return self.model.objects.get(pk=params[self.param])

    def describe(self, params):
        return f"{self.label} “{self._obj(params)}”"

    def _link_exists(self, params):
        links = CustomerTag if self.model is Tag else GroupMembership
        return Exists(
            links.objects.filter(
                customer_id=OuterRef("pk"), **{f"{self.link_field}_id": params[self.param]}
            )
        )

    def changing(self, candidates, params):
        exists = self._link_exists(params)
        return candidates.exclude(exists) if self.adding else candidates.filter(exists)

    def record(self, job, eligible, params, when):
        value = str(params[self.param])
        before, after = ("NULL", value) if self.adding else (f"'{int(value)}'", None)
        return sql.record_changes(job, eligible, self.field, before, after)

    def _names(self):
        links = CustomerTag if self.model is Tag else GroupMembership
        tables = (links._meta.db_table, f"{self.link_field}_id", self.model._meta.db_table)
        # Tag names are unique, so a list can lose a tag by its name (see link_names).
        return sql.link_names(*tables, self.field, unique_names=self.model is Tag)

    def changes_sql(self):
        _join, before, after = self._names()
        return sql.json_array(before, after)

    def changes_join(self):
        return self._names()[0]

    def current_names(self, customer_ids) -> dict[int, list[str]]:
        links = CustomerTag if self.model is Tag else GroupMembership
        current: dict[int, list[str]] = {pk: [] for pk in customer_ids}
        for customer_id, name in links.objects.filter(customer_id__in=customer_ids).values_list(
            "customer_id", f"{self.link_field}__name"
        ):
            current[customer_id].append(name)
        return current

    def sample(self, customers, params):
        name = str(self._obj(params))
        current = self.current_names([c.pk for c in customers])
        rows = []
        for customer in customers:
            now = sorted(current[customer.pk])
            then = sorted({*now, name}) if self.adding else [n for n in now if n != name]
            rows.append((", ".join(now) or "—", ", ".join(then) or "—"))
        return rows

    def touches(self, change_pair, params):
        name = str(self._obj(params))
        try:
            before, after = change_pair
            return name in set(before or []) ^ set(after or [])
        except (TypeError, ValueError):
            return True


class AddTag(_LinkAction):
    name, label, field, event_action = "add_tag", "Add the tag", "tags", "tags_changed"
    title = "Bulk add tag"
    model, link_field, param = Tag, "tag", "tag"

    def clean(self, actor, params):
        tag = _pick(Tag, actor, params.get("tag"), "tag", "Choose an existing tag.")
        return {"tag": tag.pk}

    def write(self, job, when):
        sql.set_tag_links(job, when)
        sql.update_customers(job, self.field, when)


class RemoveTag(AddTag):
    name, label, title = "remove_tag", "Remove the tag", "Bulk remove tag"
    adding = False


class SetGroup(_LinkAction):
    name, label, field, event_action = "set_group", "Put in the group", "groups", "groups_changed"
    title = "Bulk set group"
    model, link_field, param = Group, "group", "group"

    def clean(self, actor, params):
        group = _pick(Group, actor, params.get("group"), "group", "Choose an existing group.")
        if group.archived:
            raise ValidationError(
                {"group": f"“{group}” is archived and cannot be given to customers."}
            )
        if getattr(group, "segment_id", None) is not None:
            raise ValidationError(
                {
                    "group": f"“{group}” is a dynamic group: its members are whoever its "
                    "segment selects, so nobody can be added to it by hand."
                }
            )
        return {"group": group.pk}

    def conflicts(self, changing, params):
        group = Group.objects.select_related("group_set").get(pk=params["group"])
        rules = []
        if group.group_set.single_choice:
            rules.append(
                (
                    GroupMembership.objects.filter(group__group_set_id=group.group_set_id),
                    f"is already in “{{other}}” of the single-choice set “{group.group_set}”; "
                    "remove it from there first.",
                )
            )
        if group.payment_group:
            rules.append(
                (
                    GroupMembership.objects.filter(group__payment_group=True),
                    "is already in the payment group “{other}”; a customer can be in only one.",
                )
            )
        exclude = Q(pk__in=[])
        failures = []
        reported = set()
        for memberships, message in rules:
            others = memberships.exclude(group_id=group.pk)
            exclude |= Q(Exists(others.filter(customer_id=OuterRef("pk"))))
            rows = (
                others.filter(customer__in=changing.values("pk"))
                .order_by("customer_id")
                .values_list(
                    "customer_id", "customer__name", "customer__account_number", "group__name"
                )
            )
            for customer_id, name, number, other in rows:
                if customer_id in reported:
                    continue
                reported.add(customer_id)
                customer = Customer(pk=customer_id, name=name, account_number=number)
                failures.append((customer, f"{name} {message.format(other=other)}"))
        return exclude, failures

    def write(self, job, when):
        sql.set_group_links(job, when)
        sql.update_customers(job, self.field, when)
        added = JobChange.objects.filter(job=job, field="groups", after__isnull=False)
        if added.exists():
            Group.objects.filter(
                pk__in=[int(v) for v in added.values_list("after", flat=True).distinct()],
                was_used=False,
            ).update(was_used=True)


# --- fields on the customer row ------------------------------------------------------------


class ChangeStatus(BulkAction):
    name, label, field, event_action = (
        "change_status",
        "Change the status to",
        "status",
        "status_changed",
    )
    title = "Bulk status change"

    def clean(self, actor, params):
        status = _pick(Status, actor, params.get("status"), "status", "Choose an existing status.")
        errors = {}
        if status.availability == Status.Availability.HISTORICAL:
            errors["status"] = f"“{status}” is a historical status and cannot be newly assigned."
        elif not status.visible_in_backend:
            errors["status"] = f"“{status}” is hidden and cannot be assigned."
        reason = str(params.get("reason") or "").strip()
        if status.require_reason and not reason:
            errors["reason"] = f"A reason is required to change to “{status}”."
        raw_date = params.get("effective_date") or ""
        effective = None
        if raw_date:
            effective = raw_date if isinstance(raw_date, datetime.date) else None
            if effective is None:
                with contextlib.suppress(ValueError):  # well formed but no such day
                    effective = parse_date(str(raw_date))
            if effective is None:
                errors["effective_date"] = "Give the effective date as YYYY-MM-DD."
        elif status.require_date:
            errors["effective_date"] = f"An effective date is required to change to “{status}”."
        if errors:
            raise ValidationError(errors)
        cleaned = {"status": status.pk, "reason": reason}
        if effective is not None:
            cleaned["effective_date"] = effective.isoformat()
        return cleaned

    def describe(self, params):
        return f"{self.label} “{Status.objects.get(pk=params['status'])}”"

    def for_params(self, params):
        effective = _effective_date(params)
        if effective is not None and effective > timezone.localdate():
            return SCHEDULE_STATUS
        return self

    def for_job(self, job):
        if JobChange.objects.filter(job=job, field=ScheduleStatus.field).exists():
            return SCHEDULE_STATUS
        return self

    def changing(self, candidates, params):
        return candidates.exclude(status_id=params["status"])

    def record(self, job, eligible, params, when):
        effective = params.get("effective_date") or timezone.localdate().isoformat()
        count = sql.record_changes(
            job,
            eligible,
            "status",
            sql.as_text("c.status_id"),
            str(params["status"]),
            analyse=False,
        )
        sql.record_changes(job, eligible, "status_since", sql.as_text("c.status_since"), effective)
        return count

    def write(self, job, when):
        sql.update_customers(
            job,
            "status",
            when,
            [
                sql.column_from("status_id", "id"),
                sql.column_from_optional("status_since", "date"),
            ],
            with_field="status_since",
        )
        if not _is_undo(job):
            self._record_services(job)
        sql.update_services(job, when)

    def _record_services(self, job) -> None:
        """The new status's related service status (ORG-10), as the single path applies it:
        a change row per current service of the changed customers not already in it.
        Read after the customer rows are updated (and so locked), so a service added
        meanwhile is either seen here or added after this job commits."""
        status = Status.objects.get(pk=job.params["status"])
        customers = JobChange.objects.filter(job=job, field="status").values("customer_id")
        target, services = customer_services_changing(customers, status)
        if target is not None:
            sql.record_service_changes(
                job,
                services,
                target,
                ended=CustomerService.Status.ENDED,
                today=timezone.localdate(),
            )

    def changes_sql(self):
        table = Status._meta.db_table
        return sql.json_array(sql.name_of(table, "jc.before"), sql.name_of(table, "jc.after"))

    def sample(self, customers, params):
        new = str(Status.objects.get(pk=params["status"]))
        names = dict(Status.objects.values_list("pk", "name"))
        return [(names.get(c.status_id, "—"), new) for c in customers]

    def after_write(self, job, actor, params, when, upto):
        """The status history: one StatusChange per customer, as the single path writes;
        and an event per customer service the change suspended, resumed or ended."""
        lo = upto - sql.EVENT_BATCH + 1
        reason = params.get("reason", "")
        sql.insert_status_history(job, actor, reason=reason, when=when, lo=lo, hi=upto)
        if _is_undo(job):
            suffix = f"; undo of job #{job.params.get('job')})"
        else:
            suffix = f"; bulk action, job #{job.pk})"
        sql.insert_service_events(
            job, actor, suffix=suffix, reason=reason, when=when, lo=lo, hi=upto
        )


def _is_undo(job) -> bool:
    from patron.bulk.engine import UNDO_KIND  # the engine imports this module

    return job.kind == UNDO_KIND


def _effective_date(params) -> datetime.date | None:
    value = params.get("effective_date")
    return parse_date(value) if value else None


class ScheduleStatus(ChangeStatus):
    """A status change dated after today: a pending StatusChange per customer, as the
    single path (`customers.services.status`) schedules one, applied by the status
    scheduler on the day. The customer row itself does not change until then.

    The job's `pending_status` rows name the StatusChange each customer got (`after`),
    so undo cancels exactly those, and only while they are still pending.
    """

    field, event_action, done_word = sql.SCHEDULE_FIELD, "status_change_scheduled", "scheduled"

    def _status(self, params) -> Status:
        return Status.objects.get(pk=params["status"])

    def describe(self, params):
        day = _effective_date(params)
        return f"Status change to “{self._status(params)}” scheduled for {day:%d %b %Y}"

    def preview_headline(self, params):
        day = _effective_date(params)
        return f"to change to “{self._status(params)}” on {day:%d %b %Y}"

    def for_params(self, params):
        return self

    def _pending_failures(self, customers) -> list[tuple[Customer, str]]:
        """The single path's refusal for each of `customers` with a pending change."""
        rows = (
            StatusChange.objects.pending()
            .filter(customer__in=customers)
            .order_by("customer_id")
            .values_list(
                "customer_id",
                "customer__name",
                "customer__account_number",
                "to_status__name",
                "effective_date",
            )
        )
        return [
            (
                Customer(pk=customer_id, name=name, account_number=number),
                f"{name} already has a change to “{to_status}” scheduled for "
                f"{day:%d %b %Y}; cancel it first.",
            )
            for customer_id, name, number, to_status, day in rows
        ]

    def conflicts(self, changing, params):
        waiting = StatusChange.objects.pending().filter(customer_id=OuterRef("pk"))
        return Q(Exists(waiting)), self._pending_failures(changing.values("pk"))

    def record(self, job, eligible, params, when):
        sql.record_changes(job, eligible, self.field, "NULL", None)
        sql.insert_pending_status_changes(
            job,
            status_id=params["status"],
            reason=params.get("reason", ""),
            effective=_effective_date(params),
            when=when,
        )
        return sql.link_pending_status_changes(job, status_id=params["status"], when=when)

    def late_failures(self, job, params):
        unlinked = JobChange.objects.filter(job=job, field=self.field, after__isnull=True)
        failures = self._pending_failures(unlinked.values("customer_id"))
        unlinked.delete()
        return failures

    def write(self, job, when):
        """Nothing on the customer row: the scheduler changes it on the day."""

    def changes_sql(self):
        return sql.pending_status_changes_sql()

    def changes_join(self):
        return sql.pending_status_join()

    def sample(self, customers, params):
        then = f"{self._status(params)} from {_effective_date(params):%d %b %Y}"
        names = dict(Status.objects.values_list("pk", "name"))
        return [(names.get(c.status_id, "—"), then) for c in customers]

    def after_write(self, job, actor, params, when, upto):
        """The pending StatusChange rows are the history; `record` wrote them."""

    def undo(self, original, job, context):
        """Cancel the job's scheduled changes that are still pending, in one UPDATE, with
        one event each; list the customers whose change was applied or cancelled since."""
        actor = context.actor
        params = original.params
        rows = JobChange.objects.filter(job=original, field=self.field)
        visible = Customer.objects.restrict(actor, "change")
        for customer_id in rows.exclude(customer_id__in=visible.values("pk")).values_list(
            "customer_id", flat=True
        ):
            context.fail(None, f"Customer #{customer_id} is not one you may change; not reverted.")
        mine = rows.filter(customer_id__in=visible.values("pk"))
        note = f"Cancelled by the undo of bulk action job #{original.pk} (job #{job.pk})"
        sql.cancel_pending_status_changes(original, mine, label=actor.label, note=note)
        changes = StatusChange.objects.filter(pk=Cast(OuterRef("after"), BigIntegerField()))
        cancelled = mine.filter(
            Exists(changes.filter(state=StatusChange.State.CANCELLED, note=note))
        )
        self._report_gone(context, mine.exclude(Exists(changes.filter(note=note))), original)
        when = timezone.now()
        sql.copy_changes_swapped(original, job, cancelled)
        changed = JobChange.objects.filter(job=job, field=self.field).count()
        context.progress(0, changed)
        context.check_cancelled()
        status, day = self._status(params), _effective_date(params)
        reason = f"Undo of bulk action job #{original.pk}"
        for _hi, logged in sql.insert_events(
            job,
            actor,
            field=self.field,
            action="status_change_cancelled",
            changes_sql=self.changes_sql(),
            join=self.changes_join(),
            message=f"Cancelled the change to {status} due {day:%d %b %Y} (undo of job "
            f"#{original.pk})",
            reason=reason,
            when=when,
        ):
            context.progress(min(changed, logged), changed)
            context.check_cancelled()
        done = f"Cancelled the scheduled change of job #{original.pk}"
        return undo_summary(context, done, original, changed, when)

    def _report_gone(self, context, rows, original) -> None:
        """A failure per customer whose change of `original` is no longer pending."""
        gone = (
            StatusChange.objects.filter(
                pk__in=rows.annotate(change=Cast("after", BigIntegerField())).values("change")
            )
            .select_related("customer", "to_status")
            .only(
                "state",
                "applied_at",
                "cancelled_by_label",
                "effective_date",
                "customer__id",
                "customer__name",
                "customer__account_number",
                "to_status__name",
            )
            .order_by("customer_id")
        )
        for change in gone.iterator():
            what = f"The change to “{change.to_status}” due {change.effective_date:%d %b %Y}"
            if change.state == StatusChange.State.APPLIED:
                when = timezone.localtime(change.applied_at) if change.applied_at else None
                done = f"was already applied{f' on {when:%d %b %Y %H:%M}' if when else ''}"
            else:
                done = f"was already cancelled by {change.cancelled_by_label or 'someone else'}"
            context.fail(change.customer, f"{what} {done}; not reverted.")


SCHEDULE_STATUS = ScheduleStatus()


class AssignDepartment(BulkAction):
    name, label, field = "assign_department", "Assign the department", "department"
    title = "Bulk assign department"

    def clean(self, actor, params):
        value = params.get("department")
        if value in (None, "", "none"):
            return {"department": None}
        department = _pick(
            Department, actor, value, "department", "Choose an existing department, or none."
        )
        return {"department": department.pk}

    def describe(self, params):
        if params["department"] is None:
            return "Clear the department"
        return f"{self.label} “{Department.objects.get(pk=params['department'])}”"

    def changing(self, candidates, params):
        if params["department"] is None:
            return candidates.filter(department__isnull=False)
        return candidates.exclude(department_id=params["department"])

    def record(self, job, eligible, params, when):
        after = None if params["department"] is None else str(params["department"])
        return sql.record_changes(
            job, eligible, "department", sql.as_text("c.department_id"), after
        )

    def write(self, job, when):
        sql.update_customers(job, "department", when, [sql.column_from("department_id", "id")])

    def changes_sql(self):
        table = Department._meta.db_table
        return sql.json_array(sql.name_of(table, "jc.before"), sql.name_of(table, "jc.after"))

    def sample(self, customers, params):
        names = dict(Department.objects.values_list("pk", "name"))
        after = names.get(params["department"], "—")
        return [(names.get(c.department_id, "—"), after) for c in customers]


class Archive(BulkAction):
    name, label, field, event_action = "archive", "Archive the accounts", "archived", "archived"
    title = "Bulk archive"
    acts_on_archived = True
    archiving = True

    def describe(self, params):
        return self.label

    def changing(self, candidates, params):
        return candidates.filter(archived=not self.archiving)

    def record(self, job, eligible, params, when):
        if self.archiving:
            return sql.record_changes(job, eligible, "archived", "NULL", sql.datetime_text(when))
        return sql.record_changes(job, eligible, "archived", sql.as_text("c.archived_at"), None)

    def write(self, job, when):
        sql.update_customers(job, "archived", when, sql.archived_from())

    def changes_sql(self):
        return sql.json_array(
            sql.json_bool("jc.before IS NOT NULL"), sql.json_bool("jc.after IS NOT NULL")
        )

    def sample(self, customers, params):
        labels = ("Archived", "Active")
        then = labels[0] if self.archiving else labels[1]
        return [(labels[0] if c.archived else labels[1], then) for c in customers]


class Restore(Archive):
    name, label, event_action = "restore", "Restore the accounts", "restored"
    title = "Bulk restore"
    archiving = False


ACTIONS: dict[str, BulkAction] = {
    action.name: action
    for action in (
        AddTag(),
        RemoveTag(),
        SetGroup(),
        ChangeStatus(),
        AssignDepartment(),
        Archive(),
        Restore(),
    )
}


def get_action(name) -> BulkAction:
    action = ACTIONS.get(str(name or ""))
    if action is None:
        choices = ", ".join(ACTIONS)
        raise ValidationError({"action": f"Choose one of the bulk actions: {choices}."})
    return action
