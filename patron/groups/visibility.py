"""Which customers a user restricted to groups may see, and member counts as they see them (ACC-3).

A user restricted to some groups sees only the customers in those groups'
subtrees: the members added by hand to any group there, and the live members
of every dynamic group there (ORG-5). `restricted_customer_q` is the one
answer to "is this customer in the user's groups"; `Customer.objects.restrict`
and so every page, API, export and job ask it. Member counts shown to such a
user count only visible customers, so they never reveal anyone outside.
"""

from django.db.models import Count, Exists, OuterRef, Q

from patron.customers.models import Customer


def restricted_customer_q(user) -> Q:
    """A condition on `Customer`: "in `user`'s groups", for a user restricted to groups.

    Static members of the restricted subtrees, or members of any dynamic group
    in them, as the segment language's `group:` term reads a dynamic group:
    its segment is compiled as system work (every name visible, so a
    restricted user's own restriction never feeds back into it) and a segment
    that names its own group is refused. A dynamic group whose segment cannot
    run (it names a deleted tag, say) adds nobody; its page says why.

    Built once per user object: one query for the dynamic groups, then at
    most one per kind of name their segments use, however many groups there
    are. The result is a SQL condition, so membership itself is always live.
    """
    cached = getattr(user, "_restricted_customer_q", None)
    if cached is not None:
        return cached
    from patron.customers.models import GroupMembership
    from patron.groups.models import Group
    from patron.segments.language import Compiler, SegmentError
    from patron.segments.language.compiler import definite

    in_subtree, membership_in_subtree = Q(), Q()
    for path in user.restricted_paths:
        in_subtree |= Q(path__startswith=path)
        membership_in_subtree |= Q(group__path__startswith=path)
    members = GroupMembership.objects.filter(membership_in_subtree, customer_id=OuterRef("pk"))
    q = Q(Exists(members))
    dynamic = Group.objects.filter(in_subtree, segment__isnull=False).order_by("path")
    compiler = Compiler(None)  # shared, so each kind of name is read once for all groups
    for pk, query in dynamic.values_list("pk", "segment__query"):
        compiler.expanding = (pk,)
        try:
            compiled = compiler.compile(query)
        except SegmentError:
            continue  # selects nobody until fixed; the group's page shows the error
        q |= definite(compiled.condition())
    user._restricted_customer_q = q
    return q


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
