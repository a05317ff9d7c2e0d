"""Names a customer file refers to: tags, groups, classes, departments, custom fields.

Each is looked up once, within what the uploader may see. A name that does
not exist yet is counted (`MissingNames`, shown by the dry run with the rows
that name it) and is either an error for its rows or, when an Owner or
Administrator chose so, created by the import (`missing_names_create`) just
before the rows are checked again and written, in the same transaction.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Iterable

from patron.core.actor import Actor

# kind → (label, permission to create it)
KINDS = {
    "tag": ("tag", "tags.add_tag"),
    "group": ("group", "groups.add_group"),
    "class": ("class", "classes.add_customerclass"),
    "department": ("department", "departments.add_department"),
    "custom field": ("custom field", "customfields.add_customfield"),
}
# Groups the import creates join this multiple-choice set (created when needed).
IMPORTED_GROUP_SET = "Imported"


def suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name.lower(), list(known), n=1, cutoff=0.6)
    return close[0] if close else ""


class MissingNames:
    """Names the file uses that Patron does not have: (kind, name) → rows naming it."""

    def __init__(self):
        self.rows: Counter = Counter()
        self.spelling: dict[tuple[str, str], str] = {}

    def count(self, kind: str, name: str) -> None:
        key = (kind, name.lower())
        self.spelling.setdefault(key, name)
        self.rows[key] += 1

    def as_list(self) -> list[dict]:
        return [
            {"kind": kind, "name": self.spelling[(kind, lower)], "rows": count}
            for (kind, lower), count in sorted(self.rows.items())
        ]


def may_create(actor: Actor, kind: str) -> bool:
    return actor.has_perm(KINDS[kind][1])


def refusal(actor: Actor, kinds: Iterable[str]) -> str:
    """Why the actor may not create names of these kinds ("" when they may)."""
    denied = sorted({KINDS[k][0] for k in kinds if not may_create(actor, k)})
    if not denied:
        return ""
    plural = {"class": "classes", "custom field": "custom fields"}
    listed = ", ".join(plural.get(k, f"{k}s") for k in denied)
    return (
        f"Your role does not allow you to create {listed}; an Owner or Administrator can, "
        "or create them first."
    )


class Names:
    """Objects by lower-cased name, for one model, within what the actor may see."""

    def __init__(self, queryset, kind: str, *, creating: bool = False):
        self.kind = kind
        self.label = KINDS[kind][0] if kind in KINDS else kind
        self.creating = creating
        self.by_name = {}
        for obj in queryset:
            self.by_name.setdefault(obj.name.lower(), obj)
            short = getattr(obj, "short_name", "")
            if short:
                self.by_name.setdefault(short.lower(), obj)

    def get(self, name: str):
        """(object, None), (None, None) for a name the import will create, or
        (None, message)."""
        obj = self.by_name.get(name.lower())
        if obj is not None:
            return obj, None
        if self.creating:
            return None, None
        message = f"There is no {self.label} “{name}”."
        suggestion = suggest(name, self.by_name)
        if suggestion:
            message += f" Did you mean “{self.by_name[suggestion].name}”?"
        elif self.kind not in KINDS:
            message += f" Create the {self.label} first."
        else:
            message += (
                f" Create the {self.label} first, or let the import create the missing names "
                "(Owners and Administrators)."
            )
        return None, message


def missing_names_create(*, actor: Actor, missing: list[dict]) -> dict[str, int]:
    """Create the names the dry run found missing; how many of each kind.

    Runs inside the import's transaction, through each list's own service, so
    the event log shows who created them; a name created meanwhile by someone
    else is used as it is.
    """
    from patron.classes.models import CustomerClass
    from patron.classes.services import customer_class_create
    from patron.core.errors import PermissionDenied
    from patron.customfields.models import CustomField
    from patron.customfields.services import custom_field_create
    from patron.departments.models import Department
    from patron.departments.services import department_create
    from patron.groups.models import Group, GroupSet
    from patron.groups.services import group_create, group_set_create
    from patron.tags.models import Tag
    from patron.tags.services import tag_create

    message = refusal(actor, {item["kind"] for item in missing})
    if message:
        raise PermissionDenied(message)
    made: Counter = Counter()
    group_set = None
    for item in missing:
        kind, name = item["kind"], item["name"]
        if kind == "tag":
            if not Tag.objects.filter(name__iexact=name).exists():
                tag_create(actor=actor, data={"name": name})
                made[kind] += 1
        elif kind == "class":
            if not CustomerClass.objects.filter(name__iexact=name).exists():
                customer_class_create(actor=actor, data={"name": name})
                made[kind] += 1
        elif kind == "department":
            if not Department.objects.filter(name__iexact=name).exists():
                department_create(actor=actor, data={"name": name})
                made[kind] += 1
        elif kind == "group":
            if Group.objects.filter(name__iexact=name).exists():
                continue
            if group_set is None:
                group_set = GroupSet.objects.filter(name__iexact=IMPORTED_GROUP_SET).first()
                if group_set is None:
                    group_set = group_set_create(
                        actor=actor,
                        data={
                            "name": IMPORTED_GROUP_SET,
                            "single_choice": False,
                            "description": "Groups created by customer imports.",
                        },
                    )
            group_create(actor=actor, data={"name": name, "group_set": group_set})
            made[kind] += 1
        elif kind == "custom field" and not CustomField.objects.filter(key=name).exists():
            custom_field_create(
                actor=actor, data={"key": name, "label": name, "field_type": "text"}
            )
            made[kind] += 1
    return dict(made)
