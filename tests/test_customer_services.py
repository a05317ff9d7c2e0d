"""Customer services (BIL-2): add, change and end, each an event on the customer; groups
that a service is restricted to; a status's related service status (ORG-10)."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from patron.accounts.models import User
from patron.catalogue import services as catalogue
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.customers import services as customer_services
from patron.events.models import Event
from patron.groups.models import GroupSet
from patron.statuses.models import Status
from patron.subscriptions import services
from patron.subscriptions.models import CustomerService
from tests.conftest import token_client
from tests.factories import CustomerFactory, GroupFactory, StatusFactory

pytestmark = pytest.mark.django_db

D = Decimal
TODAY = timezone.localdate


@pytest.fixture
def fibre(actor):
    catalogue.tax_rate_create(
        actor=actor, data={"name": "VAT", "rate": D("20.00"), "is_default": True}
    )
    return catalogue.service_create(
        actor=actor,
        data={"code": "FIBRE500", "name": "Fibre 500", "kind": "monthly", "price": D("45.00")},
    )


@pytest.fixture
def business(actor, fibre):
    segment = GroupSet.objects.create(name="Segment", single_choice=False)
    group = GroupFactory(group_set=segment, name="Business")
    service = catalogue.service_create(
        actor=actor,
        data={
            "code": "STATICIP",
            "name": "Business Static IP",
            "kind": "monthly",
            "price": D("10.00"),
            "allowed_groups": [group],
        },
    )
    return group, service


def add(actor, customer, service, **data):
    return services.customer_service_add(actor=actor, customer=customer, service=service, data=data)


def test_adding_a_service_is_an_event_on_the_customer(actor, fibre):
    customer = CustomerFactory()
    item = add(actor, customer, fibre, quantity=2, price_override="40.00")
    assert (item.quantity, item.price_override, item.status) == (2, D("40.00"), "active")
    assert item.unit_price == D("40.00") and item.total_price == D("80.00")
    event = Event.objects.get(customer=customer, action="created")
    assert event.message == "Added service Fibre 500 × 2"


def test_a_service_restricted_to_groups_is_refused_outside_them(actor, business):
    group, static_ip = business
    outside = CustomerFactory(name="Home Harriet")
    with pytest.raises(ValidationError) as exc:
        add(actor, outside, static_ip)
    assert exc.value.message_dict["service"] == [
        "“Business Static IP” is only for customers in “Business” (or their subgroups); "
        "Home Harriet is not in any of them."
    ]
    assert not CustomerService.objects.exists()
    subgroup = GroupFactory(group_set=group.group_set, name="SMB", parent=group)
    inside = CustomerFactory()
    customer_services.customer_groups_set(actor=actor, customer=inside, groups=[subgroup])
    assert add(actor, inside, static_ip).service == static_ip


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"quantity": -1}, "quantity", "at least 1 (got -1)"),
        ({"quantity": 0}, "quantity", "at least 1 (got 0)"),
        (
            {"start_date": datetime.date(2026, 5, 1), "end_date": datetime.date(2026, 4, 30)},
            "end_date",
            "The last day (30 Apr 2026) cannot be before the first day (1 May 2026).",
        ),
        ({"price_override": "9.999"}, "price_override", "at most 2 decimals"),
        ({"price_override": "-5"}, "price_override", "cannot be negative"),
    ],
)
def test_bad_input_is_refused_clearly_and_nothing_is_written(actor, fibre, data, field, message):
    customer = CustomerFactory()
    events = Event.objects.count()
    with pytest.raises(ValidationError) as exc:
        add(actor, customer, fibre, **data)
    assert message in " ".join(exc.value.message_dict[field])
    assert not CustomerService.objects.exists() and Event.objects.count() == events


def test_an_archived_service_cannot_be_added(actor, fibre):
    catalogue.service_archive(actor=actor, service=fibre)
    fibre.refresh_from_db()
    with pytest.raises(ValidationError, match="is archived"):
        add(actor, CustomerFactory(), fibre)


def test_changing_and_ending_are_events(actor, fibre):
    customer = CustomerFactory()
    item = add(actor, customer, fibre)
    item = services.customer_service_update(
        actor=actor, customer_service=item, data={"quantity": 3, "status": "suspended"}
    )
    changed = Event.objects.get(customer=customer, action="updated")
    assert changed.changes["quantity"] == [1, 3]
    assert changed.changes["status"] == ["Active", "Suspended"]
    item = services.customer_service_end(actor=actor, customer_service=item, reason="Moved away")
    assert (item.status, item.end_date) == ("ended", TODAY())
    ended = Event.objects.get(customer=customer, action="ended")
    assert ended.reason == "Moved away" and ended.message.startswith("Ended service Fibre 500")
    with pytest.raises(ValidationError, match="already ended"):
        services.customer_service_end(actor=actor, customer_service=item)
    with pytest.raises(ValidationError, match="stays ended"):
        services.customer_service_update(
            actor=actor, customer_service=item, data={"status": "active"}
        )


def test_ending_on_a_future_day_keeps_it_running_until_then(actor, fibre):
    item = add(actor, CustomerFactory(), fibre)
    later = TODAY() + datetime.timedelta(days=10)
    item = services.customer_service_end(actor=actor, customer_service=item, end_date=later)
    assert (item.status, item.end_date) == ("active", later)


def test_ending_before_the_start_is_refused(actor, fibre):
    item = add(actor, CustomerFactory(), fibre, start_date=TODAY())
    with pytest.raises(ValidationError, match="cannot be before the first day"):
        services.customer_service_end(
            actor=actor, customer_service=item, end_date=TODAY() - datetime.timedelta(days=1)
        )
    item.refresh_from_db()
    assert item.status == "active" and item.end_date is None


def test_read_only_users_cannot_add(readonly, fibre):
    with pytest.raises(PermissionDenied):
        add(Actor(user=readonly), CustomerFactory(), fibre)
    assert not CustomerService.objects.exists()


# --- ORG-10: the status's related service status ------------------------------


@pytest.mark.parametrize(
    ("related", "expected"),
    [("Suspended", "suspended"), ("ended", "ended"), ("", "active"), ("Unknown word", "active")],
)
def test_a_status_change_applies_the_related_service_status(actor, fibre, related, expected):
    customer = CustomerFactory()
    item = add(actor, customer, fibre)
    target = StatusFactory(name="Unpaid", related_service_status=related)
    customer_services.customer_status_change(
        actor=actor, customer=customer, status=target, reason="Unpaid invoices"
    )
    item.refresh_from_db()
    assert item.status == expected
    logged = Event.objects.filter(customer=customer, message__startswith="Service Fibre 500 is now")
    assert logged.count() == (0 if expected == "active" else 1)
    if expected == "ended":
        assert item.end_date == TODAY()
    if logged:
        assert logged.get().reason == "Unpaid invoices"


def test_a_status_that_reactivates_resumes_suspended_services_but_not_ended(actor, fibre):
    customer = CustomerFactory()
    suspended = add(actor, customer, fibre)
    services.customer_service_update(
        actor=actor, customer_service=suspended, data={"status": "suspended"}
    )
    ended = services.customer_service_end(actor=actor, customer_service=add(actor, customer, fibre))
    customer_services.customer_status_change(
        actor=actor,
        customer=customer,
        status=StatusFactory(name="Reconnected", related_service_status="Active"),
    )
    suspended.refresh_from_db()
    ended.refresh_from_db()
    assert (suspended.status, ended.status) == ("active", "ended")


def test_a_failed_status_change_changes_no_service(actor, fibre):
    customer = CustomerFactory()
    item = add(actor, customer, fibre)
    needs_reason = StatusFactory(
        name="Ceasing (reason)", related_service_status="ended", require_reason=True
    )
    with pytest.raises(ValidationError):
        customer_services.customer_status_change(
            actor=actor, customer=customer, status=needs_reason
        )
    item.refresh_from_db()
    assert item.status == "active"


# --- pages -------------------------------------------------------------------


def login(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_overview_card_adds_and_totals_services(staff, actor, fibre):
    customer = CustomerFactory()
    client = login(staff)
    response = client.post(
        reverse("subscriptions:add", args=[customer.pk]),
        {"service": fibre.pk, "quantity": "2", "start_date": TODAY().isoformat()},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    html = client.get(customer.get_absolute_url()).content.decode()
    assert 'id="card-services"' in html and "Fibre 500" in html
    assert "£90.00" in html  # 2 × £45.00 a month


def test_the_add_form_shows_the_group_refusal(staff, business):
    _, static_ip = business
    customer = CustomerFactory(name="Home Harriet")
    response = login(staff).post(
        reverse("subscriptions:add", args=[customer.pk]), {"service": static_ip.pk, "quantity": "1"}
    )
    assert response.status_code == 400
    assert "is only for customers in “Business”" in response.content.decode()
    assert not CustomerService.objects.exists()


def test_the_add_form_shows_bad_quantity_and_decimals(staff, fibre):
    customer = CustomerFactory()
    response = login(staff).post(
        reverse("subscriptions:add", args=[customer.pk]),
        {"service": fibre.pk, "quantity": "-2", "price_override": "1.234"},
    )
    html = response.content.decode()
    assert response.status_code == 400 and "at most 2 decimals" in html
    assert not CustomerService.objects.exists()


def test_change_and_end_pages(staff, actor, fibre):
    customer = CustomerFactory()
    item = add(actor, customer, fibre)
    client = login(staff)
    response = client.post(
        reverse("subscriptions:edit", args=[item.pk]),
        {
            "quantity": "4",
            "start_date": item.start_date.isoformat(),
            "status": "active",
            "version": item.version,
        },
    )
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.quantity == 4
    response = client.post(reverse("subscriptions:end", args=[item.pk]), {"reason": "Cancelled"})
    assert response.status_code == 302
    item.refresh_from_db()
    assert item.status == "ended"
    listing = client.get(reverse("subscriptions:customer", args=[customer.pk])).content.decode()
    assert "Ended" in listing


# --- restricted staff ----------------------------------------------------------


@pytest.fixture
def world(owner, staff, fibre):
    actor = Actor(user=owner)
    region = GroupSet.objects.create(name="Region", single_choice=False)
    north = GroupFactory(group_set=region, name="North")
    south = GroupFactory(group_set=region, name="South")
    inside = CustomerFactory(name="Inside Ivy")
    outside = CustomerFactory(name="Outside Oscar")
    customer_services.customer_groups_set(actor=actor, customer=inside, groups=[north])
    customer_services.customer_groups_set(actor=actor, customer=outside, groups=[south])
    staff.restricted_groups.set([north])
    return {
        "inside": inside,
        "outside": outside,
        "inside_item": add(actor, inside, fibre, note="inside line"),
        "outside_item": add(actor, outside, fibre, note="outside line"),
        "staff": User.objects.get(pk=staff.pk),
    }


def test_restricted_staff_pages(world, fibre):
    client = login(world["staff"])
    assert (
        client.get(reverse("subscriptions:customer", args=[world["inside"].pk])).status_code == 200
    )
    for url in (
        reverse("subscriptions:customer", args=[world["outside"].pk]),
        reverse("subscriptions:add", args=[world["outside"].pk]),
        reverse("subscriptions:edit", args=[world["outside_item"].pk]),
        reverse("subscriptions:end", args=[world["outside_item"].pk]),
    ):
        assert client.get(url).status_code == 404, url
    response = client.post(
        reverse("subscriptions:add", args=[world["outside"].pk]), {"service": fibre.pk}
    )
    assert response.status_code == 404
    assert CustomerService.objects.filter(customer=world["outside"]).count() == 1


def test_restricted_staff_api(world, fibre):
    client = token_client(world["staff"])
    inside = client.get(f"/api/customers/{world['inside'].pk}/services/")
    assert inside.status_code == 200
    assert [r["note"] for r in inside.json()["results"]] == ["inside line"]
    base = f"/api/customers/{world['outside'].pk}/services/"
    assert client.get(base).status_code == 404
    assert client.post(base, {"service": fibre.pk}, format="json").status_code == 404
    item = world["outside_item"].pk
    assert client.get(f"{base}{item}/").status_code == 404
    assert client.post(f"{base}{item}/end/", {}, format="json").status_code == 404
    # Another customer's service is not reachable through a visible customer either.
    visible = f"/api/customers/{world['inside'].pk}/services/{item}/"
    assert client.patch(visible, {"quantity": 5}, format="json").status_code == 404
    world["outside_item"].refresh_from_db()
    assert world["outside_item"].quantity == 1 and world["outside_item"].status == "active"
    assert CustomerService.objects.restrict(world["staff"]).count() == 1


# --- API -----------------------------------------------------------------------


def test_api_add_change_end(api, fibre):
    customer = CustomerFactory()
    base = f"/api/customers/{customer.pk}/services/"
    created = api["staff"].post(
        base, {"service": fibre.pk, "quantity": 2, "price_override": "40.00"}, format="json"
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["unit_price"], body["total_price"], body["customer"]) == (
        "40.00",
        "80.00",
        customer.pk,
    )
    item = body["id"]
    changed = api["staff"].patch(f"{base}{item}/", {"quantity": 3}, format="json")
    assert changed.status_code == 200 and changed.json()["total_price"] == "120.00"
    ended = api["staff"].post(f"{base}{item}/end/", {"reason": "Moved"}, format="json")
    assert ended.status_code == 200 and ended.json()["status"] == "ended"
    assert api["admin"].delete(f"{base}{item}/").status_code == 405
    assert api["readonly"].get(base).json()["results"][0]["status"] == "ended"


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"quantity": -1}, "quantity", "at least 1"),
        ({"price_override": "1.001"}, "price_override", "at most 2 decimals"),
        ({"start_date": "2026-05-02", "end_date": "2026-05-01"}, "end_date", "cannot be before"),
    ],
)
def test_api_bad_input(api, fibre, payload, field, message):
    customer = CustomerFactory()
    response = api["staff"].post(
        f"/api/customers/{customer.pk}/services/", {"service": fibre.pk, **payload}, format="json"
    )
    assert response.status_code == 400, response.content
    assert message in str(response.json()[field])
    assert not CustomerService.objects.exists()


def test_api_group_refusal_names_the_groups(api, business):
    _, static_ip = business
    customer = CustomerFactory()
    response = api["staff"].post(
        f"/api/customers/{customer.pk}/services/", {"service": static_ip.pk}, format="json"
    )
    assert response.status_code == 400
    assert "only for customers in “Business”" in str(response.json()["service"])


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [
        ("owner", 200, 201),
        ("admin", 200, 201),
        ("staff", 200, 201),
        ("readonly", 200, 403),
        ("anon", 401, 401),
    ],
)
def test_api_by_role(api, fibre, role, read, write):
    customer = CustomerFactory()
    base = f"/api/customers/{customer.pk}/services/"
    assert api[role].get(base).status_code == read
    response = api[role].post(base, {"service": fibre.pk}, format="json")
    assert response.status_code == write
    assert CustomerService.objects.count() == (1 if write == 201 else 0)


def test_status_default_statuses_are_untouched(db):
    """The built-in statuses name no related service status until an administrator sets one."""
    assert Status.objects.exists()
