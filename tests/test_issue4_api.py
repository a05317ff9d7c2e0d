"""Custom fields, custom values, alert banners and call logs through the REST API,
under each role; a refused write changes nothing."""

import pytest

from patron.banners.models import BannerRule
from patron.calls.models import CallLog
from patron.customers.models import Customer
from patron.customfields.models import CustomField
from patron.customfields.services import custom_field_create
from patron.events.models import Event
from tests.factories import ContactFactory, CustomerFactory, TagFactory
from tests.test_customfields import issue4_roles  # noqa: F401

pytestmark = pytest.mark.django_db

ROLES = ["owner", "admin", "staff", "readonly"]


@pytest.fixture(autouse=True)
def _roles(issue4_roles):  # noqa: F811
    return None


@pytest.fixture
def fields(actor):
    return [
        custom_field_create(actor=actor, data={"label": "Contract end", "field_type": "date"}),
        custom_field_create(
            actor=actor,
            data={"label": "Plan", "field_type": "choice", "choices": ["Basic", "Pro"]},
        ),
        custom_field_create(actor=actor, data={"label": "Mast ref", "required": True}),
    ]


def values_url(customer):
    return f"/api/custom-fields/customer/{customer.pk}/"


# Definitions


@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 200), ("admin", 200), ("staff", 200), ("readonly", 200), ("anon", 401)],
)
def test_definitions_are_listed_to_every_role(api, fields, role, status):
    response = api[role].get("/api/custom-fields/")
    assert response.status_code == status
    if status == 200:
        # In position order (all 100 here), then by id.
        assert [f["key"] for f in response.json()["results"]] == [
            "contract_end",
            "plan",
            "mast_ref",
        ]


@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 201), ("admin", 201), ("staff", 403), ("readonly", 403), ("anon", 401)],
)
def test_only_owners_and_admins_define_fields(api, role, status):
    response = api[role].post(
        "/api/custom-fields/",
        {"label": "Plan", "field_type": "choice", "choices": ["Basic", "Pro"]},
        format="json",
    )
    assert response.status_code == status
    if status == 201:
        body = response.json()
        assert (body["key"], body["choices"], body["version"]) == ("plan", ["Basic", "Pro"], 1)
        assert response["ETag"] == f'"{body["id"]}-1"'
    else:
        assert not CustomField.objects.exists()


def test_definition_errors_are_keyed_by_field(api, fields):
    response = api["admin"].post(
        "/api/custom-fields/", {"label": "Plan", "key": "plan"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"key": ["The key “plan” is already used by the field “Plan”."]}
    response = api["admin"].post(
        "/api/custom-fields/", {"label": "Tier", "field_type": "choice"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"choices": ["A single-choice field needs at least one choice."]}
    assert CustomField.objects.count() == 3


def test_staff_cannot_change_or_delete_a_definition(api, fields):
    field = fields[1]
    response = api["staff"].patch(f"/api/custom-fields/{field.pk}/", {"label": "X"}, format="json")
    assert response.status_code == 403
    assert api["staff"].delete(f"/api/custom-fields/{field.pk}/").status_code == 403
    field.refresh_from_db()
    assert (field.label, field.version) == ("Plan", 1)


# Values on a customer


@pytest.mark.parametrize(("role", "status"), [(r, 200) for r in ROLES] + [("anon", 401)])
def test_values_are_read_by_every_role(api, fields, role, status):
    customer = CustomerFactory(custom_fields={"plan": "Pro"})
    response = api[role].get(values_url(customer))
    assert response.status_code == status
    if status == 200:
        assert response.json() == {"customer": customer.pk, "version": 1, "values": {"plan": "Pro"}}
        assert response["ETag"] == f'"{customer.pk}-1"'


def test_unknown_customer_is_404(api, fields):
    response = api["owner"].get("/api/custom-fields/customer/999999/")
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("role", "status"),
    [(r, 200) for r in ("owner", "admin", "staff")] + [("readonly", 403), ("anon", 401)],
)
def test_values_are_set_by_staff_not_readonly(api, fields, role, status):
    customer = CustomerFactory(custom_fields={"mast_ref": "M-1"})
    response = api[role].patch(
        values_url(customer),
        {"values": {"plan": "Pro", "contract_end": "2026-03-31"}},
        format="json",
    )
    assert response.status_code == status
    customer.refresh_from_db()
    if status == 200:
        assert (
            response.json()["values"]
            == customer.custom_fields
            == {
                "mast_ref": "M-1",
                "plan": "Pro",
                "contract_end": "2026-03-31",
            }
        )
        assert response["ETag"] == f'"{customer.pk}-2"'
        assert Event.objects.get(customer=customer).changes == {
            "Contract end": [None, "2026-03-31"],
            "Plan": [None, "Pro"],
        }
    else:
        assert (customer.custom_fields, customer.version) == ({"mast_ref": "M-1"}, 1)
        assert not Event.objects.filter(customer=customer).exists()


def test_bad_values_give_errors_keyed_by_field_key_and_write_nothing(api, fields):
    customer = CustomerFactory(custom_fields={"mast_ref": "M-1"})
    response = api["staff"].patch(
        values_url(customer),
        {"values": {"contract_end": "next March", "plan": "Gold", "mast_ref": ""}},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "contract_end": ["Contract end must be a date like 2026-03-31."],
        "plan": ["“Gold” is not a choice for Plan; choose one of: Basic, Pro."],
        "mast_ref": ["Mast ref is required."],
    }
    customer.refresh_from_db()
    assert (customer.custom_fields, customer.version) == ({"mast_ref": "M-1"}, 1)


def test_put_sets_every_field_so_a_missing_required_one_is_refused(api, fields):
    customer = CustomerFactory(custom_fields={"mast_ref": "M-1", "plan": "Basic"})
    response = api["staff"].put(values_url(customer), {"values": {"plan": "Pro"}}, format="json")
    assert response.status_code == 400
    assert response.json() == {"mast_ref": ["Mast ref is required."]}
    response = api["staff"].put(
        values_url(customer), {"values": {"mast_ref": "M-2"}}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["values"] == {"mast_ref": "M-2"}


def test_stale_if_match_is_412_and_writes_nothing(api, fields):
    customer = CustomerFactory()
    response = api["staff"].patch(
        values_url(customer),
        {"values": {"plan": "Pro"}},
        format="json",
        HTTP_IF_MATCH=f'"{customer.pk}-7"',
    )
    assert response.status_code == 412
    assert response["ETag"] == f'"{customer.pk}-1"'
    customer.refresh_from_db()
    assert customer.custom_fields == {}
    response = api["staff"].patch(
        values_url(customer),
        {"values": {"plan": "Pro"}},
        format="json",
        HTTP_IF_MATCH=f'"{customer.pk}-1"',
    )
    assert response.status_code == 200
    assert Customer.objects.get(pk=customer.pk).custom_fields == {"plan": "Pro"}


# Alert banners


@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 201), ("admin", 201), ("staff", 403), ("readonly", 403), ("anon", 401)],
)
def test_only_owners_and_admins_create_banner_rules(api, role, status):
    tag = TagFactory(name="VIP")
    response = api[role].post(
        "/api/banners/",
        {"name": "VIP", "message": "Handle with care", "severity": "warning", "tag": tag.pk},
        format="json",
    )
    assert response.status_code == status
    if status == 201:
        body = response.json()
        assert (body["tag"], body["condition"], body["severity"]) == (tag.pk, "Tag VIP", "warning")
    else:
        assert not BannerRule.objects.exists()


def test_banner_rule_errors(api, fields):
    response = api["admin"].post("/api/banners/", {"name": "None", "message": "x"}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": [
            "Choose exactly one condition: a tag, a group, a status, a class, "
            "a custom field or a segment."
        ]
    }
    response = api["admin"].post(
        "/api/banners/",
        {"name": "Ends", "message": "x", "custom_field": fields[0].pk, "custom_value": "soon"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"custom_value": ["Contract end must be a date like 2026-03-31."]}
    assert not BannerRule.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_banner_rules_are_listed_to_every_role(api, actor, role):
    from patron.banners.services import banner_rule_create

    banner_rule_create(actor=actor, data={"name": "VIP", "message": "Care", "tag": TagFactory()})
    response = api[role].get("/api/banners/")
    assert response.status_code == 200
    assert [b["name"] for b in response.json()["results"]] == ["VIP"]


# Call logs


@pytest.mark.parametrize(
    ("role", "status"),
    [("owner", 201), ("admin", 201), ("staff", 201), ("readonly", 403), ("anon", 401)],
)
def test_calls_are_logged_by_staff_not_readonly(api, users, role, status):
    customer = CustomerFactory()
    response = api[role].post(
        "/api/calls/",
        {"customer": customer.pk, "direction": "out", "duration": 95, "summary": "Upgrade"},
        format="json",
    )
    assert response.status_code == status
    if status == 201:
        body = response.json()
        assert (body["staff_user"], body["duration_display"], body["outcome"]) == (
            users[role].username,
            "1:35",
            "resolved",
        )
        assert Event.objects.get(customer=customer).message == "Logged outbound call"
    else:
        assert not CallLog.objects.exists()
        assert not Event.objects.filter(customer=customer).exists()


def test_calls_filter_by_customer(api, actor):
    from patron.calls.services import call_log_create

    ann, bob = CustomerFactory(), CustomerFactory()
    ann_call = call_log_create(actor=actor, customer=ann, data={"summary": "A"})
    call_log_create(actor=actor, customer=bob, data={"summary": "B"})
    response = api["readonly"].get("/api/calls/", {"customer": ann.pk})
    assert response.status_code == 200
    assert [c["id"] for c in response.json()["results"]] == [ann_call.pk]


def test_call_contact_of_another_customer_is_refused(api):
    customer = CustomerFactory()
    stranger = ContactFactory()
    response = api["staff"].post(
        "/api/calls/", {"customer": customer.pk, "contact": stranger.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"contact": ["This contact belongs to another customer."]}
    assert not CallLog.objects.exists()


def test_readonly_cannot_change_or_delete_a_call(api, actor):
    from patron.calls.services import call_log_create

    call = call_log_create(actor=actor, customer=CustomerFactory(), data={"summary": "A"})
    response = api["readonly"].patch(f"/api/calls/{call.pk}/", {"summary": "B"}, format="json")
    assert response.status_code == 403
    assert api["readonly"].delete(f"/api/calls/{call.pk}/").status_code == 403
    call.refresh_from_db()
    assert (call.summary, call.version) == ("A", 1)
    response = api["staff"].patch(
        f"/api/calls/{call.pk}/", {"summary": "B"}, format="json", HTTP_IF_MATCH=call.etag
    )
    assert response.status_code == 200
    assert response.json()["summary"] == "B"
