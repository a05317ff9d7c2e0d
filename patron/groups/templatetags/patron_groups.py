"""Template helpers for groups: the dynamic groups a customer is in right now."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def dynamic_groups_for(context, customer):
    """The dynamic groups `customer` is in now, as the signed-in user may see them.

    One query per dynamic group; a group whose segment is broken is left out.
    """
    from patron.groups.dynamic import dynamic_groups_of

    request = context.get("request")
    user = getattr(request, "user", None)
    if customer is None or user is None or not user.is_authenticated:
        return []
    return dynamic_groups_of([customer.pk], user=user).get(customer.pk, [])
