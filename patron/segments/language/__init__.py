"""The segment language: one way to pick customers, for every list, export and job.

    tag:vip and group:"London Region" and not status:suspended

Entry points:

- `parse(text)`: the query as a tree, or `SegmentError(message, position, suggestion)`.
- `segment_queryset(text, user=..., base=None)`: the customers the query selects,
  within what `user` may see; counting it is one SQL query.
- `apply_segment(queryset, text, user)`: the same condition on a queryset the
  caller already has (the customer list and API `?q=`).
- `explain(text, customer, user=...)`: term by term, why the customer is in or out.

The language itself is documented for staff in docs/segments.md.
"""

from __future__ import annotations

from patron.segments.language.compiler import CompiledSegment, Compiler
from patron.segments.language.errors import SegmentError
from patron.segments.language.explain import Explanation, TermResult, explain
from patron.segments.language.syntax import parse, quote_value

__all__ = [
    "CompiledSegment",
    "Compiler",
    "Explanation",
    "SegmentError",
    "TermResult",
    "apply_segment",
    "compile_segment",
    "explain",
    "parse",
    "quote_value",
    "segment_queryset",
]


def compile_segment(text: str, *, user) -> CompiledSegment:
    """The query compiled for `user`: names resolved, ready to filter."""
    return Compiler(user).compile(text)


def segment_queryset(text: str, *, user, base=None):
    """Customers selected by `text`, from `base` or else everything `user` may view.

    Archived accounts are left out unless the query mentions `archived`.
    With `user=None` (system work) names are not restricted and `base` must
    be given, since `restrict(None)` has no rows.
    """
    from patron.customers.models import Customer

    compiled = compile_segment(text, user=user)
    if base is None:
        base = Customer.objects.restrict(user, "view")
    return compiled.apply(base)


def apply_segment(queryset, text: str, user, *, exclude_archived_by_default: bool = True):
    """`queryset` narrowed by `text`; plain words search as the search box always did.

    The customer list passes `exclude_archived_by_default=False` because its
    own Accounts control decides about archived rows (see `CompiledSegment`).
    """
    if not (text or "").strip():
        return queryset
    compiled = compile_segment(text, user=user)
    return compiled.apply(queryset, exclude_archived_by_default)
