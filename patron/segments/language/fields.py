"""The fields a segment query can name, what each accepts, and how values read."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from difflib import get_close_matches

from patron.segments.language import money
from patron.segments.language.errors import SegmentError

OP_ORDER = [":", "=", "<", "<=", ">", ">="]
EQUALS = frozenset({":", "="})
COMPARE = frozenset({"=", "<", "<=", ">", ">="})

TRUE_WORDS = {"true", "yes", "1"}
FALSE_WORDS = {"false", "no", "0"}


@dataclass(frozen=True)
class FieldSpec:
    """One field of the language.

    `kind` says how the compiler treats it: "name" (looked up in a list such
    as tags), "flag" (a yes/no property of the status), "bool", "date",
    "text", "choice" or "custom".
    """

    name: str
    kind: str
    ops: frozenset
    label: str
    column: str = ""
    choices: tuple = field(default=())


SPECS = {
    spec.name: spec
    for spec in [
        FieldSpec("tag", "name", EQUALS, "tag"),
        FieldSpec("group", "name", EQUALS, "group"),
        FieldSpec("group.set", "name", EQUALS, "group set"),
        FieldSpec("status", "name", EQUALS, "status"),
        FieldSpec("class", "name", EQUALS, "class"),
        FieldSpec("department", "name", EQUALS, "department"),
        FieldSpec("status.billable", "flag", EQUALS, "billable", "billable"),
        FieldSpec("status.active", "flag", EQUALS, "active", "is_active"),
        FieldSpec("status.suspended", "flag", EQUALS, "suspended", "is_suspended"),
        FieldSpec("status.crm_only", "flag", EQUALS, "CRM only", "crm_only"),
        FieldSpec("archived", "bool", EQUALS, "archived", "archived", ("true", "false", "any")),
        FieldSpec("created", "date", COMPARE, "created", "created"),
        FieldSpec("modified", "date", COMPARE, "modified", "modified"),
        FieldSpec("city", "text", EQUALS, "city", "service_city"),
        FieldSpec("postcode", "text", EQUALS, "postcode", "service_postcode"),
        FieldSpec("kind", "choice", EQUALS, "kind", "kind", ("person", "company")),
        FieldSpec(
            "has", "choice", EQUALS, "contact detail", "", ("email", "phone", "mobile", "contact")
        ),
        # Money (language/money.py): what customers buy and what they owe.
        FieldSpec("service", "service", EQUALS, "service"),
        FieldSpec("service_count", "count", COMPARE | {":"}, "service count"),
        FieldSpec("balance", "amount", COMPARE | {":"}, "balance"),
        FieldSpec("cashback", "amount", COMPARE | {":"}, "cashback"),
    ]
}
CUSTOM = FieldSpec("custom", "custom", EQUALS | COMPARE, "custom field", "custom_fields")
CUSTOM_KEY = re.compile(r"^custom\.([A-Za-z0-9_\-]+)$", re.IGNORECASE)

FIELD_NAMES = sorted([*SPECS, "custom"])
# Written alone, these mean "...:true" (e.g. `status.billable`, `archived`).
BARE_FLAGS = frozenset(name for name, spec in SPECS.items() if spec.kind in {"flag", "bool"})


def spec_for(name: str) -> FieldSpec | None:
    name = name.lower()
    if name in SPECS:
        return SPECS[name]
    if CUSTOM_KEY.match(name):
        return CUSTOM
    return None


def custom_key(field_name: str) -> str:
    return CUSTOM_KEY.match(field_name).group(1)


def truth(value: str) -> bool | None:
    """True, False, or None for "any"."""
    value = value.lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    return None


def number(value: str) -> int | Decimal | None:
    try:
        parsed = Decimal(value)
    except InvalidOperation:
        return None
    if not parsed.is_finite():
        return None
    return int(parsed) if parsed == parsed.to_integral_value() and "." not in value else parsed


def date_period(value: str, today: date) -> tuple[date, date] | None:
    """The days `value` covers, as [first, after-last): a day, a month or a year.

    `today`, `yesterday` and `30d` (thirty days ago) count back from `today`.
    """
    value = value.strip().lower()
    if value == "today":
        return today, today + timedelta(days=1)
    if value == "yesterday":
        return today - timedelta(days=1), today
    if m := re.fullmatch(r"(\d{1,5})d", value):
        day = today - timedelta(days=int(m.group(1)))
        return day, day + timedelta(days=1)
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", value):
            day = date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            return day, day + timedelta(days=1)
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", value):
            year, month = int(m.group(1)), int(m.group(2))
            first = date(year, month, 1)
            return first, first + timedelta(days=calendar.monthrange(year, month)[1])
        if m := re.fullmatch(r"(\d{4})", value):
            return date(int(value), 1, 1), date(int(value) + 1, 1, 1)
    except ValueError:
        return None
    return None


def _choice_error(what: str, column: int, value: str, choices) -> Exception:
    guess = get_close_matches(value.lower(), list(choices), n=1)
    message = f"{what} at column {column}"
    if guess:
        return SegmentError(f"{message}; did you mean '{guess[0]}'?", column, guess[0])
    listed = ", ".join(choices[:-1]) + f" or {choices[-1]}"
    return SegmentError(f"{message}; expected {listed}", column)


def check_value(spec: FieldSpec, term) -> None:
    """Refuse a value the field can never take (the names come later, per user)."""
    value, column = term.value, term.value_column
    if spec.kind in {"flag", "bool"}:
        choices = spec.choices or ("true", "false")
        if truth(value) is None and value.lower() not in choices:
            raise _choice_error(
                f"unknown value '{value}' for '{spec.name}'", column, value, choices
            )
    elif spec.kind == "choice":
        if value.lower() not in spec.choices:
            raise _choice_error(f"unknown {spec.label} '{value}'", column, value, spec.choices)
    elif spec.kind == "date":
        if date_period(value, date(2000, 1, 1)) is None:
            raise SegmentError(
                f"'{value}' at column {column} is not a date; use YYYY-MM-DD, YYYY-MM, YYYY, "
                "today, yesterday or a number of days ago such as 30d",
                column,
            )
    elif spec.kind == "custom":
        if term.op not in EQUALS and number(value) is None:
            raise SegmentError(
                f"'{term.field}{term.op}' compares numbers; '{value}' at column {column} "
                "is not a number",
                column,
            )
    elif spec.kind in money.KINDS:
        money.check_value(spec, term)
    elif spec.kind == "name" and not value.strip():
        raise SegmentError(f"empty {spec.label} name at column {column}", column)
