"""Which alert banners a customer's overview shows.

    context.update(patron.banners.overview.overview_context(request, customer))
    {% include "banners/_customer_banners.html" %}   (just under the top row)

Every active rule is evaluated in ONE query, however many rules exist: the
tag and group conditions are EXISTS subqueries against this customer's links,
status and class compare with the customer's own columns, and custom field
conditions compare with the values the customer row already carries.
"""

from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Value, When

from patron.banners.models import BannerRule
from patron.customers.models import CustomerTag, GroupMembership
from patron.customfields.values import comparable_text


def matching_condition(customer) -> Q:
    """The rules whose condition `customer` meets, as one filter."""
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


def banners_for(customer) -> list[BannerRule]:
    """Active rules matching `customer`: danger first, then warning, then info,
    each by position. One query."""
    severity_rank = Case(
        *[When(severity=s, then=Value(rank)) for s, rank in BannerRule.SEVERITY_ORDER.items()],
        output_field=IntegerField(),
    )
    rules = (
        BannerRule.objects.filter(active=True)
        .filter(matching_condition(customer))
        .annotate(severity_rank=severity_rank)
        .order_by("severity_rank", "position", "name", "id")
    )
    return list(rules)


def overview_context(request, customer) -> dict:
    return {"banners": banners_for(customer)}
