"""Member counts as a user may see them (ACC-3).

A user restricted to some groups must not learn how many customers sit
outside them, so every member count shown to them counts only visible
customers.
"""

from django.db.models import Count, Q

from patron.customers.models import Customer


def visible_member_count(user) -> Count:
    """Members a user can see: all of them, or for a user restricted to groups only the
    customers inside their groups (ACC-3), so counts never reveal other customers."""
    if not getattr(user, "has_customer_restriction", False):
        return Count("memberships")
    customers = Customer.objects.restrict(user).values("pk")
    return Count("memberships", filter=Q(memberships__customer__in=customers))


def visible_memberships(group, user):
    memberships = group.memberships.all()
    if getattr(user, "has_customer_restriction", False):
        memberships = memberships.filter(customer__in=Customer.objects.restrict(user).values("pk"))
    return memberships
