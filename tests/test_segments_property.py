"""Random combinations of terms give the same customers as set logic on the terms' members."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from patron.segments.language import segment_queryset
from tests.test_segments_language import segment_permissions, world  # noqa: F401

EVERYONE = frozenset({"Alice", "Bob", "Carol", "Dan", "Eve"})

# Who each term selects among all five customers, archived Dan included.
MEMBERS = {
    "tag:vip": {"Alice", "Bob"},
    'tag:"churn risk"': {"Bob"},
    "tag:fibre": {"Dan"},
    'group:"London Region"': {"Alice", "Carol"},
    "group.set:region": {"Alice", "Bob", "Carol"},
    "status:active": {"Alice", "Dan", "Eve"},
    "status.billable": {"Alice", "Dan", "Eve"},
    "status.suspended:false": {"Alice", "Carol", "Dan", "Eve"},
    "class:business": {"Alice"},
    "department:sales": {"Bob"},
    "created<2025-01-01": {"Alice", "Dan", "Eve"},
    "modified>=2025-02-01": {"Alice", "Bob", "Carol"},
    "city:leeds": {"Alice", "Carol", "Dan", "Eve"},
    "postcode:LS*": {"Alice", "Carol"},
    "kind:company": {"Alice"},
    "has:email": {"Alice"},
    "has:phone": {"Bob", "Eve"},
    "custom.speed>50": {"Alice"},
    "custom.plan:*": {"Alice"},
    "custom.speed:fast": {"Bob"},
    "custom.speed<=30": {"Eve"},
    "custom.early:true": {"Eve"},
    "custom.plan:fibre*": {"Alice"},
    "class:residential": {"Bob"},
    "department:billing": {"Alice"},
    "status.crm_only": {"Carol"},
    "group:UK": {"Alice", "Carol"},
    "group.set:interests": {"Eve"},
    "has:mobile": {"Eve"},
    "kind:person": {"Bob", "Carol", "Dan", "Eve"},
    "acme": {"Alice"},
    "archived": {"Dan"},
}

leaf = st.sampled_from(sorted(MEMBERS)).map(lambda t: (t, frozenset(MEMBERS[t]), t == "archived"))


def _combine(children):
    def and_(pair, joiner):
        (a, sa, xa), (b, sb, xb) = pair
        return (f"({a}){joiner}({b})", sa & sb, xa or xb)

    def or_(pair, keyword):
        (a, sa, xa), (b, sb, xb) = pair
        return (f"({a}) {keyword} ({b})", sa | sb, xa or xb)

    def not_(item, keyword):
        text, members, mentions = item
        return (f"{keyword} ({text})", EVERYONE - members, mentions)

    pairs = st.tuples(children, children)
    return st.one_of(
        st.builds(and_, pairs, st.sampled_from([" and ", " AND ", " "])),
        st.builds(or_, pairs, st.sampled_from(["or", "OR", "Or"])),
        st.builds(not_, children, st.sampled_from(["not", "NOT"])),
    )


queries = st.recursive(leaf, _combine, max_leaves=8)


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(query=queries)
def test_random_queries_match_set_logic(world, owner, query):  # noqa: F811
    """Whatever the nesting of and/or/not, SQL selects exactly what set logic on the terms says,
    with archived customers left out unless the query mentions `archived`."""
    text, members, mentions_archived = query
    expected = set(members) if mentions_archived else set(members) - {"Dan"}
    got = {c.name.split()[0] for c in segment_queryset(text, user=owner)}
    assert got == expected, text


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    first=st.sampled_from(sorted(MEMBERS)),
    second=st.sampled_from(sorted(MEMBERS)),
    third=st.sampled_from(sorted(MEMBERS)),
)
def test_and_binds_tighter_than_or_without_parentheses(world, owner, first, second, third):  # noqa: F811
    """`a or b and c` is `a or (b and c)`; `not a and b` is `(not a) and b`."""

    def visible(*terms):
        return EVERYONE if "archived" in terms else EVERYONE - {"Dan"}

    a, b, c = (set(MEMBERS[t]) for t in (first, second, third))
    got = {
        c.name.split()[0] for c in segment_queryset(f"{first} or {second} and {third}", user=owner)
    }
    assert got == (a | (b & c)) & visible(first, second, third)
    got = {c.name.split()[0] for c in segment_queryset(f"not {first} and {second}", user=owner)}
    assert got == ((EVERYONE - a) & b) & visible(first, second)
