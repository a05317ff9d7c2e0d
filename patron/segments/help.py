"""What the segment language's help page (`/segments/help/`) says: fields, operators, examples.

The field list is checked against the language's own table (`language.fields.SPECS`)
by `tests/test_segment_help.py`, and every example is run on the demo data there,
so the page cannot describe a field that does not exist or an example that fails.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldHelp:
    term: str  # how it is written
    field: str  # the name in language.fields.SPECS ("custom" for custom.KEY)
    selects: str
    examples: tuple[str, ...]


FIELDS = (
    FieldHelp("tag:NAME", "tag", "with that tag", ("tag:VIP", 'tag:"Churn risk"')),
    FieldHelp(
        "group:NAME",
        "group",
        "in that group or any group below it",
        ("group:London", "group:North"),
    ),
    FieldHelp(
        "group.set:NAME", "group.set", "in any group of that group set", ("group.set:Region",)
    ),
    FieldHelp("status:NAME", "status", "in that status", ("status:Active", "status:Suspended")),
    FieldHelp(
        "status.billable", "status.billable", "whose status is billable", ("status.billable",)
    ),
    FieldHelp(
        "status.active", "status.active", "whose status counts as active", ("status.active",)
    ),
    FieldHelp(
        "status.suspended",
        "status.suspended",
        "whose status counts as suspended",
        ("status.suspended",),
    ),
    FieldHelp(
        "status.crm_only",
        "status.crm_only",
        "in a CRM-only (prospect) status",
        ("status.crm_only:false",),
    ),
    FieldHelp("class:NAME", "class", "of that customer class", ("class:Business",)),
    FieldHelp(
        "department:NAME",
        "department",
        "looked after by that department",
        ('department:"Technical support"',),
    ),
    FieldHelp(
        "created",
        "created",
        "by the day the account was created",
        ("created>=2025-01", "created>=90d", "created:2024"),
    ),
    FieldHelp("modified", "modified", "by the day the account last changed", ("modified>=7d",)),
    FieldHelp(
        "archived",
        "archived",
        "archived or not; left out unless a query mentions it",
        ("archived", "archived:any"),
    ),
    FieldHelp("city:TEXT", "city", "with that service-address city", ("city:Leeds", "city:Man*")),
    FieldHelp(
        "postcode:TEXT",
        "postcode",
        "with that service-address postcode",
        ("postcode:LS*", "postcode:M*"),
    ),
    FieldHelp("kind:person / kind:company", "kind", "of that kind", ("kind:company",)),
    FieldHelp(
        "has:email / phone / mobile / contact",
        "has",
        "with a contact that has one",
        ("has:email", "has:mobile"),
    ),
    FieldHelp(
        "service:NAME",
        "service",
        "with a current (active or suspended) service of that name or code",
        ('service:"Fibre 500"',),
    ),
    FieldHelp(
        "service_count",
        "service_count",
        "by the number of current services",
        ("service_count>=2", "service_count=0"),
    ),
    FieldHelp(
        "balance",
        "balance",
        "by money balance (positive: the customer owes)",
        ("balance>0", "balance<=0"),
    ),
    FieldHelp("cashback", "cashback", "by the cashback held", ("cashback=0",)),
    FieldHelp(
        "custom.KEY:VALUE",
        "custom",
        "whose custom field KEY has that value (numbers compare with < > too)",
        ('custom.router:"Patron Hub 3"', "custom.line_speed>=100"),
    ),
)

OPERATORS = (
    ("and", "both", "tag:VIP and city:Leeds"),
    ("(a space)", "the same as and", "tag:VIP city:Leeds"),
    ("or", "either", "city:Leeds or city:York"),
    ("not", "the opposite, customers without a value included", 'not tag:"Churn risk"'),
    ("( … )", "group terms", "tag:VIP and (city:Leeds or city:London)"),
    (": or =", "is (any field)", "status:Active"),
    ("< <= > >=", "before / after, below / above (dates and numbers)", "created>=2025-01"),
    ("*", "at the end of a text: starts with; alone: has any value", "postcode:LS*"),
    ("\"…\" or '…'", "a value with spaces, brackets or the words and/or/not", 'tag:"Churn risk"'),
)

DATES = (
    (
        "2025-01-31, 2025-01, 2025",
        "a day, a month or a year: the comparison is about that whole period",
    ),
    ("today, yesterday", "the day, in Patron's time zone"),
    ("30d", "the day thirty days ago: created>=30d is the last thirty days"),
)


@dataclass(frozen=True)
class Example:
    question: str
    query: str


# Each works on the demo data (`patron demo`): tests/test_segment_help.py runs them.
EXAMPLES = (
    Example("Active VIPs", "tag:VIP and status:Active"),
    Example("London customers not at risk of leaving", 'group:London and not tag:"Churn risk"'),
    Example("Every region outside the North", "group.set:Region and not group:North"),
    Example("Customers we bill in Leeds", "status.billable and city:Leeds"),
    Example("Suspended or ceased accounts", "status:Suspended or status:Ceased"),
    Example("Business customers with an email address", "class:Business and has:email"),
    Example("Fibre customers in Leeds or London", "tag:Fibre and (city:Leeds or city:London)"),
    Example("Companies in the North", "kind:company and group:North"),
    Example("Signed up in the last year", "created>=365d"),
    Example("Suspended customers who owe money", "status:Suspended and balance>0"),
    Example("Customers who owe money", "balance>0"),
    Example("Customers with more than one service", "service_count>=2"),
)
