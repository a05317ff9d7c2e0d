"""The demo data: written through the services, realistic, repeatable."""

import datetime

import phonenumbers
import pytest
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone

from patron.accounts.models import User
from patron.classes.models import CustomerClass
from patron.customers.models import Contact, Customer, GroupMembership, StatusChange
from patron.departments.models import Department
from patron.events.models import Event
from patron.groups.models import Group, GroupSet
from patron.ops.defaults import ensure_defaults
from patron.ops.demo import DemoRefused, load_demo
from patron.ops.demo.lifecycle import CEASE_REASONS, SUSPEND_REASONS
from patron.ops.demo.lists import TAGS
from patron.ops.demo.people import DEMO_USERS
from patron.statuses.models import Status
from patron.tags.models import Tag

pytestmark = pytest.mark.django_db


def test_every_customer_is_created_through_the_services_by_the_demo_loader():
    """Each demo customer has a 'created' event by the system actor "demo loader"."""
    load_demo(customers=30)

    assert Customer.objects.count() == 30
    created = Event.objects.filter(
        action="created", object_type=ContentType.objects.get_for_model(Customer)
    )
    assert created.count() == 30
    assert set(created.values_list("actor_kind", "actor_label")) == {("system", "demo loader")}
    assert set(Event.objects.values_list("actor_label", flat=True)) == {"demo loader"}


def test_customers_joined_over_the_years_oldest_first():
    """'Customer since' is spread over six years, in account order, matching the opening."""
    load_demo(customers=30)

    customers = list(Customer.objects.order_by("pk"))
    since = [c.created.date() for c in customers]
    today = timezone.localdate()
    assert today - since[0] > datetime.timedelta(days=5 * 365)
    assert today - since[-1] < datetime.timedelta(days=120)
    assert since == sorted(since)
    assert len(set(since)) > 20
    for customer in customers:
        openings = [
            c.effective_date
            for c in StatusChange.objects.filter(customer_id=customer.pk)
            if c.from_status_id is None and c.state == "applied"
        ]
        assert openings == [customer.created.date()]


def test_customers_have_contacts_with_valid_phone_numbers_of_their_country():
    """Every customer has 1-2 contacts (a company up to 2); phones are valid E.164, UK
    ones at home and the country's own for the few customers abroad."""
    load_demo(customers=30)

    counts = [c.contacts.count() for c in Customer.objects.all()]
    assert min(counts) == 1
    assert max(counts) == 2
    calling = {"GB": 44, "DE": 49}
    contacts = Contact.objects.select_related("customer")
    numbers = [(c.customer.service_country, n) for c in contacts for n in (c.phone, c.mobile) if n]
    assert numbers and {country for country, _ in numbers} == {"GB", "DE"}
    for country, number in numbers:
        parsed = phonenumbers.parse(number, None)
        assert parsed.country_code == calling[country], number
        assert phonenumbers.is_valid_number(parsed), number
    assert Contact.objects.filter(is_primary=True).count() == 30


def test_customers_have_uk_addresses_with_coordinates_and_a_few_live_abroad():
    """Service addresses are in Great Britain with a postcode and latitude/longitude, but
    for one customer in 37 who lives abroad (with a region where the country has them)."""
    load_demo(customers=120)
    abroad = Customer.objects.exclude(service_country="GB")
    # Customers 11, 48 and 85 of the 120.
    assert sorted(abroad.values_list("service_country", "service_region")) == [
        ("DE", "DE-BY"),
        ("FR", ""),
        ("US", "US-WA"),
    ]
    assert all(c.service_postcode and c.service_street for c in abroad)

    for customer in Customer.objects.filter(service_country="GB"):
        assert customer.service_postcode
        assert customer.service_street
        assert 49 < customer.latitude < 59
        assert -7 < customer.longitude < 2


def test_lists_are_created_with_the_region_tree_and_rules():
    """Tags, classes, departments and the three group sets exist with their rules."""
    load_demo(customers=10)

    assert set(Tag.objects.values_list("name", flat=True)) == {t[0] for t in TAGS}
    assert list(CustomerClass.objects.values_list("name", flat=True)) == [
        "Personal",
        "Business",
        "Public sector",
    ]
    assert list(Department.objects.values_list("name", flat=True)) == [
        "Billing",
        "Sales",
        "Technical support",
    ]
    main = GroupSet.objects.get(name="Customer group")
    assert main.single_choice is True
    assert list(main.groups.filter(parent=None).values_list("name", flat=True)) == [
        "Residential",
        "Business",
        "Wholesale",
    ]
    region = GroupSet.objects.get(name="Region")
    assert region.single_choice is False
    camden = Group.objects.get(name="Camden")
    assert camden.group_set == region
    assert camden.full_name == "South › London › Camden"
    assert Group.objects.get(name="Leeds").full_name == "North › Leeds"
    assert list(Group.objects.filter(payment_group=True).values_list("name", flat=True)) == [
        "Aire Valley Housing"
    ]


def test_each_customer_is_in_one_customer_group_and_a_region():
    """Single-choice membership holds, and each customer sits in a city region."""
    load_demo(customers=30)

    main = GroupSet.objects.get(name="Customer group")
    region = GroupSet.objects.get(name="Region")
    for customer in Customer.objects.all():
        sets = list(
            GroupMembership.objects.filter(customer=customer).values_list("group_set", flat=True)
        )
        assert sets.count(main.pk) == 1
        assert sets.count(region.pk) >= 1


def test_demo_users_have_roles_departments_and_no_password():
    """Demo staff exist per role, belong to departments, and cannot sign in until
    the Owner sets a password; James sees only the North region."""
    load_demo(customers=5)

    for username, _first, _last, role, department in DEMO_USERS:
        user = User.objects.get(username=username)
        assert user.role.name == role
        assert user.has_usable_password() is False
        assert list(user.departments.values_list("name", flat=True)) == [department]
    james = User.objects.get(username="james.wright")
    assert list(james.restricted_groups.values_list("name", flat=True)) == ["North"]
    assert not User.objects.filter(role__is_owner=True).exists()


def test_status_changes_have_reasons_and_dates():
    """Some accounts are suspended or ceased with a reason and past date; some are
    scheduled to cease; a few ceased ones are archived."""
    load_demo(customers=48)
    today = timezone.localdate()

    suspended = StatusChange.objects.filter(to_status__name="Suspended", state="applied")
    ceased = StatusChange.objects.filter(to_status__name="Ceased", state="applied")
    pending = StatusChange.objects.filter(state="pending")
    assert suspended.count() == Customer.objects.filter(status__name="Suspended").count() > 0
    assert ceased.count() == Customer.objects.filter(status__name="Ceased").count() > 0
    assert {c.reason for c in suspended} <= set(SUSPEND_REASONS)
    assert {c.reason for c in ceased} <= set(CEASE_REASONS)
    assert all(c.effective_date < today for c in ceased)
    # Suspended less than 30 days ago, so the scheduler does not cease them at once.
    assert all(today - c.effective_date < datetime.timedelta(days=30) for c in suspended)
    assert pending.count() > 0
    assert all(c.effective_date > today for c in pending)
    archived = Customer.objects.filter(archived=True)
    assert archived.count() > 0
    assert set(archived.values_list("status__name", flat=True)) == {"Ceased"}


def test_refuses_when_customers_exist_and_changes_nothing():
    """A second load is refused with a clear message and adds nothing."""
    load_demo(customers=5)
    events = Event.objects.count()

    with pytest.raises(DemoRefused, match="already holds 5 customer"):
        load_demo(customers=5)

    assert Customer.objects.count() == 5
    assert Event.objects.count() == events


def test_force_adds_the_same_customers_again_reusing_the_lists():
    """With force, the same seed gives the same names; lists are not duplicated."""
    load_demo(customers=12)
    first = list(Customer.objects.order_by("pk").values_list("name", flat=True))

    load_demo(customers=12, force=True)

    names = list(Customer.objects.order_by("pk").values_list("name", flat=True))
    assert names[12:] == first
    assert Tag.objects.count() == len(TAGS)
    assert Group.objects.filter(name="Camden").count() == 1
    assert User.objects.filter(username="amelia.clarke").count() == 1


def test_full_demo_is_a_realistic_mix():
    """The default load: 300 customers, people and companies, in every status but the
    historical one."""
    load_demo()

    assert Customer.objects.count() == 300
    kinds = dict.fromkeys(["person", "company"], 0)
    for kind in Customer.objects.values_list("kind", flat=True):
        kinds[kind] += 1
    assert kinds["person"] > 150
    assert kinds["company"] > 50
    statuses = set(Customer.objects.values_list("status__name", flat=True))
    assert statuses == {"Prospect", "Active", "Suspended", "Ceased"}
    assert Customer.objects.filter(referred_by__isnull=False).count() > 5
    assert Tag.objects.get(name="Referral").customers.count() > 5


def test_ensure_defaults_restores_a_fresh_installation_once():
    """After the rows are removed, ensure_defaults re-creates the default statuses and
    group set, and calling it again adds nothing."""
    Status.objects.update(next_status=None)
    Status.objects.all().delete()
    GroupSet.objects.all().delete()

    ensure_defaults()
    ensure_defaults()

    assert list(Status.objects.order_by("position").values_list("name", flat=True)) == [
        "Prospect",
        "Active",
        "Suspended",
        "Ceased",
        "Ex-Customer",
    ]
    assert Status.objects.get(name="Suspended").next_status.name == "Ceased"
    assert list(GroupSet.objects.values_list("name", "single_choice")) == [("Customer group", True)]
