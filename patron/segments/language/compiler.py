"""Turning a parsed query into one SQL condition over customers.

Names (tags, groups, statuses...) are looked up once per compile, through
`restrict(user)`, so a user never learns of a name they may not see; the
resulting `Q` is then a plain condition: counting a segment is one query.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from difflib import get_close_matches

from django.db.models import (
    BooleanField,
    Case,
    DecimalField,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    OuterRef,
    Q,
    Value,
    When,
)
from django.db.models.fields.json import HasKey, KeyTransform
from django.utils import timezone

from patron.core.actor import who_or_system
from patron.segments.language import fields, money
from patron.segments.language.errors import SegmentError
from patron.segments.language.syntax import And, Not, Or, Term, leaves, parse

ALWAYS = Q(pk__isnull=False)


class SelfReferenceError(SegmentError):
    """A dynamic group's segment that names the group itself, however indirectly."""


class JSONNumber(Func):
    """A custom field's value when it is a JSON number, else NULL (never a string)."""

    output_field = DecimalField(max_digits=30, decimal_places=10)

    def __init__(self, column: str, key: str):
        self.key = key
        super().__init__(F(column))

    def as_sql(self, compiler, connection, **extra):  # SQLite and the default
        column, params = compiler.compile(self.source_expressions[0])
        path = '$."' + self.key.replace('"', "") + '"'
        sql = (
            f"CASE WHEN json_type({column}, %s) IN ('integer', 'real') "
            f"THEN json_extract({column}, %s) END"
        )
        return sql, (*params, path, *params, path)

    def as_postgresql(self, compiler, connection, **extra):
        column, params = compiler.compile(self.source_expressions[0])
        sql = (
            f"CASE WHEN jsonb_typeof({column} -> %s) = 'number' THEN ({column} ->> %s)::numeric END"
        )
        return sql, (*params, self.key, *params, self.key)


@dataclass(frozen=True)
class NamedRow:
    pk: int
    name: str
    path: str = ""
    set_id: int | None = None
    query: str | None = None  # a dynamic group's segment


def _models():
    from patron.classes.models import CustomerClass
    from patron.departments.models import Department
    from patron.groups.models import Group, GroupSet
    from patron.statuses.models import Status
    from patron.tags.models import Tag

    return {
        "tag": Tag,
        "group": Group,
        "group.set": GroupSet,
        "status": Status,
        "class": CustomerClass,
        "department": Department,
    }


@dataclass
class CompiledSegment:
    """A query ready to filter customers: its tree, its condition, its terms."""

    text: str
    tree: object
    q: Q
    mentions_archived: bool
    term_qs: list

    def condition(self, exclude_archived_by_default: bool = True) -> Q:
        if exclude_archived_by_default and not self.mentions_archived:
            return self.q & Q(archived=False)
        return self.q

    def apply(self, queryset, exclude_archived_by_default: bool = True):
        return queryset.filter(self.condition(exclude_archived_by_default))


class Compiler:
    """Compiles queries for one user; each list of names is read at most once."""

    def __init__(self, user, *, today=None, expanding: tuple = (), system_names=None):
        self.user = user
        self.today = today
        self._names: dict[str, list[NamedRow]] = {}
        if user is None and system_names is not None:
            self._names = system_names  # shared with the compiler that expands into this one
        # Names as system work sees them, for the dynamic groups' segments this
        # compiler expands: read once however many groups it expands.
        self._system_names: dict[str, list[NamedRow]] = self._names if user is None else {}
        # Dynamic groups being expanded, outermost first: a segment that names
        # its own group (directly or through another group) is refused.
        self.expanding = expanding

    # Names -----------------------------------------------------------------
    def names(self, field: str) -> list[NamedRow]:
        if field not in self._names:
            model = _models()[field]
            # System work (user None) reads every name and passes its own base
            # queryset of customers.
            qs = model.objects.restrict(who_or_system(self.user))
            if field == "group":
                rows = [
                    NamedRow(pk, name, path, set_id, query)
                    for pk, name, path, set_id, query in qs.values_list(
                        "pk", "name", "path", "group_set_id", "segment__query"
                    )
                ]
            else:
                rows = [NamedRow(pk, name) for pk, name in qs.values_list("pk", "name")]
            self._names[field] = rows
        return self._names[field]

    def resolve(self, spec: fields.FieldSpec, term: Term) -> NamedRow:
        rows = self.names(spec.name)
        wanted = term.value.strip().casefold()
        for row in rows:
            if row.name.casefold() == wanted:
                return row
        by_folded = {row.name.casefold(): row.name for row in rows}
        guess = get_close_matches(wanted, list(by_folded), n=1)
        suggestion = by_folded[guess[0]] if guess else None
        message = f"unknown {spec.label} '{term.value}' at column {term.value_column}"
        if suggestion:
            message += f"; did you mean '{suggestion}'?"
        raise SegmentError(message, term.value_column, suggestion)

    # Compiling -------------------------------------------------------------
    def compile(self, text: str) -> CompiledSegment:
        tree = parse(text)
        term_qs = []
        for term, _negated in leaves(tree):
            term_qs.append(self.term_q(term))
        q = self._node_q(tree, iter(term_qs)) if tree is not None else ALWAYS
        mentions = any(t.field == "archived" for t, _ in leaves(tree))
        return CompiledSegment(text, tree, q, mentions, term_qs)

    def _node_q(self, node, term_qs) -> Q:
        if isinstance(node, Term):
            return next(term_qs)
        if isinstance(node, Not):
            return ~self._node_q(node.item, term_qs)
        parts = [self._node_q(item, term_qs) for item in node.items]
        combined = parts[0]
        for part in parts[1:]:
            combined = combined | part if isinstance(node, Or) else combined & part
        assert isinstance(node, And | Or)
        return combined

    def _local_midnight(self, day) -> datetime:
        return timezone.make_aware(datetime.combine(day, time.min))

    def term_q(self, term: Term) -> Q:
        from patron.customers.models import Contact, Customer, CustomerTag, GroupMembership

        if term.field is None:
            return Q(pk__in=Customer.objects.search(term.value).values("pk"))
        spec = fields.spec_for(term.field)
        value = term.value
        if spec.kind == "name":
            row = self.resolve(spec, term)
            if spec.name == "tag":
                links = CustomerTag.objects.filter(customer_id=OuterRef("pk"), tag_id=row.pk)
                return Q(Exists(links))
            if spec.name == "group":
                subtree = [g for g in self.names("group") if g.path.startswith(row.path)]
                members = GroupMembership.objects.filter(
                    customer_id=OuterRef("pk"), group_id__in=[g.pk for g in subtree] or [row.pk]
                )
                return self._with_dynamic(Q(Exists(members)), subtree, term)
            if spec.name == "group.set":
                members = GroupMembership.objects.filter(
                    customer_id=OuterRef("pk"), group_set_id=row.pk
                )
                in_set = [g for g in self.names("group") if g.set_id == row.pk]
                return self._with_dynamic(Q(Exists(members)), in_set, term)
            column = {"status": "status_id", "class": "customer_class_id"}.get(
                spec.name, "department_id"
            )
            return Q(**{column: row.pk})
        if spec.kind == "flag":
            return Q(**{f"status__{spec.column}": fields.truth(value)})
        if spec.kind == "bool":
            wanted = fields.truth(value)
            return ALWAYS if wanted is None else Q(**{spec.column: wanted})
        if spec.kind == "date":
            today = self.today or timezone.localdate()
            first, after = fields.date_period(value, today)
            start, end = self._local_midnight(first), self._local_midnight(after)
            col = spec.column
            return {
                "<": Q(**{f"{col}__lt": start}),
                "<=": Q(**{f"{col}__lt": end}),
                ">": Q(**{f"{col}__gte": end}),
                ">=": Q(**{f"{col}__gte": start}),
                "=": Q(**{f"{col}__gte": start, f"{col}__lt": end}),
            }[term.op]
        if spec.kind == "text":
            if value == "*":
                return ~Q(**{spec.column: ""})
            if value.endswith("*"):
                return Q(**{f"{spec.column}__istartswith": value[:-1]})
            return Q(**{f"{spec.column}__iexact": value})
        if spec.kind == "choice":
            value = value.lower()
            if spec.name == "kind":
                return Q(kind=value)
            contact = {
                "email": ~Q(email=""),
                "phone": ~Q(phone="") | ~Q(mobile=""),
                "mobile": ~Q(mobile=""),
                "contact": Q(),
            }[value]
            return Q(Exists(Contact.objects.filter(contact, customer_id=OuterRef("pk"))))
        if spec.kind in money.KINDS:
            return money.term_q(self, spec, term)
        return definite(self._custom_q(term))

    def _with_dynamic(self, static: Q, groups: list[NamedRow], term: Term) -> Q:
        """`static` widened by the live members of the dynamic groups among `groups`.

        A dynamic group's members are the same for everyone, so its segment
        is compiled as system work (every name visible); what a restricted
        user then sees of them is still limited by their own base queryset.
        """
        q = static
        for group in groups:
            if group.query is None:
                continue
            if group.pk in self.expanding:
                chain = " → ".join(
                    next((g.name for g in self.names("group") if g.pk == pk), "?")
                    for pk in (*self.expanding, group.pk)
                )
                raise SelfReferenceError(
                    f"group '{group.name}' at column {term.value_column} is a dynamic group whose "
                    f"segment refers back to itself ({chain})",
                    term.value_column,
                )
            inner = Compiler(
                None,
                today=self.today,
                expanding=(*self.expanding, group.pk),
                system_names=self._system_names,
            )
            try:
                compiled = inner.compile(group.query)
            except SelfReferenceError:
                raise
            except SegmentError as exc:
                raise SegmentError(
                    f"group '{group.name}' at column {term.value_column} is a dynamic group whose "
                    f"segment cannot run: {exc.message}",
                    term.value_column,
                ) from exc
            q |= definite(compiled.condition())
        return q

    def _custom_q(self, term: Term) -> Q:
        key = fields.custom_key(term.field)
        has_key = Q(HasKey(F("custom_fields"), key))
        value = term.value
        if term.op not in fields.EQUALS:
            lookup = {"<": "lt", "<=": "lte", ">": "gt", ">=": "gte"}[term.op]
            return has_key & Q(_number_lookup(key, lookup, fields.number(value)))
        if value == "*":
            return has_key
        transform = KeyTransform(key, "custom_fields")
        if value.endswith("*"):
            match = Q(transform.get_lookup("istartswith")(transform, value[:-1]))
        else:
            match = Q(transform.get_lookup("iexact")(transform, value))
            if value.lower() in {"true", "false"} and "__" not in key:
                # SQLite reads a JSON true as 1, so compare it as JSON too.
                match |= Q(**{f"custom_fields__{key}__exact": fields.truth(value)})
        return has_key & match


def as_boolean(q: Q) -> Case:
    """`q` as a true/false column (NULL counts as false), to ask several queries in one SELECT."""
    return Case(When(q, then=Value(True)), default=Value(False), output_field=BooleanField())


def match_columns(compiler: Compiler, queries: dict) -> tuple[dict, dict]:
    """Each query of `queries` ({column name: segment text}) as a boolean column.

    Returns (columns, errors): `columns` to `annotate()` a customer queryset
    with, asking every query in one SELECT; `errors` the message of each query
    that cannot run, by column name. One `compiler` reads each list of names once.
    """
    columns, errors = {}, {}
    for name, text in queries.items():
        try:
            columns[name] = as_boolean(compiler.compile(text).condition())
        except SegmentError as exc:
            errors[name] = exc.message
    return columns, errors


def definite(q: Q) -> Q:
    """`q` as a condition that is always true or false, never SQL NULL.

    A JSON comparison is NULL for a customer whose value is missing or not a
    number, and `NOT NULL` is still NULL, so `not custom.speed>50` would
    drop such customers. Read through CASE, NULL counts as false and `not`
    selects exactly the other customers. Plain columns need no help: Django
    already adds `IS NOT NULL` to negated lookups on nullable columns.
    """
    return Q(ExpressionWrapper(as_boolean(q), output_field=BooleanField()))


def _number_lookup(key: str, lookup: str, number):
    expression = JSONNumber("custom_fields", key)
    return expression.get_lookup(lookup)(expression, number)


def explain_annotations(compiled: CompiledSegment) -> dict:
    """One boolean per term (`t0`, `t1`, ...) and `whole` for the query, for one SELECT."""
    annotations = {f"t{i}": as_boolean(q) for i, q in enumerate(compiled.term_qs)}
    annotations["whole"] = as_boolean(compiled.condition())
    return annotations
