"""Dynamic groups (ORG-5): members are whoever a saved segment selects, live.

A dynamic group is a `Group` with a `segment`. Nobody is added to it by hand;
the segment language's `group:` term (and so the customer list's Group
control, the API's `?group=` and `?q=`, exports and bulk actions) asks the
segment at the moment of the query. Three things here:

- `dynamic_group_members(group, user=...)`: the members now, as a queryset.
- `dynamic_group_snapshot(group, actor)`: freeze the members at this moment
  before acting on them (a bulk action or job works on the returned ids and the
  snapshot row records them).
- `dynamic_groups_evaluate()`: the scheduler's pass that compares each dynamic
  group with what it saw last time and writes who entered and who left
  (`DynamicGroupChange`), the history shown on the group's page (SEG-5).
"""

from __future__ import annotations

import logging
from collections import defaultdict

from django.db import transaction
from django.utils import timezone

from patron.core import audit
from patron.core.actor import Actor, who_or_system
from patron.core.errors import ValidationError
from patron.groups.models import (
    DynamicGroupChange,
    DynamicGroupMember,
    DynamicGroupSnapshot,
    Group,
)

logger = logging.getLogger("patron.groups")

BATCH = 2000
EVALUATOR = Actor.system_actor("dynamic group scheduler")


def group_query(group: Group) -> str:
    """The segment-language term that means "in this group", e.g. `group:"Promo 30"`."""
    from patron.segments.language import quote_value

    return f"group:{quote_value(group.name)}"


def dynamic_group_members(group: Group, *, user=None, compiler=None):
    """Customers in `group` now (its segment, plus any subgroups), within what `user` sees.

    With `user=None` (system work) every customer counts. Raises
    `SegmentError` when the segment cannot run (e.g. it names a deleted tag).
    A caller asking for many groups passes one `Compiler(None)` as `compiler`,
    so the lists of names are read once for all of them.
    """
    from patron.customers.models import Customer
    from patron.segments.language import Compiler

    compiler = compiler or Compiler(None)
    base = Customer.objects.restrict(who_or_system(user), "view")
    return compiler.compile(group_query(group)).apply(base)


def dynamic_group_snapshot(group: Group, actor: Actor) -> list[int]:
    """Freeze and record the members of a dynamic group at this moment; return their ids.

    Acting on a dynamic group (a bulk action, an export, a job) must work on
    this list, not on the live segment, so customers who start matching while
    the job runs are not swept in. Only customers the actor may view are
    included. The snapshot is kept (`DynamicGroupSnapshot`) and logged on the
    group. A static group answers its members' ids without a snapshot row.
    """
    from patron.customers.models import Customer
    from patron.segments.language import SegmentError, compile_segment

    if not group.is_dynamic:
        base = Customer.objects.restrict(actor, "view")
        return list(
            base.filter(memberships__group=group).order_by("pk").values_list("pk", flat=True)
        )
    try:
        compile_segment(group.segment.query, user=None)  # its own error, said plainly
        ids = list(
            dynamic_group_members(group, user=actor.user)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    except SegmentError as exc:
        raise ValidationError(
            {"segment": f"The segment of “{group}” cannot run: {exc.message}"}
        ) from exc
    with transaction.atomic():
        snapshot = DynamicGroupSnapshot.objects.create(
            group=group,
            actor=actor.user if actor.user is not None and actor.user.pk else None,
            actor_label=actor.label[:200],
            query=group.segment.query,
            customer_ids=ids,
            count=len(ids),
        )
        audit.record(
            actor=actor,
            action="dynamic_group_snapshot",
            obj=group,
            changes={"members": [None, len(ids)]},
            message=f"Members of dynamic group “{group}” frozen: {len(ids)} customers "
            f"(snapshot {snapshot.pk})",
        )
    return ids


def dynamic_groups_of(customer_ids, *, user=None) -> dict[int, list[Group]]:
    """For each of `customer_ids`, the dynamic groups it is in now.

    Used by the customer list's Groups column and the overview's Groups card,
    where static memberships come from the membership table as before. One
    query for the groups and one for the customers, however many dynamic
    groups there are: every group's `group:` term is compiled with one shared
    compiler (so each kind of name is read once) and asked as a column of the
    same SELECT over the given customers.
    """
    from patron.customers.models import Customer
    from patron.segments.language import Compiler
    from patron.segments.language.compiler import match_columns

    ids = list(customer_ids)
    found: dict[int, list[Group]] = defaultdict(list)
    if not ids:
        return found
    groups = Group.objects.restrict(who_or_system(user)).filter(segment__isnull=False)
    groups = {f"in_group_{group.pk}": group for group in groups.select_related("segment")}
    # System work: a segment reads every name, as for everyone. A broken segment
    # selects nobody; the group page shows the error.
    columns, _errors = match_columns(
        Compiler(None), {name: group_query(group) for name, group in groups.items()}
    )
    if not columns:
        return found
    base = Customer.objects.restrict(who_or_system(user), "view")
    for row in base.filter(pk__in=ids).annotate(**columns).values("pk", *columns):
        for name in columns:
            if row[name]:
                found[row["pk"]].append(groups[name])
    return found


def dynamic_groups_evaluate(*, now=None) -> dict:
    """Log who entered and who left each dynamic group since the last pass.

    Set-based: the live segment is compared with the members remembered last
    time (`DynamicGroupMember`) in SQL; the differences are written in batches.
    The first pass for a new group records everyone as entered. A group whose
    segment cannot run is skipped (and logged to the server log) until fixed.
    Running it twice in a row writes nothing the second time.
    """
    from patron.segments.language import Compiler, SegmentError

    now = now or timezone.now()
    entered_total = left_total = 0
    compiler = Compiler(None)  # names read once for every group of the pass
    for group in Group.objects.filter(segment__isnull=False).select_related("segment"):
        try:
            live = dynamic_group_members(group, compiler=compiler).values("pk")
            remembered = DynamicGroupMember.objects.filter(group=group)
            with transaction.atomic():
                entered = list(
                    live.exclude(pk__in=remembered.values("customer_id")).values_list(
                        "pk", flat=True
                    )
                )
                left = list(
                    remembered.exclude(customer_id__in=live).values_list("customer_id", flat=True)
                )
                _write(group, entered, left, now)
        except SegmentError as exc:
            logger.warning("Dynamic group %s not evaluated: %s", group.pk, exc.message)
            continue
        entered_total += len(entered)
        left_total += len(left)
    return {"entered": entered_total, "left": left_total}


def _write(group: Group, entered: list[int], left: list[int], now) -> None:
    for start in range(0, len(left), BATCH):
        chunk = left[start : start + BATCH]
        DynamicGroupMember.objects.filter(group=group, customer_id__in=chunk).delete()
    DynamicGroupMember.objects.bulk_create(
        [DynamicGroupMember(group=group, customer_id=pk, since=now) for pk in entered],
        batch_size=BATCH,
    )
    changes = [
        DynamicGroupChange(group=group, customer_id=pk, kind=kind, at=now)
        for kind, ids in (
            (DynamicGroupChange.Kind.ENTERED, entered),
            (DynamicGroupChange.Kind.LEFT, left),
        )
        for pk in ids
    ]
    DynamicGroupChange.objects.bulk_create(changes, batch_size=BATCH)


def explanation_terms(results) -> list[dict]:
    """An `Explanation` as plain data for the API and templates."""
    return [
        {
            "term": r.term,
            "label": r.label,
            "negated": r.negated,
            "matched": r.matched,
            "satisfied": r.satisfied,
            "detail": str(r),
            "reason": r.detail,
        }
        for r in results
    ]


def dynamic_group_explain(group: Group, customer, *, user) -> dict:
    """Why `customer` is in `group` or not, term by term of the group's segment (SEG-5).

    `member` is the answer of the `group:` term itself, so subgroups count;
    `static_membership` says whether a membership added by hand (in a
    subgroup) holds the customer in regardless of the segment. Raises
    `SegmentError` when the segment cannot run.
    """
    from patron.customers.models import Customer, GroupMembership
    from patron.segments.language import explain, segment_queryset

    base = Customer.objects.restrict(who_or_system(user), "view")
    static = GroupMembership.objects.filter(
        customer_id=customer.pk, group__path__startswith=group.path
    ).exists()
    member = (
        segment_queryset(group_query(group), user=None, base=base).filter(pk=customer.pk).exists()
    )
    terms = []
    if group.is_dynamic:
        terms = explanation_terms(explain(group.segment.query, customer, user=None, base=base))
    return {
        "customer": customer.pk,
        "group": group.pk,
        "dynamic": group.is_dynamic,
        "member": member,
        "static_membership": static,
        "query": group.segment.query if group.is_dynamic else None,
        "terms": terms,
    }
