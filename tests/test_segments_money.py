"""The segment language's money fields: service:, service_count and balance (and cashback)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from patron.catalogue import services as catalogue
from patron.customers.models import Customer
from patron.ledger.models import Book, Kind
from patron.ledger.services import ledger_post
from patron.segments.language import Compiler, SegmentError
from patron.segments.language.explain import explain
from patron.subscriptions import services as subscriptions
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def world(actor):
    catalogue.tax_rate_create(
        actor=actor, data={"name": "VAT", "rate": D("20"), "is_default": True}
    )
    fibre = catalogue.service_create(
        actor=actor,
        data={"code": "FIBRE500", "name": "Fibre 500", "kind": "monthly", "price": D("45")},
    )
    voice = catalogue.service_create(
        actor=actor, data={"code": "VOICE", "name": "Home phone", "kind": "monthly", "price": 9}
    )
    router = catalogue.service_create(
        actor=actor, data={"code": "ROUTER", "name": "Router", "kind": "one_off", "price": 60}
    )
    names = ["Ann", "Bob", "Cat", "Dan"]
    c = {name: CustomerFactory(name=name) for name in names}

    def give(customer, service):
        return subscriptions.customer_service_add(actor=actor, customer=customer, service=service)

    give(c["Ann"], fibre)
    give(c["Ann"], voice)
    give(c["Ann"], router)
    give(c["Bob"], fibre)
    ended = give(c["Cat"], fibre)
    subscriptions.customer_service_end(actor=actor, customer_service=ended)
    ledger_post(actor=actor, customer=c["Ann"], kind=Kind.INVOICE, amount=D("150.00"))
    ledger_post(actor=actor, customer=c["Bob"], kind=Kind.INVOICE, amount=D("100.00"))
    ledger_post(actor=actor, customer=c["Cat"], kind=Kind.CREDIT, amount=D("-20.00"))
    ledger_post(
        actor=actor,
        customer=c["Dan"],
        kind=Kind.CASHBACK_ACCRUAL,
        amount=D("12"),
        book=Book.CASHBACK,
    )
    return c


def names(query, user=None):
    compiled = Compiler(user).compile(query)
    return sorted(compiled.apply(Customer.objects.all()).values_list("name", flat=True))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('service:"Fibre 500"', ["Ann", "Bob"]),  # Cat's has ended
        ("service:fibre500", ["Ann", "Bob"]),  # the code, any case
        ('not service:"Fibre 500"', ["Cat", "Dan"]),
        ("service_count>2", ["Ann"]),
        ("service_count>=1", ["Ann", "Bob"]),
        ("service_count=0", ["Cat", "Dan"]),
        ("service_count<2", ["Bob", "Cat", "Dan"]),
        ("service_count<=3", ["Ann", "Bob", "Cat", "Dan"]),
        ("balance>100", ["Ann"]),
        ("balance>=100", ["Ann", "Bob"]),
        ("balance=100", ["Bob"]),
        ("balance:100", ["Bob"]),
        ("balance=0", ["Dan"]),  # no money entries: a balance of zero
        ("balance<0", ["Cat"]),
        ("balance<=0", ["Cat", "Dan"]),
        ("balance<100.50", ["Bob", "Cat", "Dan"]),
        ("balance>-50", ["Ann", "Bob", "Cat", "Dan"]),
        ("cashback>10", ["Dan"]),
        ("cashback=0", ["Ann", "Bob", "Cat"]),
        ('balance>50 and service:"Home phone"', ["Ann"]),
        ("balance>50 or cashback>0", ["Ann", "Bob", "Dan"]),
    ],
)
def test_money_terms(world, query, expected):
    assert names(query) == expected


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("balance>lots", "'balance>' compares a number; 'lots' at column 9 is not a number"),
        ("service_count>1.5", "compares a whole number"),
        ('service:"Fibre 50"', "unknown service 'Fibre 50' at column 9; did you mean 'Fibre 500'?"),
        ("service:Nothing", "unknown service 'Nothing'"),
    ],
)
def test_bad_money_terms_are_clear(world, query, message):
    with pytest.raises(SegmentError) as exc:
        names(query)
    assert message in exc.value.message


def test_a_balance_count_is_one_query_on_the_narrow_table(world):
    compiled = Compiler(None).compile("balance>50 and status:Active")
    with CaptureQueriesContext(connection) as queries:
        count = compiled.apply(Customer.objects.all()).count()
    assert count == 2 and len(queries) == 1
    sql = queries[0]["sql"]
    assert "ledger_balance" in sql and "ledger_ledgerentry" not in sql


def test_restricted_users_count_only_their_customers(world, staff):
    from patron.accounts.models import User
    from patron.groups.models import GroupSet
    from tests.factories import GroupFactory

    region = GroupSet.objects.create(name="Region", single_choice=False)
    north = GroupFactory(group_set=region, name="North")
    from patron.core.actor import Actor
    from patron.customers import services as customer_services

    customer_services.customer_groups_set(
        actor=Actor.system_actor("tests"), customer=world["Bob"], groups=[north]
    )
    staff.restricted_groups.set([north])
    staff = User.objects.get(pk=staff.pk)
    compiled = Compiler(staff).compile("balance>=100")
    visible = compiled.apply(Customer.objects.restrict(staff))
    assert sorted(visible.values_list("name", flat=True)) == ["Bob"]


def test_explain_says_what_the_customer_has(world, owner):
    result = explain("balance>120 and service_count>2", world["Bob"], user=owner)
    details = [r.detail for r in result]
    assert details[0] == "balance is £100.00, needs above 120"
    assert details[1] == "1 current service, needs above 2"
    assert not result.matches
    assert explain('service:"Fibre 500"', world["Ann"], user=owner).matches
