"""Adding customers to a group from a pasted list of phone numbers (ORG-6).

Each line is one number with its country code, written with "+" or "00", or
as bare digits ("380980000000", the seed files' format): bare digits are
read as "+<digits>" when that is a valid number, and the reading is shown
with the line; digits that are also a different valid number of the default
region are refused as ambiguous, naming both. Lines are matched to the
E.164 phone and mobile numbers of existing contacts the actor may change;
invalid, duplicate and unknown lines are listed back and nothing is created
for them. Matched customers join the group through the group membership
service, so the single-choice and payment-group rules hold and every
addition is logged; a customer the rules refuse is reported, not skipped
silently.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q

from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.customers.models import Contact, Customer, GroupMembership
from patron.customers.services.groups import check_group_rules, customer_group_add
from patron.groups.models import Group
from patron.imports.phones import PhoneNormaliser

MAX_LINES = 10_000


@dataclass
class PhoneLine:
    line: int
    text: str
    number: str = ""
    problem: str = ""  # "invalid", "ambiguous", "duplicate" or "unknown"
    message: str = ""
    reading: str = ""  # "+380 98 000 0000 (Ukraine)" when written without "+"
    customers: list = field(default_factory=list)

    @property
    def note(self) -> str:
        return f"“{self.text}” read as {self.reading}." if self.reading else ""


@dataclass
class PhoneListResult:
    group: Group
    lines: list[PhoneLine]
    to_add: list = field(default_factory=list)  # customers that will join (or joined)
    already: list = field(default_factory=list)  # customers already in the group
    conflicts: list = field(default_factory=list)  # (customer, message)
    applied: bool = False

    @property
    def problems(self) -> list[PhoneLine]:
        return [line for line in self.lines if line.problem]

    @property
    def matched(self) -> list[PhoneLine]:
        return [line for line in self.lines if not line.problem]

    @property
    def read_without_plus(self) -> list[PhoneLine]:
        """Lines written without "+" that were read as international numbers."""
        return [line for line in self.lines if line.reading]

    def as_dict(self) -> dict:
        def customer(c):
            return {"id": c.pk, "account_number": c.account_number, "name": c.name}

        return {
            "group": self.group.pk,
            "applied": self.applied,
            "matched": [
                {
                    "line": line.line,
                    "number": line.number,
                    "reading": line.reading,
                    "customers": [customer(c) for c in line.customers],
                }
                for line in self.matched
            ],
            "problems": [
                {
                    "line": line.line,
                    "text": line.text,
                    "problem": line.problem,
                    "message": line.message,
                    "reading": line.reading,
                }
                for line in self.problems
            ],
            "added" if self.applied else "to_add": [customer(c) for c in self.to_add],
            "already_in_group": [customer(c) for c in self.already],
            "conflicts": [{**customer(c), "message": m} for c, m in self.conflicts],
        }


SEPARATORS = str.maketrans("", "", " -.()/")


def _number_of(text: str, phones: PhoneNormaliser) -> tuple[str, str, str, str]:
    """(E.164, "", "", reading) or ("", problem, why the line is refused, "").

    `reading` is set only for digits written without "+" that were read as
    an international number.
    """
    compact = text.replace(" ", "")
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not compact.startswith("+"):
        international, national = phones.reading_without_plus(text.translate(SEPARATORS))
        if international is None:
            return "", "invalid", f"“{text}” has no country code; write it as +44 …", ""
        if national is not None:
            return (
                "",
                "ambiguous",
                f"“{text}” could be {international} or {national}; "
                f"write it with “+” and its country code.",
                "",
            )
        return international.number, "", "", str(international)
    number, message = phones.normalise(compact)
    if message:
        return "", "invalid", f"“{text}” is not a valid phone number.", ""
    return number, "", "", ""


def _group_for(actor: Actor, group) -> Group:
    groups = Group.objects.restrict(actor)
    if not isinstance(group, Group):
        try:
            group = groups.select_related("group_set").get(pk=int(group))
        except (Group.DoesNotExist, TypeError, ValueError):
            raise ValidationError({"group": "Choose an existing group."}) from None
    elif not groups.filter(pk=group.pk).exists():
        raise ValidationError({"group": "Choose an existing group."})
    if group.archived:
        raise ValidationError({"group": f"“{group}” is archived and cannot be given to customers."})
    return group


def phone_list_preview(*, actor: Actor, group, text: str) -> PhoneListResult:
    """What adding the numbers in `text` to `group` would do; changes nothing."""
    if not actor.has_perm("customers.change_customer"):
        raise PermissionDenied("Your role does not allow you to change customers.")
    group = _group_for(actor, group)
    raw_lines = (text or "").splitlines()
    if not any(line.strip() for line in raw_lines):
        raise ValidationError({"numbers": "Paste at least one phone number, one per line."})
    if len(raw_lines) > MAX_LINES:
        raise ValidationError({"numbers": f"Paste at most {MAX_LINES:,} lines at a time."})
    phones = PhoneNormaliser()
    lines: list[PhoneLine] = []
    first_line: dict[str, int] = {}
    for index, raw in enumerate(raw_lines, start=1):
        text_line = raw.strip()
        if not text_line:
            continue
        line = PhoneLine(line=index, text=text_line)
        line.number, problem, message, line.reading = _number_of(text_line, phones)
        if problem:
            line.problem, line.message = problem, message
        elif line.number in first_line:
            line.problem = "duplicate"
            line.message = f"The same number as line {first_line[line.number]}."
        else:
            first_line[line.number] = index
        lines.append(line)

    visible = Customer.objects.restrict(actor, "change")
    numbers = list(first_line)
    owners: dict[str, set[int]] = defaultdict(set)
    for start in range(0, len(numbers), 1000):
        part = numbers[start : start + 1000]
        for phone, mobile, customer_id in Contact.objects.filter(
            Q(phone__in=part) | Q(mobile__in=part), customer__in=visible
        ).values_list("phone", "mobile", "customer_id"):
            for value in (phone, mobile):
                if value in first_line:
                    owners[value].add(customer_id)
    customers = Customer.objects.in_bulk({pk for ids in owners.values() for pk in ids})
    held = _held_groups(list(customers))
    members = {pk for pk, groups in held.items() if any(g.pk == group.pk for g in groups)}
    result = PhoneListResult(group=group, lines=lines)
    seen: set[int] = set()
    for line in lines:
        if line.problem:
            continue
        ids = sorted(owners.get(line.number, ()), key=lambda pk: customers[pk].name)
        if not ids:
            line.problem, line.message = "unknown", "No customer has this number."
            continue
        line.customers = [customers[pk] for pk in ids]
        for pk in ids:
            if pk in seen:
                continue
            seen.add(pk)
            customer = customers[pk]
            if pk in members:
                result.already.append(customer)
                continue
            try:
                check_group_rules([*held.get(pk, []), group], customer, held.get(pk, []))
            except ValidationError as exc:
                result.conflicts.append((customer, " ".join(exc.messages)))
            else:
                result.to_add.append(customer)
    return result


def _held_groups(customer_ids: list[int]) -> dict[int, list[Group]]:
    held: dict[int, list[Group]] = defaultdict(list)
    memberships = GroupMembership.objects.filter(customer_id__in=customer_ids).select_related(
        "group__group_set"
    )
    for membership in memberships:
        held[membership.customer_id].append(membership.group)
    return held


def phone_list_apply(*, actor: Actor, group, text: str) -> PhoneListResult:
    """Add every matched customer to the group, one logged membership change each.

    A customer the rules refuse now (something changed since the preview) is
    reported with the others, and the rest still join.
    """
    result = phone_list_preview(actor=actor, group=group, text=text)
    added = []
    for customer in result.to_add:
        try:
            customer_group_add(actor=actor, customer=customer, group=result.group)
        except ValidationError as exc:
            result.conflicts.append((customer, " ".join(exc.messages)))
        else:
            added.append(customer)
    result.to_add = added
    result.applied = True
    return result
