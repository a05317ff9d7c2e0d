"""Routing rules shared by notes, tasks and tickets.

Work on a customer is addressed to a department (and optionally a person).
These helpers answer the questions every service and view asks the same way:
may the user see the customer, may they address this department, and who is
a member of it.
"""

from __future__ import annotations

from django.db.models import Q

from patron.core.actor import Actor
from patron.core.errors import ValidationError

DEPARTMENT_NOT_VISIBLE = "Choose one of the departments you can see."
CUSTOMER_NOT_VISIBLE = "Choose one of the customers you can see."


def visible_departments(user):
    """Departments `user` may address work to (the departments list they can see)."""
    from patron.departments.models import Department

    return Department.objects.restrict(user, "view")


def member_departments(user):
    """The departments `user` belongs to, as a subquery-friendly queryset."""
    from patron.departments.models import Department

    return Department.objects.filter(members=user)


def is_member(user, department) -> bool:
    if user is None or department is None or not user.is_authenticated:
        return False
    return department.members.filter(pk=user.pk).exists()


def limit_to_visible_customers(queryset, user):
    """Rows whose customer `user` may see (users restricted to customer groups)."""
    from patron.customers.models import Customer

    if getattr(user, "has_customer_restriction", False):
        return queryset.filter(customer__in=Customer.objects.restrict_rows(user, "view"))
    return queryset


def mine_q(user) -> Q:
    """Work assigned to `user` or routed to one of their departments."""
    return Q(assignee=user) | Q(department__in=member_departments(user))


def can_see_queue(user, department) -> bool:
    """A department's queue is for its members, Owners and those who manage departments."""
    if not visible_departments(user).filter(pk=department.pk).exists():
        return False
    return (
        user.is_owner
        or user.has_perm("departments.change_department")
        or is_member(user, department)
    )


def check_customer(actor: Actor, customer) -> None:
    """Refuse work on a customer the acting user may not see."""
    from patron.customers.models import Customer

    if not Customer.objects.restrict(actor, "view").filter(pk=customer.pk).exists():
        raise ValidationError({"customer": CUSTOMER_NOT_VISIBLE})


def check_department(actor: Actor, department, field: str = "department") -> None:
    """Refuse a department the acting user may not see (same message as one that is missing)."""
    if department is None or actor.user is None:
        return
    if not visible_departments(actor.user).filter(pk=department.pk).exists():
        raise ValidationError({field: DEPARTMENT_NOT_VISIBLE})


def check_person(user, field: str) -> None:
    """Work can only be addressed to someone who can still sign in."""
    if user is not None and not user.is_active:
        raise ValidationError({field: f"{user} can no longer sign in; choose someone else."})
