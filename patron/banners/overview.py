"""Which alert banners a customer's overview shows.

    context.update(patron.banners.overview.overview_context(request, customer))
    {% include "banners/_customer_banners.html" %}   (just under the top row)

Every active rule is evaluated together, however many rules exist: the tag
and group conditions are EXISTS subqueries against this customer's links,
status and class compare with the customer's own columns, and custom field
conditions compare with the values the customer row already carries. That
is one query when no rule uses a segment.

Segment rules come back from that query as candidates. Their segments are
then compiled (one shared compiler, so each kind of name - tags, statuses,
groups... - is read at most once however many segments there are) and all of
them are evaluated in one more query: the customer's row with one boolean
per segment. So the cost stays the same for one segment rule or forty.
"""

from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Value, When

from patron.banners.models import BannerRule
from patron.customers.models import Customer, CustomerTag, GroupMembership
from patron.customfields.values import comparable_text
from patron.segments.language import Compiler
from patron.segments.language.compiler import match_columns


def matching_condition(customer) -> Q:
    """The rules whose non-segment condition `customer` meets, as one filter."""
    has_tag = CustomerTag.objects.filter(customer_id=customer.pk, tag_id=OuterRef("tag_id"))
    # Group rules cover subgroups: any membership whose path starts with the rule's group path.
    in_group = GroupMembership.objects.filter(
        customer_id=customer.pk, group__path__startswith=OuterRef("group__path")
    )
    condition = Q(tag__isnull=False) & Exists(has_tag)
    condition |= Q(group__isnull=False) & Exists(in_group)
    condition |= Q(status_id=customer.status_id)
    if customer.customer_class_id is not None:
        condition |= Q(customer_class_id=customer.customer_class_id)
    for key, value in (customer.custom_fields or {}).items():
        if value is not None:
            condition |= Q(
                custom_field__key=key,
                custom_field__archived=False,
                custom_value__iexact=comparable_text(value),
            )
    return condition


def segments_matching(customer, segments) -> set[int]:
    """The ids of `segments` that select `customer`, in one query.

    Segments are compiled as system work: the banner is about the customer,
    so what a segment means must not depend on who is looking (the viewer
    can already see the customer). A segment whose query no longer compiles,
    say because a tag it names was deleted, selects nobody.
    """
    columns, _errors = match_columns(
        Compiler(None), {f"segment_{segment.pk}": segment.query for segment in segments}
    )  # a segment that cannot run selects nobody
    if not columns:
        return set()
    row = Customer.objects.filter(pk=customer.pk).annotate(**columns).values(*columns).first()
    if row is None:
        return set()
    return {int(name.removeprefix("segment_")) for name, selected in row.items() if selected}


def banners_for(customer) -> list[BannerRule]:
    """Active rules matching `customer`: danger first, then warning, then info,
    each by position. One query, and one more when some rule uses a segment."""
    severity_rank = Case(
        *[When(severity=s, then=Value(rank)) for s, rank in BannerRule.SEVERITY_ORDER.items()],
        output_field=IntegerField(),
    )
    rules = list(
        BannerRule.objects.filter(active=True)
        .filter(matching_condition(customer) | Q(segment__isnull=False))
        .select_related("segment")
        .annotate(severity_rank=severity_rank)
        .order_by("severity_rank", "position", "name", "id")
    )
    segments = [rule.segment for rule in rules if rule.segment_id]
    if not segments:
        return rules
    selected = segments_matching(customer, segments)
    return [rule for rule in rules if not rule.segment_id or rule.segment_id in selected]


def overview_context(request, customer) -> dict:
    return {"banners": banners_for(customer)}
