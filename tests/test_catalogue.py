"""The service catalogue (BIL-1): services, tax rates, inventory types; only Owners and
Administrators edit it; prices are exact and entered net or gross per the installation."""

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from patron.catalogue import services
from patron.catalogue.models import InventoryType, Service, TaxRate
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.events.models import Event
from patron.groups.models import GroupSet
from tests.factories import CustomerFactory, GroupFactory

pytestmark = pytest.mark.django_db

D = Decimal


@pytest.fixture
def vat(actor):
    return services.tax_rate_create(
        actor=actor, data={"name": "UK VAT standard", "rate": D("20.00"), "is_default": True}
    )


@pytest.fixture
def broadband(actor):
    return services.inventory_type_create(actor=actor, data={"name": "Broadband"})


def make_service(actor, **data):
    defaults = {"code": "FIBRE500", "name": "Fibre 500", "kind": "monthly", "price": D("45.00")}
    return services.service_create(actor=actor, data={**defaults, **data})


def test_a_service_takes_the_default_tax_rate_and_stores_the_price_exactly(actor, vat, broadband):
    service = make_service(actor, inventory_type=broadband)
    assert service.tax_rate == vat and service.price == D("45.00")
    assert not service.price_includes_tax
    assert service.net_price() == D("45.00") and service.gross_price() == D("54.00")
    assert Event.objects.filter(action="created", object_id=str(service.pk)).exists()


def test_gross_prices_when_the_installation_enters_prices_with_tax(actor, vat, settings):
    settings.PATRON_PRICES_INCLUDE_TAX = True
    service = make_service(actor, price=D("45.00"))
    assert service.price_includes_tax
    assert service.gross_price() == D("45.00") and service.net_price() == D("37.50")
    settings.PATRON_PRICES_INCLUDE_TAX = False  # changing the setting keeps the stored meaning
    service.refresh_from_db()
    assert service.price_includes_tax and service.net_price() == D("37.50")


def test_net_to_gross_rounds_half_up(actor):
    reduced = services.tax_rate_create(actor=actor, data={"name": "Reduced", "rate": D("5.00")})
    service = make_service(actor, price=D("0.10"), tax_rate=reduced)
    assert service.gross_price() == D("0.11")  # 0.105 rounds up


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"price": D("45.005")}, "price", "more decimals than the currency"),
        ({"price": D("-1.00")}, "price", "cannot be negative"),
        ({"code": "fibre500"}, "code", "already exists"),
    ],
)
def test_bad_services_are_refused(actor, vat, data, field, message):
    make_service(actor)
    count = Service.objects.count()
    with pytest.raises(ValidationError) as exc:
        make_service(actor, **{"code": "OTHER", **data})
    assert message in " ".join(exc.value.message_dict[field])
    assert Service.objects.count() == count


def test_a_service_needs_a_tax_rate_when_there_is_no_default(actor):
    with pytest.raises(ValidationError, match="Choose a tax rate"):
        make_service(actor)


def test_only_one_default_tax_rate(actor, vat):
    zero = services.tax_rate_create(
        actor=actor, data={"name": "Zero", "rate": D("0"), "is_default": True}
    )
    vat.refresh_from_db()
    assert zero.is_default and not vat.is_default


def test_a_tax_rate_in_use_keeps_its_rate_and_cannot_be_deleted(actor, vat):
    make_service(actor)
    with pytest.raises(ValidationError, match="add a new rate"):
        services.tax_rate_update(actor=actor, tax_rate=vat, data={"rate": D("17.50")})
    with pytest.raises(ValidationError, match="archive it instead"):
        services.tax_rate_delete(actor=actor, tax_rate=vat)
    assert TaxRate.objects.get(pk=vat.pk).rate == D("20.00")


def test_a_used_service_is_archived_not_deleted(actor, vat):
    from patron.subscriptions.services import customer_service_add

    service = make_service(actor)
    customer_service_add(actor=actor, customer=CustomerFactory(), service=service)
    with pytest.raises(ValidationError, match="archive it instead"):
        services.service_delete(actor=actor, service=service)
    services.service_archive(actor=actor, service=service)
    assert Service.objects.get(pk=service.pk).archived


def test_an_unused_service_and_inventory_type_can_be_deleted(actor, vat, broadband):
    service = make_service(actor)
    services.service_delete(actor=actor, service=service)
    services.inventory_type_delete(actor=actor, inventory_type=broadband)
    assert not Service.objects.exists() and not InventoryType.objects.exists()


def test_allowed_groups_include_descendants(actor, vat):
    from patron.customers import services as customer_services

    segment = GroupSet.objects.create(name="Segment", single_choice=False)
    business = GroupFactory(group_set=segment, name="Business")
    smb = GroupFactory(group_set=segment, name="SMB", parent=business)
    home = GroupFactory(group_set=segment, name="Home")
    service = make_service(actor, code="STATICIP", name="Business Static IP")
    services.service_update(actor=actor, service=service, data={"allowed_groups": [business]})
    inside, outside, nobody = CustomerFactory(), CustomerFactory(), CustomerFactory()
    customer_services.customer_groups_set(actor=actor, customer=inside, groups=[smb])
    customer_services.customer_groups_set(actor=actor, customer=outside, groups=[home])
    assert service.allowed_for(inside)
    assert not service.allowed_for(outside) and not service.allowed_for(nobody)
    event = Event.objects.get(message="Changed the allowed groups of service Business Static IP")
    assert event.changes == {"allowed_groups": [[], ["Business"]]}


@pytest.mark.parametrize("role", ["staff", "readonly"])
def test_only_owners_and_administrators_edit_the_catalogue(users, vat, role):
    actor = Actor(user=users[role])
    with pytest.raises(PermissionDenied):
        services.service_create(
            actor=actor, data={"code": "X", "name": "X", "kind": "monthly", "price": D("1")}
        )
    with pytest.raises(PermissionDenied):
        services.tax_rate_create(actor=actor, data={"name": "Y", "rate": D("1")})
    with pytest.raises(PermissionDenied):
        services.inventory_type_create(actor=actor, data={"name": "Voice"})
    assert not Service.objects.exists() and TaxRate.objects.count() == 1
    services.inventory_type_create(actor=Actor(user=users["admin"]), data={"name": "Voice"})


# --- pages -------------------------------------------------------------------


def login(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_catalogue_pages(admin_user, actor, vat, broadband):
    make_service(actor, inventory_type=broadband)
    client = login(admin_user)
    page = client.get(reverse("catalogue:service_list")).content.decode()
    assert "Fibre 500" in page and "£45.00 / month (net)" in page
    assert "UK VAT standard" in client.get(reverse("catalogue:taxrate_list")).content.decode()
    assert "Broadband" in client.get(reverse("catalogue:inventorytype_list")).content.decode()
    response = client.post(
        reverse("catalogue:service_add"),
        {"code": "ROUTER", "name": "Router", "kind": "one_off", "price": "60", "tax_rate": vat.pk},
    )
    assert response.status_code == 302
    assert Service.objects.get(code="ROUTER").price == D("60.00")


def test_the_service_form_refuses_extra_decimals(admin_user, vat):
    response = login(admin_user).post(
        reverse("catalogue:service_add"),
        {"code": "ROUTER", "name": "Router", "kind": "one_off", "price": "60.001"},
    )
    assert response.status_code == 400
    assert "GBP amounts have at most 2 decimals" in response.content.decode()
    assert not Service.objects.exists()


def test_staff_see_the_catalogue_but_cannot_edit_it(staff, actor, vat):
    service = make_service(actor)
    client = login(staff)
    assert client.get(reverse("catalogue:service_list")).status_code == 200
    assert client.get(reverse("catalogue:service_edit", args=[service.pk])).status_code == 403
    assert client.get(reverse("catalogue:service_add")).status_code == 403


# --- API ---------------------------------------------------------------------


def test_api_creates_a_service_with_exact_prices(api, vat):
    response = api["admin"].post(
        "/api/services/",
        {"code": "FIBRE500", "name": "Fibre 500", "kind": "monthly", "price": "45.00"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["price"], body["net_price"], body["gross_price"], body["currency"]) == (
        "45.00",
        "45.00",
        "54.00",
        "GBP",
    )
    assert body["tax_rate"] == vat.pk


@pytest.mark.parametrize(
    ("price", "message"),
    [("45.001", "at most 2 decimals"), ("-5", "cannot be negative"), ("lots", "not an amount")],
)
def test_api_refuses_bad_prices(api, vat, price, message):
    response = api["admin"].post(
        "/api/services/",
        {"code": "X", "name": "X", "kind": "monthly", "price": price},
        format="json",
    )
    assert response.status_code == 400 and message in str(response.json()["price"])
    assert not Service.objects.exists()


def test_api_a_used_service_cannot_be_deleted(api, actor, vat):
    from patron.subscriptions.services import customer_service_add

    service = make_service(actor)
    customer_service_add(actor=actor, customer=CustomerFactory(), service=service)
    response = api["admin"].delete(f"/api/services/{service.pk}/")
    assert response.status_code == 400 and "archive it instead" in str(response.json())
    assert Service.objects.filter(pk=service.pk).exists()


def test_the_catalogue_is_in_the_openapi_schema(api):
    schema = api["owner"].get("/api/schema/?format=json").json()
    for path in (
        "/api/services/",
        "/api/tax-rates/",
        "/api/inventory-types/",
        "/api/customers/{customer_pk}/services/",
        "/api/customers/{customer_pk}/ledger/",
    ):
        assert path in schema["paths"], path
    props = schema["components"]["schemas"]["Customer"]["properties"]
    assert props["balance"]["readOnly"] is True


# --- ORG-8: groups used by money ---------------------------------------------


def test_a_group_a_service_is_restricted_to_is_archived_not_deleted(actor, vat, api):
    from patron.groups import services as group_services
    from patron.groups.models import Group

    segment = GroupSet.objects.create(name="Segment", single_choice=False)
    business = GroupFactory(group_set=segment, name="Business")
    make_service(actor, code="STATICIP", name="Business Static IP", allowed_groups=[business])
    message = (
        "“Business” is an allowed group of the service “Business Static IP”, so money "
        "records depend on it: archive or rename it instead of deleting it."
    )
    with pytest.raises(ValidationError) as exc:
        group_services.group_delete(actor=actor, group=business)
    assert exc.value.messages == [message]
    response = api["admin"].delete(f"/api/groups/{business.pk}/")
    assert response.status_code == 400 and message in str(response.json())
    assert Group.objects.filter(pk=business.pk).exists()
    renamed = group_services.group_update(
        actor=actor, group=business, data={"name": "Business customers", "archived": True}
    )
    assert renamed.archived and renamed.name == "Business customers"
    unused = GroupFactory(group_set=segment, name="Unused")
    group_services.group_delete(actor=actor, group=unused)
    assert not Group.objects.filter(pk=unused.pk).exists()
