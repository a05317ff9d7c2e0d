"""Customer services: the rules a support agent relies on, and the event log they leave."""

import datetime

import pytest
from django.utils import timezone

from patron.core.actor import Actor
from patron.core.errors import ConflictError, PermissionDenied, ValidationError
from patron.customers import services
from patron.customers.models import Contact, Customer, GroupMembership, StatusChange
from patron.events.models import Event
from patron.groups.models import GroupSet
from patron.statuses.models import Status
from tests.factories import (
    CustomerFactory,
    GroupFactory,
    GroupSetFactory,
    StatusFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db


def active():
    return Status.objects.get(name="Active")


def test_create_assigns_account_number_and_logs(actor):
    """A new customer gets the next account number, a status history row and a 'created' event."""
    customer = services.customer_create(
        actor=actor, data={"name": "Ada Lovelace", "status": active()}
    )
    assert customer.account_number == "C000001"
    assert customer.status_changes.get().to_status == active()
    event = Event.objects.get(customer=customer, action="created")
    assert event.actor_label == actor.user.username
    assert event.changes["name"] == [None, "Ada Lovelace"]


def test_create_with_invalid_contact_writes_nothing(actor):
    """A bad phone on the first contact leaves no half-made customer behind."""
    with pytest.raises(ValidationError) as exc:
        services.customer_create(
            actor=actor,
            data={"name": "Bad Phone Ltd", "status": active()},
            contacts=[{"name": "Bob", "phone": "12"}],
        )
    assert "phone" in exc.value.message_dict
    assert not Customer.objects.exists()
    assert not Event.objects.exists()


def test_phone_numbers_are_stored_in_e164(actor):
    customer = CustomerFactory()
    contact = services.contact_create(
        actor=actor, customer=customer, data={"name": "Ann", "phone": "0113 496 0000"}
    )
    assert contact.phone == "+441134960000"
    assert contact.is_primary is True


def test_invalid_phone_is_refused_with_the_number(actor):
    """The message names the number and the country it was read in."""
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as exc:
        services.contact_create(
            actor=actor, customer=customer, data={"name": "Ann", "mobile": "+44 12"}
        )
    assert exc.value.message_dict["mobile"] == [
        "“+44 12” is not a valid number for United Kingdom (GB)."
    ]
    assert not Contact.objects.exists()


def test_contact_change_shows_on_its_customer_with_before_and_after(actor):
    customer = CustomerFactory()
    contact = services.contact_create(actor=actor, customer=customer, data={"name": "Ann"})
    services.contact_update(actor=actor, contact=contact, data={"email": "ann@example.com"})
    event = Event.objects.filter(customer=customer).first()
    assert event.action == "updated"
    assert event.changes == {"email": ["", "ann@example.com"]}
    assert event.object_repr == "Ann"


def test_stale_version_is_refused(actor):
    customer = CustomerFactory()
    services.customer_update(actor=actor, customer=customer, data={"name": "First"})
    with pytest.raises(ConflictError):
        services.customer_update(
            actor=actor, customer=customer, data={"name": "Second"}, expected_version=1
        )
    customer.refresh_from_db()
    assert customer.name == "First"
    assert customer.version == 2


def test_second_group_from_single_choice_set_names_the_group_held(actor):
    single = GroupSet.objects.get(name="Customer group")
    north, south = (
        GroupFactory(group_set=single, name="North"),
        GroupFactory(group_set=single, name="South"),
    )
    customer = CustomerFactory(name="Ann Smith")
    services.customer_group_add(actor=actor, customer=customer, group=north)
    with pytest.raises(ValidationError) as exc:
        services.customer_group_add(actor=actor, customer=customer, group=south)
    assert exc.value.message_dict["groups"] == [
        "Ann Smith is already in “North” of the single-choice set “Customer group”; "
        "remove it before adding “South”."
    ]
    assert list(customer.groups.values_list("name", flat=True)) == ["North"]


def test_two_groups_from_a_single_choice_set_at_once_are_refused(actor):
    single = GroupSet.objects.get(name="Customer group")
    a, b = GroupFactory(group_set=single, name="A"), GroupFactory(group_set=single, name="B")
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as exc:
        services.customer_groups_set(actor=actor, customer=customer, groups=[a, b])
    assert "Only one group of the single-choice set “Customer group”" in str(exc.value)
    assert not GroupMembership.objects.exists()


def test_database_refuses_second_exclusive_membership_whatever_the_path():
    """The single-choice rule holds even for a write that skips the services."""
    from django.db import IntegrityError, transaction

    single = GroupSetFactory(single_choice=True)
    a, b = GroupFactory(group_set=single), GroupFactory(group_set=single)
    customer = CustomerFactory()
    GroupMembership.objects.create(customer=customer, group=a, group_set=single, exclusive=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        GroupMembership.objects.create(customer=customer, group=b, group_set=single, exclusive=True)


def test_multi_choice_set_allows_several_groups(actor):
    multi = GroupSetFactory(single_choice=False)
    a, b = GroupFactory(group_set=multi), GroupFactory(group_set=multi)
    customer = CustomerFactory()
    services.customer_groups_set(actor=actor, customer=customer, groups=[a, b])
    assert customer.groups.count() == 2
    a.refresh_from_db()
    assert a.was_used is True


def test_only_one_payment_group(actor):
    multi = GroupSetFactory(single_choice=False)
    a = GroupFactory(group_set=multi, name="Pay A", payment_group=True)
    b = GroupFactory(group_set=multi, name="Pay B", payment_group=True)
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as exc:
        services.customer_groups_set(actor=actor, customer=customer, groups=[a, b])
    assert exc.value.message_dict["groups"] == [
        "A customer can be in only one payment group, not “Pay A” and “Pay B”."
    ]


def test_archived_group_cannot_be_assigned(actor):
    group = GroupFactory(name="Old promo", archived=True)
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as exc:
        services.customer_group_add(actor=actor, customer=customer, group=group)
    assert "“Old promo” is archived" in str(exc.value)


def test_typing_a_new_group_name_creates_it_for_admins(actor):
    customer = CustomerFactory()
    services.customer_group_add_by_name(actor=actor, customer=customer, name="Spring promo")
    assert list(customer.groups.values_list("name", flat=True)) == ["Spring promo"]


def test_staff_cannot_create_a_group_by_typing(staff):
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as exc:
        services.customer_group_add_by_name(
            actor=Actor(user=staff), customer=customer, name="Spring promo"
        )
    assert exc.value.message_dict["name"] == [
        "There is no group named “Spring promo”, and your role cannot create groups."
    ]
    assert not customer.groups.exists()


def test_tags_are_logged_with_before_and_after(actor):
    vip, fibre = TagFactory(name="VIP"), TagFactory(name="Fibre")
    customer = CustomerFactory()
    services.customer_tags_set(actor=actor, customer=customer, tags=[vip])
    services.customer_tags_set(actor=actor, customer=customer, tags=[fibre])
    event = Event.objects.filter(customer=customer, action="tags_changed").first()
    assert event.changes == {"tags": [["VIP"], ["Fibre"]]}
    assert event.message == "Tags: added Fibre; removed VIP"


def test_historical_status_cannot_be_assigned(actor):
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as exc:
        services.customer_status_change(
            actor=actor, customer=customer, status=Status.objects.get(name="Ex-Customer")
        )
    assert exc.value.message_dict["status"] == [
        "“Ex-Customer” is a historical status and cannot be newly assigned."
    ]
    customer.refresh_from_db()
    assert customer.status.name == "Active"


def test_required_reason_and_date_are_enforced(actor):
    customer = CustomerFactory()
    ceased = Status.objects.get(name="Ceased")
    with pytest.raises(ValidationError) as exc:
        services.customer_status_change(actor=actor, customer=customer, status=ceased)
    assert exc.value.message_dict == {
        "reason": ["A reason is required to change to “Ceased”."],
        "effective_date": ["An effective date is required to change to “Ceased”."],
    }
    assert not StatusChange.objects.filter(customer=customer).exists()


def test_status_change_is_kept_as_history(actor):
    customer = CustomerFactory()
    day = timezone.localdate() - datetime.timedelta(days=2)
    services.customer_status_change(
        actor=actor,
        customer=customer,
        status=Status.objects.get(name="Ceased"),
        reason="Moved abroad",
        effective_date=day,
    )
    change = StatusChange.objects.get(customer=customer)
    assert (change.from_status.name, change.to_status.name) == ("Active", "Ceased")
    assert (change.reason, change.effective_date) == ("Moved abroad", day)
    event = Event.objects.get(customer=customer, action="status_changed")
    assert event.changes == {"status": ["Active", "Ceased"]}
    assert event.reason == "Moved abroad"


def test_hidden_status_cannot_be_assigned(actor):
    hidden = StatusFactory(name="Internal", visible_in_backend=False)
    customer = CustomerFactory()
    with pytest.raises(ValidationError):
        services.customer_status_change(actor=actor, customer=customer, status=hidden)


def test_archive_and_restore(actor):
    customer = CustomerFactory()
    services.customer_archive(actor=actor, customer=customer, reason="Duplicate")
    assert Customer.objects.active().count() == 0
    customer.refresh_from_db()
    services.customer_restore(actor=actor, customer=customer)
    assert Customer.objects.active().count() == 1
    actions = list(Event.objects.filter(customer=customer).values_list("action", flat=True))
    assert actions == ["restored", "archived"]


def test_readonly_cannot_change_customers(readonly):
    customer = CustomerFactory(name="Before")
    with pytest.raises(PermissionDenied):
        services.customer_update(actor=Actor(user=readonly), customer=customer, data={"name": "X"})
    customer.refresh_from_db()
    assert customer.name == "Before"


def test_search_finds_phone_in_any_format(actor):
    customer = CustomerFactory(name="Zed")
    services.contact_create(
        actor=actor, customer=customer, data={"name": "Zed", "mobile": "+44 7911 123456"}
    )
    CustomerFactory(name="Other")
    for text in ("07911 123456", "+447911123456", "123456", "7911-123-456"):
        assert list(Customer.objects.search(text)) == [customer], text
