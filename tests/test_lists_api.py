"""Statuses, customer classes and departments through the REST API, under every role."""

import pytest

from patron.classes.models import CustomerClass
from patron.departments.models import Department
from patron.events.models import Event
from patron.statuses.models import Status
from tests.factories import (
    CustomerClassFactory,
    CustomerFactory,
    DepartmentFactory,
    StatusFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

STATUSES = "/api/statuses/"
CLASSES = "/api/classes/"
DEPARTMENTS = "/api/departments/"

READ = [("owner", 200), ("admin", 200), ("staff", 200), ("readonly", 200), ("anon", 401)]
CREATE = [("owner", 201), ("admin", 201), ("staff", 403), ("readonly", 403), ("anon", 401)]
UPDATE = [("owner", 200), ("admin", 200), ("staff", 403), ("readonly", 403), ("anon", 401)]
DELETE = [("owner", 204), ("admin", 204), ("staff", 403), ("readonly", 403), ("anon", 401)]

# Each list: its endpoint, a factory for an unused row, what a create posts,
# and a one-field change for updates.
LISTS = {
    "statuses": (STATUSES, Status, StatusFactory, {"name": "Trial"}, {"short_name": "NEW"}),
    "classes": (
        CLASSES,
        CustomerClass,
        CustomerClassFactory,
        {"name": "Trial", "retention_days": 30},
        {"retention_days": 90},
    ),
    "departments": (
        DEPARTMENTS,
        Department,
        DepartmentFactory,
        {"name": "Trial", "email": "trial@example.com"},
        {"description": "Changed"},
    ),
}
LIST_NAMES = list(LISTS)


def row(model, pk) -> dict:
    return model.objects.values().get(pk=pk)


def params(matrix):
    return [(name, role, code) for name in LIST_NAMES for role, code in matrix]


@pytest.mark.parametrize(("list_name", "role", "expected"), params(READ))
def test_list_and_retrieve_by_role(api, list_name, role, expected):
    url, model, factory, _, _ = LISTS[list_name]
    obj = factory(name="Zulu")
    response = api[role].get(url)
    detail = api[role].get(f"{url}{obj.pk}/")
    assert (response.status_code, detail.status_code) == (expected, expected)
    if expected != 200:
        assert response.json() == {"detail": "Authentication credentials were not provided."}
        return
    names = {r["name"] for r in response.json()["results"]}
    assert names == set(model.objects.values_list("name", flat=True))
    assert detail.json()["name"] == "Zulu"
    assert detail["ETag"] == f'"{obj.pk}-1"'


@pytest.mark.parametrize(("list_name", "role", "expected"), params(CREATE))
def test_create_by_role(api, list_name, role, expected):
    url, model, _, payload, _ = LISTS[list_name]
    count = model.objects.count()
    response = api[role].post(url, payload, format="json")
    assert response.status_code == expected
    assert model.objects.filter(name="Trial").exists() is (expected == 201)
    assert model.objects.count() == count + (1 if expected == 201 else 0)
    if expected == 201:
        assert response.json()["version"] == 1
        assert Event.objects.filter(action="created").count() == 1
    else:
        assert not Event.objects.exists()


@pytest.mark.parametrize(("list_name", "role", "expected"), params(UPDATE))
def test_update_by_role(api, list_name, role, expected):
    url, model, factory, _, change = LISTS[list_name]
    obj = factory(name="Zulu")
    before = row(model, obj.pk)
    response = api[role].patch(f"{url}{obj.pk}/", change, format="json")
    assert response.status_code == expected
    after = row(model, obj.pk)
    if expected == 200:
        field, value = next(iter(change.items()))
        assert (after[field], after["version"]) == (value, 2)
        assert response["ETag"] == f'"{obj.pk}-2"'
    else:
        assert after == before
        assert not Event.objects.exists()


@pytest.mark.parametrize(("list_name", "role", "expected"), params(DELETE))
def test_delete_by_role(api, list_name, role, expected):
    url, model, factory, _, _ = LISTS[list_name]
    obj = factory(name="Zulu")
    response = api[role].delete(f"{url}{obj.pk}/")
    assert response.status_code == expected
    assert model.objects.filter(pk=obj.pk).exists() is (expected != 204)
    assert Event.objects.filter(action="deleted").count() == (1 if expected == 204 else 0)


@pytest.mark.parametrize("list_name", LIST_NAMES)
def test_duplicate_name_in_another_case_is_400_keyed_by_name(api, list_name):
    url, model, factory, _, _ = LISTS[list_name]
    factory(name="Billing Hold")
    count = model.objects.count()
    response = api["owner"].post(url, {"name": "BILLING HOLD"}, format="json")
    assert response.status_code == 400
    noun = {"statuses": "status", "classes": "customer class", "departments": "department"}
    assert response.json() == {
        "name": [f"A {noun[list_name]} named “Billing Hold” already exists."]
    }
    assert model.objects.count() == count


@pytest.mark.parametrize("list_name", LIST_NAMES)
def test_stale_if_match_is_412_and_nothing_changes(api, list_name):
    url, model, factory, _, change = LISTS[list_name]
    obj = factory(name="Zulu")
    api["admin"].patch(f"{url}{obj.pk}/", {"name": "Yankee"}, format="json")
    before = row(model, obj.pk)
    response = api["owner"].patch(
        f"{url}{obj.pk}/", change, format="json", HTTP_IF_MATCH=f'"{obj.pk}-1"'
    )
    assert response.status_code == 412
    assert response.json()["current_version"] == 2
    assert response["ETag"] == f'"{obj.pk}-2"'
    assert row(model, obj.pk) == before


@pytest.mark.parametrize("list_name", LIST_NAMES)
def test_current_if_match_is_accepted(api, list_name):
    url, model, factory, _, change = LISTS[list_name]
    obj = factory(name="Zulu")
    response = api["owner"].patch(
        f"{url}{obj.pk}/", change, format="json", HTTP_IF_MATCH=f'"{obj.pk}-1"'
    )
    assert response.status_code == 200
    assert row(model, obj.pk)["version"] == 2


# Statuses


def test_status_serializer_has_every_field_and_next_status_as_id(api):
    suspended = Status.objects.get(name="Suspended")
    body = api["readonly"].get(f"{STATUSES}{suspended.pk}/").json()
    # Every field, and the preset reasons (their own rows) as a list of texts.
    assert set(body) == {f.name for f in Status._meta.concrete_fields} | {"reasons"}
    assert body["reasons"] == []
    ceased = Status.objects.get(name="Ceased")
    assert (body["next_status"], body["next_status_days"]) == (ceased.pk, 30)
    assert {k: body[k] for k in ("availability", "display_class", "is_suspended")} == {
        "availability": "headline",
        "display_class": "warning",
        "is_suspended": True,
    }


def test_status_create_with_next_status(api):
    ceased = Status.objects.get(name="Ceased")
    response = api["admin"].post(
        STATUSES,
        {
            "name": "Debt collection",
            "availability": "standard",
            "next_status": ceased.pk,
            "next_status_days": 60,
            "final_invoice": True,
            "require_reason": True,
        },
        format="json",
    )
    assert response.status_code == 201
    status = Status.objects.get(name="Debt collection")
    assert (status.next_status, status.next_status_days, status.final_invoice) == (
        ceased,
        60,
        True,
    )


def test_status_next_status_without_days_is_400(api):
    ceased = Status.objects.get(name="Ceased")
    response = api["owner"].post(
        STATUSES, {"name": "Grace", "next_status": ceased.pk}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "next_status_days": ["Say after how many days customers move to the next status."]
    }
    assert not Status.objects.filter(name="Grace").exists()


def test_status_cannot_be_its_own_next_status(api):
    active = Status.objects.get(name="Active")
    before = row(Status, active.pk)
    response = api["owner"].patch(
        f"{STATUSES}{active.pk}/",
        {"next_status": active.pk, "next_status_days": 3},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"next_status": ["A status cannot progress to itself."]}
    assert row(Status, active.pk) == before


def test_unknown_next_status_is_400(api):
    response = api["owner"].post(
        STATUSES, {"name": "Grace", "next_status": 99999, "next_status_days": 3}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"next_status": ['Invalid pk "99999" - object does not exist.']}


@pytest.mark.parametrize("role", ["staff", "readonly"])
def test_staff_and_readonly_editing_a_status_get_403_and_nothing_changes(api, role):
    active = Status.objects.get(name="Active")
    before = row(Status, active.pk)
    response = api[role].put(
        f"{STATUSES}{active.pk}/", {"name": "Hijacked", "billable": False}, format="json"
    )
    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}
    assert row(Status, active.pk) == before
    assert not Event.objects.exists()


def test_anonymous_status_edit_is_401_and_nothing_changes(api):
    active = Status.objects.get(name="Active")
    before = row(Status, active.pk)
    response = api["anon"].patch(f"{STATUSES}{active.pk}/", {"name": "X"}, format="json")
    assert response.status_code == 401
    assert row(Status, active.pk) == before


def test_deleting_a_used_status_is_400_with_the_message(api):
    active = Status.objects.get(name="Active")
    CustomerFactory(status=active)
    response = api["owner"].delete(f"{STATUSES}{active.pk}/")
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": [
            "“Active” is or was held by customers, so it is kept for their history. "
            "Set its availability to Historical to stop it being assigned."
        ]
    }
    assert Status.objects.filter(pk=active.pk).exists()


def test_status_filters_match_the_list_page(api):
    def names(**query):
        response = api["staff"].get(STATUSES, query)
        return sorted(r["name"] for r in response.json()["results"])

    assert names(availability="historical") == ["Ex-Customer"]
    assert names(availability="headline") == ["Active", "Suspended"]
    assert names(is_active="false") == ["Ceased", "Ex-Customer"]
    assert names(q="PROS") == ["Prospect"]


# Classes


def test_class_in_use_delete_is_400_with_the_message(api):
    business = CustomerClassFactory(name="Business")
    CustomerFactory(customer_class=business)
    response = api["admin"].delete(f"{CLASSES}{business.pk}/")
    assert response.status_code == 400
    assert response.json() == {
        "non_field_errors": [
            "“Business” is the class of 1 customer(s); move them to another class before "
            "deleting it."
        ]
    }
    assert CustomerClass.objects.filter(pk=business.pk).exists()


def test_class_filters(api):
    CustomerClassFactory(name="Business", verification_required=True)
    CustomerClassFactory(name="Personal")
    response = api["readonly"].get(CLASSES, {"verification_required": "true"})
    assert [r["name"] for r in response.json()["results"]] == ["Business"]


# Departments


def test_department_created_with_members_as_ids(api):
    amelia, tom = UserFactory(username="amelia"), UserFactory(username="tom")
    response = api["admin"].post(
        DEPARTMENTS, {"name": "Billing", "members": [tom.pk, amelia.pk]}, format="json"
    )
    assert response.status_code == 201
    assert response.json()["members"] == sorted([amelia.pk, tom.pk])
    billing = Department.objects.get(name="Billing")
    assert set(billing.members.all()) == {amelia, tom}
    assert Event.objects.get(action="members_changed").changes == {
        "members": [[], ["amelia", "tom"]]
    }


def test_department_members_replaced_on_update_and_logged(api):
    amelia, tom = UserFactory(username="amelia"), UserFactory(username="tom")
    billing = DepartmentFactory(name="Billing")
    billing.members.set([amelia])
    response = api["owner"].patch(
        f"{DEPARTMENTS}{billing.pk}/",
        {"members": [tom.pk]},
        format="json",
        HTTP_IF_MATCH=f'"{billing.pk}-1"',
    )
    assert response.status_code == 200
    assert response.json()["members"] == [tom.pk]
    assert response["ETag"] == f'"{billing.pk}-2"'
    assert list(billing.members.all()) == [tom]
    event = Event.objects.get(action="members_changed")
    assert event.changes == {"members": [["amelia"], ["tom"]]}
    assert event.actor_kind == "token"


def test_department_update_without_members_keeps_them(api):
    amelia = UserFactory(username="amelia")
    billing = DepartmentFactory(name="Billing")
    billing.members.set([amelia])
    response = api["owner"].patch(f"{DEPARTMENTS}{billing.pk}/", {"name": "Accounts"})
    assert response.status_code == 200
    assert response.json()["members"] == [amelia.pk]
    assert not Event.objects.filter(action="members_changed").exists()


def test_unknown_member_id_is_400_keyed_members_and_nothing_changes(api):
    amelia = UserFactory(username="amelia")
    billing = DepartmentFactory(name="Billing")
    billing.members.set([amelia])
    before = row(Department, billing.pk)
    response = api["owner"].patch(
        f"{DEPARTMENTS}{billing.pk}/", {"name": "Accounts", "members": [99999]}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"members": ['Invalid pk "99999" - object does not exist.']}
    assert row(Department, billing.pk) == before
    assert list(billing.members.all()) == [amelia]


def test_inactive_user_cannot_be_added_as_member(api):
    gone = UserFactory(username="gone", is_active=False)
    response = api["owner"].post(
        DEPARTMENTS, {"name": "Billing", "members": [gone.pk]}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"members": [f'Invalid pk "{gone.pk}" - object does not exist.']}
    assert not Department.objects.exists()


@pytest.mark.parametrize("role", ["staff", "readonly"])
def test_staff_and_readonly_cannot_change_members(api, users, role):
    billing = DepartmentFactory(name="Billing")
    response = api[role].patch(
        f"{DEPARTMENTS}{billing.pk}/", {"members": [users[role].pk]}, format="json"
    )
    assert response.status_code == 403
    assert not billing.members.exists()
    assert row(Department, billing.pk)["version"] == 1


def test_department_filter_by_member(api):
    amelia = UserFactory(username="amelia")
    DepartmentFactory(name="Billing").members.set([amelia])
    DepartmentFactory(name="Sales")
    response = api["readonly"].get(DEPARTMENTS, {"member": amelia.pk})
    assert [r["name"] for r in response.json()["results"]] == ["Billing"]
