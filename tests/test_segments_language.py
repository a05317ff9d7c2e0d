"""The segment language: every term, the operators, quoting, errors, one-query counts."""

from datetime import datetime
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from patron.accounts.models import Role
from patron.customers.models import Customer, CustomerTag, GroupMembership
from patron.segments.language import (
    SegmentError,
    apply_segment,
    explain,
    parse,
    segment_queryset,
)
from patron.statuses.models import Status
from tests.factories import (
    ContactFactory,
    CustomerClassFactory,
    CustomerFactory,
    DepartmentFactory,
    GroupFactory,
    GroupSetFactory,
    StatusFactory,
    TagFactory,
    UserFactory,
)

# What each role may do with segments; docs/segments.md and patron/accounts/roles.py agree.
SEGMENT_GRANTS = {
    Role.ADMINISTRATOR: [
        "view_segment",
        "add_segment",
        "change_segment",
        "delete_segment",
        "manage_shared_segment",
    ],
    Role.STAFF: ["view_segment", "add_segment", "change_segment", "delete_segment"],
    Role.READ_ONLY: ["view_segment"],
}


@pytest.fixture(autouse=True)
def segment_permissions(db):
    """Give the built-in roles their segment permissions (a no-op once roles.py grants them)."""
    for role_name, codenames in SEGMENT_GRANTS.items():
        role = Role.objects.get(name=role_name)
        role.permissions.add(
            *Permission.objects.filter(content_type__app_label="segments", codename__in=codenames)
        )


def at(year, month, day):
    return timezone.make_aware(datetime(year, month, day, 12, 0))


def member(customer, group):
    GroupMembership.objects.create(
        customer=customer,
        group=group,
        group_set=group.group_set,
        exclusive=group.group_set.single_choice,
    )


def tag(customer, *tags):
    for t in tags:
        CustomerTag.objects.create(customer=customer, tag=t)


def status(name, **flags):
    """The default status of that name (or a new one) with exactly these flags."""
    found = Status.objects.filter(name__iexact=name).first() or StatusFactory(name=name)
    base = {"billable": False, "is_active": False, "is_suspended": False, "crm_only": False}
    Status.objects.filter(pk=found.pk).update(**{**base, **flags})
    found.refresh_from_db()
    return found


@pytest.fixture
def world(db):
    """Five customers spread over every field the language knows."""
    w = SimpleNamespace()
    w.vip, w.churn, w.fibre = (
        TagFactory(name="vip"),
        TagFactory(name="Churn risk"),
        TagFactory(name="Fibre"),
    )
    w.region = GroupSetFactory(name="Region", single_choice=True)
    w.interests = GroupSetFactory(name="Interests", single_choice=False)
    w.uk = GroupFactory(name="UK", group_set=w.region)
    w.london = GroupFactory(name="London Region", group_set=w.region, parent=w.uk)
    w.camden = GroupFactory(name="Camden", group_set=w.region, parent=w.london)
    w.north = GroupFactory(name="North", group_set=w.region)
    w.sports = GroupFactory(name="Sports", group_set=w.interests)
    w.active = status("Active", billable=True, is_active=True)
    w.suspended = status("Suspended", billable=False, is_active=False, is_suspended=True)
    w.prospect = status("Prospect", billable=False, is_active=True, crm_only=True)
    w.business, w.residential = (
        CustomerClassFactory(name="Business"),
        CustomerClassFactory(name="Residential"),
    )
    w.billing, w.sales = DepartmentFactory(name="Billing"), DepartmentFactory(name="Sales")

    w.alice = CustomerFactory(
        name="Alice Acme",
        status=w.active,
        customer_class=w.business,
        department=w.billing,
        service_city="Leeds",
        service_postcode="LS1 4AP",
        kind="company",
        custom_fields={"plan": "Fibre Max", "speed": 100},
    )
    w.bob = CustomerFactory(
        name="Bob Brown",
        status=w.suspended,
        customer_class=w.residential,
        department=w.sales,
        service_city="York",
        service_postcode="YO1 7HH",
        custom_fields={"speed": "fast"},
    )
    w.carol = CustomerFactory(
        name="Carol Clark", status=w.prospect, service_city="Leeds", service_postcode="LS2 9JT"
    )
    w.dan = CustomerFactory(name="Dan Dark", status=w.active, service_city="Leeds", archived=True)
    w.eve = CustomerFactory(
        name="Eve East",
        status=w.active,
        service_city="leeds",
        custom_fields={"early": True, "speed": 30},
    )
    tag(w.alice, w.vip)
    tag(w.bob, w.vip, w.churn)
    tag(w.dan, w.fibre)
    member(w.alice, w.camden)
    member(w.bob, w.north)
    member(w.carol, w.london)
    member(w.eve, w.sports)
    ContactFactory(customer=w.alice, name="Alice Acme", email="alice@acme.example", phone="")
    ContactFactory(customer=w.bob, name="Bob Brown", email="", phone="+441134960000")
    ContactFactory(customer=w.eve, name="Eve East", email="", phone="", mobile="+447700900123")
    for customer, created, modified in [
        (w.alice, at(2024, 6, 1), at(2025, 3, 1)),
        (w.bob, at(2025, 2, 1), at(2025, 2, 1)),
        (w.carol, at(2025, 6, 15), at(2025, 7, 1)),
        (w.dan, at(2023, 1, 1), at(2023, 1, 1)),
        (w.eve, at(2024, 12, 31), at(2025, 1, 1)),
    ]:
        Customer.objects.filter(pk=customer.pk).update(created=created, modified=modified)
    return w


def names(text, user, **kwargs):
    return sorted(c.name.split()[0] for c in segment_queryset(text, user=user, **kwargs))


@pytest.mark.parametrize(
    "query, expected",
    [
        ("tag:vip", ["Alice", "Bob"]),
        ("tag:VIP", ["Alice", "Bob"]),
        ('tag:"Churn risk"', ["Bob"]),
        ("tag:'churn RISK'", ["Bob"]),
        ('group:"London Region"', ["Alice", "Carol"]),
        ("group:uk", ["Alice", "Carol"]),
        ("group:Camden", ["Alice"]),
        ("group.set:Region", ["Alice", "Bob", "Carol"]),
        ("group.set:interests", ["Eve"]),
        ("status:active", ["Alice", "Eve"]),
        ("status:Suspended", ["Bob"]),
        ("status.billable", ["Alice", "Eve"]),
        ("status.billable:false", ["Bob", "Carol"]),
        ("status.active:yes", ["Alice", "Carol", "Eve"]),
        ("status.suspended", ["Bob"]),
        ("status.crm_only:true", ["Carol"]),
        ("class:Business", ["Alice"]),
        ("class:residential", ["Bob"]),
        ("department:Billing", ["Alice"]),
        ("department:sales", ["Bob"]),
        ("created<2025-01-01", ["Alice", "Eve"]),
        ("created<=2024-12-31", ["Alice", "Eve"]),
        ("created>2024-12-31", ["Bob", "Carol"]),
        ("created>=2025-02-01", ["Bob", "Carol"]),
        ("created=2025-02-01", ["Bob"]),
        ("created:2024", ["Alice", "Eve"]),
        ("created:2025-06", ["Carol"]),
        ("modified>=2025-03-01", ["Alice", "Carol"]),
        ("modified<2025-01-02", ["Eve"]),
        ("archived:true", ["Dan"]),
        ("archived", ["Dan"]),
        ("archived:false", ["Alice", "Bob", "Carol", "Eve"]),
        ("archived:any and city:leeds", ["Alice", "Carol", "Dan", "Eve"]),
        ("city:Leeds", ["Alice", "Carol", "Eve"]),
        ("city:YORK", ["Bob"]),
        ("city:Le*", ["Alice", "Carol", "Eve"]),
        ('postcode:"LS1 4AP"', ["Alice"]),
        ("postcode:ls*", ["Alice", "Carol"]),
        ("kind:company", ["Alice"]),
        ("kind:person", ["Bob", "Carol", "Eve"]),
        ("has:email", ["Alice"]),
        ("has:phone", ["Bob", "Eve"]),
        ("has:mobile", ["Eve"]),
        ("has:contact", ["Alice", "Bob", "Eve"]),
        ('custom.plan:"fibre max"', ["Alice"]),
        ("custom.plan:Fib*", ["Alice"]),
        ("custom.plan:*", ["Alice"]),
        ("custom.speed:100", ["Alice"]),
        ("custom.speed:fast", ["Bob"]),
        ("custom.speed>50", ["Alice"]),
        ("custom.speed<=30", ["Eve"]),
        ("custom.speed>=0", ["Alice", "Eve"]),
        ("custom.early:true", ["Eve"]),
        ("not custom.plan:*", ["Bob", "Carol", "Eve"]),
        ("acme", ["Alice"]),
        ('"bob brown"', ["Bob"]),
        ("bob brown", ["Bob"]),
        ("alice@acme.example", ["Alice"]),
        ("0113 496 0000", ["Bob"]),
        ("+44 (113) 496 0000", ["Bob"]),
        ("07700 900123", ["Eve"]),
        ("LS2 9JT", ["Carol"]),
    ],
)
def test_each_term_selects_the_right_customers(world, owner, query, expected):
    """Each term type matches exactly the customers it names; archived ones only when asked."""
    assert names(query, owner) == expected


@pytest.mark.parametrize(
    "query, expected",
    [
        # `and` binds tighter than `or`.
        ("tag:fibre or tag:vip and city:york archived:any", ["Bob", "Dan"]),
        ("tag:vip or status:prospect and city:york", ["Alice", "Bob"]),
        ("(tag:vip or status:prospect) and city:leeds", ["Alice", "Carol"]),
        # `not` binds tighter than `and`.
        ("not tag:vip and city:leeds", ["Carol", "Eve"]),
        ("not (tag:vip and city:leeds)", ["Bob", "Carol", "Eve"]),
        ("not not tag:vip", ["Alice", "Bob"]),
        ('tag:vip and not tag:"churn risk"', ["Alice"]),
        ("tag:vip not tag:'churn risk'", ["Alice"]),
        ("tag:vip city:leeds", ["Alice"]),
        ('TAG:vip AND NOT Tag:"Churn risk"', ["Alice"]),
        ("tag:vip Or status:Prospect", ["Alice", "Bob", "Carol"]),
        ("((tag:vip))", ["Alice", "Bob"]),
        ("group:uk or group:north", ["Alice", "Bob", "Carol"]),
        (
            'tag:vip and group:"London Region" and status:active and not tag:"churn risk" '
            "and created<2025-01-01 and city:Leeds",
            ["Alice"],
        ),
        ("acme or brown", ["Alice", "Bob"]),
        ("", ["Alice", "Bob", "Carol", "Eve"]),
    ],
)
def test_operators_precedence_and_parentheses(world, owner, query, expected):
    """`not` binds tighter than `and`, `and` tighter than `or`; parentheses override both."""
    assert names(query, owner) == expected


@pytest.mark.parametrize(
    "query, message, position, suggestion",
    [
        ("tag:vip and", "unexpected end of query at column 12; expected a term", 12, None),
        ("tag:", "unexpected end of query at column 5; expected a value", 5, None),
        ("(tag:vip", "unexpected end of query at column 9; expected ')'", 9, None),
        ("tag:vip)", "unmatched ')' at column 8; there is no '(' to close", 8, None),
        ("and tag:vip", "unexpected 'and' at column 1; expected a term", 1, None),
        ("tag:vip or or city:x", "unexpected 'or' at column 12; expected a term", 12, None),
        ("tag:(vip)", "unexpected '(' at column 5; expected a value", 5, None),
        ("tag:and", "unexpected 'and' at column 5; expected a value", 5, None),
        ('tag:"churn', 'unclosed quote at column 5; expected a closing "', 5, None),
        ("tga:vip", "unknown field 'tga' at column 1; did you mean 'tag'?", 1, "tag"),
        (
            "city:leeds and stauts:active",
            "unknown field 'stauts' at column 16; did you mean 'status'?",
            16,
            "status",
        ),
        ("colour:red", "unknown field 'colour' at column 1", 1, None),
        ("tag<vip", "'tag' cannot be compared with '<' at column 1; use ':' or '='", 1, None),
        (
            "kind:compnay",
            "unknown kind 'compnay' at column 6; did you mean 'company'?",
            6,
            "company",
        ),
        ("kind:robot", "unknown kind 'robot' at column 6; expected person or company", 6, None),
        (
            "has:emial",
            "unknown contact detail 'emial' at column 5; did you mean 'email'?",
            5,
            "email",
        ),
        (
            "archived:maybe",
            "unknown value 'maybe' for 'archived' at column 10; expected true, false or any",
            10,
            None,
        ),
        (
            "created<2025-13-01",
            "'2025-13-01' at column 9 is not a date; use YYYY-MM-DD, YYYY-MM, YYYY, today, "
            "yesterday or a number of days ago such as 30d",
            9,
            None,
        ),
        (
            "custom.speed>fast",
            "'custom.speed>' compares numbers; 'fast' at column 14 is not a number",
            14,
            None,
        ),
        ('""', "empty search text at column 1", 1, None),
    ],
)
def test_syntax_errors_say_where_and_what(query, message, position, suggestion):
    """Syntax errors and unknown fields give the 1-based column and, when close, a suggestion."""
    with pytest.raises(SegmentError) as caught:
        parse(query)
    assert (caught.value.message, caught.value.position, caught.value.suggestion) == (
        message,
        position,
        suggestion,
    )


@pytest.mark.parametrize(
    "query, message, position, suggestion",
    [
        ("tag:vpi", "unknown tag 'vpi' at column 5; did you mean 'vip'?", 5, "vip"),
        (
            'tag:vip and tag:"churn rsik"',
            "unknown tag 'churn rsik' at column 17; did you mean 'Churn risk'?",
            17,
            "Churn risk",
        ),
        ("tag:zzz", "unknown tag 'zzz' at column 5", 5, None),
        (
            'group:"London Regon"',
            "unknown group 'London Regon' at column 7; did you mean 'London Region'?",
            7,
            "London Region",
        ),
        (
            "group.set:regoin",
            "unknown group set 'regoin' at column 11; did you mean 'Region'?",
            11,
            "Region",
        ),
        (
            "status:activ",
            "unknown status 'activ' at column 8; did you mean 'Active'?",
            8,
            "Active",
        ),
        (
            "class:busness",
            "unknown class 'busness' at column 7; did you mean 'Business'?",
            7,
            "Business",
        ),
        (
            "department:biling",
            "unknown department 'biling' at column 12; did you mean 'Billing'?",
            12,
            "Billing",
        ),
    ],
)
def test_unknown_names_suggest_the_closest(world, owner, query, message, position, suggestion):
    """Unknown tag, group, set, status, class or department names suggest the closest one."""
    with pytest.raises(SegmentError) as caught:
        segment_queryset(query, user=owner)
    assert (caught.value.message, caught.value.position, caught.value.suggestion) == (
        message,
        position,
        suggestion,
    )


def test_names_are_resolved_through_what_the_user_may_see(world):
    """A user whose role cannot see tags cannot probe tag names: no match, no suggestion."""
    role = Role.objects.create(name="Customers only")
    role.permissions.set(Permission.objects.filter(codename="view_customer"))
    user = UserFactory(role=role)
    with pytest.raises(SegmentError) as caught:
        segment_queryset("tag:vip", user=user)
    assert caught.value.message == "unknown tag 'vip' at column 5"
    assert caught.value.suggestion is None
    assert names("city:leeds", user) == ["Alice", "Carol", "Eve"]


def test_counting_a_segment_is_one_query(world, owner, django_assert_num_queries):
    """Once compiled, a count of a many-term segment is a single SQL query."""
    qs = segment_queryset(
        'tag:vip and group:"London Region" and status:active and not tag:"churn risk" '
        "and created<2025-01-01 and city:Leeds and has:email and status.billable "
        "and custom.speed>10 and acme",
        user=owner,
    )
    with django_assert_num_queries(1):
        assert qs.count() == 1


def test_restricted_user_sees_only_their_customers_through_a_segment(world, staff):
    """A user restricted to North sees only North's customers, whatever the query."""
    staff.restricted_groups.set([world.north])
    assert names("tag:vip", staff) == ["Bob"]
    assert names("city:leeds or city:york", staff) == ["Bob"]
    assert names("archived:any", staff) == ["Bob"]


def test_base_queryset_narrows_the_segment(world, owner):
    """`base` replaces the user's visible customers as the starting set."""
    base = Customer.objects.filter(service_city__iexact="leeds")
    assert names("not tag:vip", owner, base=base) == ["Carol", "Eve"]


def test_apply_segment_filters_a_queryset_and_plain_words_still_search(world, owner):
    """`apply_segment` is what the customer list calls: plain words search, terms filter."""
    qs = Customer.objects.restrict(owner, "view")
    assert [c.name for c in apply_segment(qs, "acme", owner)] == ["Alice Acme"]
    assert [c.name for c in apply_segment(qs, "tag:vip and status:active", owner)] == ["Alice Acme"]
    assert apply_segment(qs, "  ", owner).count() == 5
    listed = apply_segment(qs, "tag:fibre", owner, exclude_archived_by_default=False)
    assert [c.name for c in listed] == ["Dan Dark"]


def test_relative_dates_count_back_from_today(world, owner):
    """`created>=30d` means created on or after the day thirty days ago."""
    Customer.objects.filter(pk=world.eve.pk).update(created=timezone.now())
    assert names("created>=30d", owner) == ["Eve"]
    assert names("created:today", owner) == ["Eve"]
    assert names("created<today", owner) == ["Alice", "Bob", "Carol"]


def test_explain_says_which_terms_match(world, owner):
    """Explain lists each term as in or out, with what the customer has instead."""
    results = explain(
        'tag:vip and status:active and not tag:"churn risk" and city:leeds', world.bob, user=owner
    )
    assert [str(r) for r in results] == [
        "in: tag vip",
        "out: status is Suspended, needs active",
        "out: tag churn risk, excluded by 'not'",
        "out: city is York, needs leeds",
        "in: not archived",
    ]
    assert results.matches is False
    assert [r.satisfied for r in results] == [True, False, False, False, True]
    assert [r.term for r in results] == [
        "tag:vip",
        "status:active",
        'tag:"churn risk"',
        "city:leeds",
        "archived:false",
    ]


def test_explain_covers_every_kind_of_term(world, owner):
    """Explain words each kind of term in and out; the overall answer follows the query."""
    text = (
        "group:north or group.set:interests or class:business or department:billing "
        "or status.billable or created<2024 or kind:company or has:email or custom.speed>50 "
        "or postcode:LS1* or acme or archived"
    )
    results = explain(text, world.carol, user=owner)
    assert [str(r) for r in results] == [
        "out: not in group north or a group below it",
        "out: in no group of set interests",
        "out: class is not set, needs business",
        "out: department is not set, needs billing",
        "out: status Prospect is not billable",
        "out: created 2025-06-15, needs before 2024",
        "out: kind is person, needs company",
        "out: no contact with an email",
        "out: custom.speed is not set, needs above 50",
        "out: postcode is LS2 9JT, needs LS1*",
        "out: does not match 'acme'",
        "out: account is not archived",
    ]
    assert results.matches is False
    assert [str(r) for r in explain(text, world.alice, user=owner)][2:4] == [
        "in: class business",
        "in: department billing",
    ]
    assert explain(text, world.alice, user=owner).matches is True


def test_explain_reports_archived_accounts(world, owner):
    """When the query does not mention archived, an archived customer is out for that reason."""
    results = explain("tag:fibre", world.dan, user=owner)
    assert [str(r) for r in results] == [
        "in: tag fibre",
        "out: account is archived (add archived:true or archived:any to include it)",
    ]
    assert results.matches is False


def test_explain_is_one_query_after_names(world, owner, django_assert_num_queries):
    """Explain reads the tag names once and evaluates every term in one SELECT."""
    explain("tag:vip", world.alice, user=owner)  # warm the user's permission cache
    with django_assert_num_queries(2):
        results = explain(
            "tag:vip and not tag:fibre and city:leeds and has:email", world.alice, user=owner
        )
    assert results.matches is True


def test_explain_of_a_hidden_customer_finds_nothing(world, staff):
    """A restricted user cannot explain a customer outside their groups."""
    staff.restricted_groups.set([world.north])
    with pytest.raises(Customer.DoesNotExist):
        explain("tag:vip", world.alice, user=staff)


def test_every_example_in_the_docs_parses():
    """The queries docs/segments.md offers support staff are all valid syntax."""
    import re
    from pathlib import Path

    text = (Path(__file__).parent.parent / "docs" / "segments.md").read_text()
    section = text.split("## Examples for everyday questions")[1].split("\n## ")[0]
    queries = re.findall(r"\| [^|]+ \| `([^`]+)` \|", section)
    assert len(queries) == 14
    for query in queries:
        assert parse(query) is not None, query
