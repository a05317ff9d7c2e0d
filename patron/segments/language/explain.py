"""Why a customer is in a segment or not, term by term (SEG-5), in one query."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from patron.segments.language import fields, money
from patron.segments.language.compiler import Compiler, explain_annotations
from patron.segments.language.syntax import Term, leaves

OP_WORDS = {"<": "before", "<=": "on or before", ">": "after", ">=": "on or after", "=": "on"}
NUMBER_WORDS = {"<": "below", "<=": "at most", ">": "above", ">=": "at least"}
HAS_WORDS = {
    "email": "a contact with an email",
    "phone": "a contact with a phone",
    "mobile": "a contact with a mobile",
    "contact": "a contact",
}


@dataclass(frozen=True)
class TermResult:
    """One term of the query checked against one customer.

    `matched` is whether the condition itself holds; `satisfied` takes a
    surrounding `not` into account, i.e. whether the term counts in favour.
    """

    term: str
    label: str
    negated: bool
    matched: bool
    detail: str

    @property
    def satisfied(self) -> bool:
        return self.matched != self.negated

    def __str__(self) -> str:
        return f"{'in' if self.satisfied else 'out'}: {self.detail}"


class Explanation(list):
    """The list of `TermResult`s, plus whether the customer is in the segment."""

    def __init__(self, results, matches: bool):
        super().__init__(results)
        self.matches = matches

    def __str__(self) -> str:
        return "; ".join(str(r) for r in self)


ROW_FIELDS = [
    "status__name",
    "status__billable",
    "status__is_active",
    "status__is_suspended",
    "status__crm_only",
    "customer_class__name",
    "department__name",
    "service_city",
    "service_postcode",
    "kind",
    "archived",
    "created",
    "modified",
    "custom_fields",
    "id",
]


def _label(term: Term) -> str:
    if term.field is None:
        return f"matches '{term.value}'"
    spec = fields.spec_for(term.field)
    if spec.kind == "name":
        if spec.name == "group.set":
            return f"in a group of set {term.value}"
        return f"{spec.label} {term.value}"
    if spec.kind == "flag":
        wanted = fields.truth(term.value)
        return f"{'' if wanted else 'not '}{spec.label} status"
    if spec.kind == "bool":
        wanted = fields.truth(term.value)
        return "archived or not" if wanted is None else ("archived" if wanted else "not archived")
    if spec.kind == "date":
        return f"{spec.label} {OP_WORDS[term.op]} {term.value}"
    if spec.kind == "choice":
        if spec.name == "has":
            return f"has {HAS_WORDS[term.value.lower()]}"
        return f"kind {term.value.lower()}"
    if spec.kind in money.KINDS:
        return money.label(spec, term)
    if spec.kind == "custom":
        if term.op in fields.EQUALS:
            return f"{term.field} {term.value}"
        return f"{term.field} {NUMBER_WORDS[term.op]} {term.value}"
    return f"{spec.label} {term.value}"


def _actual(term: Term, row: dict) -> str:
    """What the customer has instead, for a positive term that did not match."""
    if term.field is None:
        return f"does not match '{term.value}'"
    spec = fields.spec_for(term.field)
    if spec.kind == "name":
        return {
            "tag": f"no tag {term.value}",
            "group": f"not in group {term.value} or a group below it",
            "group.set": f"in no group of set {term.value}",
            "status": f"status is {row['status__name']}, needs {term.value}",
            "class": f"class is {row['customer_class__name'] or 'not set'}, needs {term.value}",
            "department": (
                f"department is {row['department__name'] or 'not set'}, needs {term.value}"
            ),
        }[spec.name]
    if spec.kind == "flag":
        wanted = fields.truth(term.value)
        return (
            f"status {row['status__name']} is {'not ' if wanted else ''}{spec.label}"
            if spec.name != "status.crm_only"
            else f"status {row['status__name']} is {'not ' if wanted else ''}CRM only"
        )
    if spec.kind == "bool":
        return "account is archived" if row["archived"] else "account is not archived"
    if spec.kind == "date":
        stamp = timezone.localtime(row[spec.column]).date().isoformat()
        return f"{spec.label} {stamp}, needs {OP_WORDS[term.op]} {term.value}"
    if spec.kind == "text":
        return f"{spec.label} is {row[spec.column] or 'not set'}, needs {term.value}"
    if spec.kind == "choice":
        if spec.name == "has":
            return f"no {HAS_WORDS[term.value.lower()].removeprefix('a ')}"
        return f"kind is {row['kind']}, needs {term.value.lower()}"
    if spec.kind in money.KINDS:
        return money.actual(spec, term, row["id"])
    key = fields.custom_key(term.field)
    current = (row["custom_fields"] or {}).get(key)
    shown = "not set" if current is None else str(current)
    return f"{term.field} is {shown}, needs {_label(term).removeprefix(term.field + ' ')}"


def _result(term: Term, negated: bool, matched: bool, row: dict) -> TermResult:
    label = _label(term)
    if negated:
        label = f"not {label}"
    if matched != negated:
        detail = label
    elif negated:
        detail = f"{_label(term)}, excluded by 'not'"
    else:
        detail = _actual(term, row)
    return TermResult(
        term=term.source, label=label, negated=negated, matched=matched, detail=detail
    )


def explain(text: str, customer, *, user, base=None) -> Explanation:
    """Each term of `text` checked against `customer`, with one SELECT.

    The customer must be visible to `user` (else `Customer.DoesNotExist`).
    When the query does not mention `archived`, the rule that archived
    accounts are left out is reported as a term of its own.
    """
    from patron.customers.models import Customer

    compiled = Compiler(user).compile(text)
    pairs = list(leaves(compiled.tree))
    annotations = explain_annotations(compiled)
    base = base if base is not None else Customer.objects.restrict(user, "view")
    row = (
        base.filter(pk=customer.pk).annotate(**annotations).values(*annotations, *ROW_FIELDS).get()
    )
    results = [
        _result(term, negated, bool(row[f"t{i}"]), row) for i, (term, negated) in enumerate(pairs)
    ]
    if not compiled.mentions_archived:
        results.append(
            TermResult(
                term="archived:false",
                label="not archived",
                negated=False,
                matched=not row["archived"],
                detail="not archived"
                if not row["archived"]
                else "account is archived (add archived:true or archived:any to include it)",
            )
        )
    return Explanation(results, matches=bool(row["whole"]))
