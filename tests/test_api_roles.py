"""Every REST endpoint of the foundation under every role.

One table says what each role may do to each endpoint. For every cell the
test checks the status code, and for a refused write that the table and the
event log are exactly as they were: a 401, 403 or 405 never half-writes.

Codes: 401 anonymous; 403 signed in without the permission; 404 an object
the user may not see; 405 an operation Patron never allows (customers are
archived, users deactivated, events and tokens are not edited).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from patron.accounts.models import ApiToken, Role, User
from patron.catalogue.models import InventoryType, Service, TaxRate
from patron.classes.models import CustomerClass
from patron.customers.models import Contact, Customer
from patron.departments.models import Department
from patron.events.models import Event
from patron.groups.models import Group, GroupSet
from patron.statuses.models import Status
from patron.tags.models import Tag
from tests.factories import (
    ContactFactory,
    CustomerClassFactory,
    CustomerFactory,
    DepartmentFactory,
    GroupFactory,
    GroupSetFactory,
    StatusFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

ROLES = ["owner", "admin", "staff", "readonly", "anon"]
OK = 200


def codes(owner, admin, staff, readonly, anon=401) -> dict[str, int]:
    return dict(zip(ROLES, (owner, admin, staff, readonly, anon), strict=True))


LIST_WRITE = {
    "create": codes(201, 201, 403, 403),
    "update": codes(200, 200, 403, 403),
    "delete": codes(204, 204, 403, 403),
}
EVERYONE_READS = codes(200, 200, 200, 200)


@dataclass
class Endpoint:
    """An endpoint, how to make an object it serves, and what each role may do."""

    url: str
    model: type
    make: Callable  # (users) -> an existing object to read, change and delete
    create: Callable  # (users) -> a payload for POST
    update: dict
    expect: dict[str, dict[str, int]]
    ignore: set = field(default_factory=set)  # columns a request may touch by itself


def _token(users):
    """A token of the Staff user: others see it only if they are Owners."""
    token = ApiToken(user=users["staff"], name="Staff laptop")
    token.set_key(ApiToken.generate_key())
    token.save()
    return token


def _role(users):
    return Role.objects.create(name="Auditors", description="Read the books")


ENDPOINTS = {
    "tags": Endpoint(
        "/api/tags/",
        Tag,
        lambda users: TagFactory(name="Zulu"),
        lambda users: {"name": "Trial", "colour": "#123456"},
        {"description": "Changed"},
        {"read": EVERYONE_READS, **LIST_WRITE},
    ),
    "group-sets": Endpoint(
        "/api/group-sets/",
        GroupSet,
        lambda users: GroupSetFactory(name="Zulu"),
        lambda users: {"name": "Trial", "single_choice": True},
        {"description": "Changed"},
        {"read": EVERYONE_READS, **LIST_WRITE},
    ),
    "groups": Endpoint(
        "/api/groups/",
        Group,
        lambda users: GroupFactory(name="Zulu"),
        lambda users: {"name": "Trial", "group_set": GroupSetFactory(name="Trial set").pk},
        {"description": "Changed"},
        {"read": EVERYONE_READS, **LIST_WRITE},
    ),
    "statuses": Endpoint(
        "/api/statuses/",
        Status,
        lambda users: StatusFactory(name="Zulu"),
        lambda users: {"name": "Trial"},
        {"short_name": "ZZ"},
        {"read": EVERYONE_READS, **LIST_WRITE},
    ),
    "classes": Endpoint(
        "/api/classes/",
        CustomerClass,
        lambda users: CustomerClassFactory(name="Zulu"),
        lambda users: {"name": "Trial", "retention_days": 30},
        {"retention_days": 90},
        {"read": EVERYONE_READS, **LIST_WRITE},
    ),
    "departments": Endpoint(
        "/api/departments/",
        Department,
        lambda users: DepartmentFactory(name="Zulu"),
        lambda users: {"name": "Trial", "email": "trial@example.com"},
        {"description": "Changed"},
        {"read": EVERYONE_READS, **LIST_WRITE},
    ),
    "tax-rates": Endpoint(
        "/api/tax-rates/",
        TaxRate,
        lambda users: TaxRate.objects.create(name="Zulu", rate="5.00"),
        lambda users: {"name": "Trial", "rate": "20.00"},
        {"position": 7},
        {"read": EVERYONE_READS, **LIST_WRITE},
    ),
    "inventory-types": Endpoint(
        "/api/inventory-types/",
        InventoryType,
        lambda users: InventoryType.objects.create(name="Zulu"),
        lambda users: {"name": "Trial"},
        {"description": "Changed"},
        {"read": EVERYONE_READS, **LIST_WRITE},
    ),
    "services": Endpoint(
        "/api/services/",
        Service,
        lambda users: Service.objects.create(
            code="ZULU",
            name="Zulu",
            price="45.00",
            tax_rate=TaxRate.objects.create(name="Z", rate=0),
        ),
        lambda users: {
            "code": "TRIAL",
            "name": "Trial",
            "price": "10.00",
            "tax_rate": TaxRate.objects.create(name="Trial rate", rate="20.00").pk,
        },
        {"name": "Changed"},
        {"read": EVERYONE_READS, **LIST_WRITE},
    ),
    "customers": Endpoint(
        "/api/customers/",
        Customer,
        lambda users: CustomerFactory(name="Zulu"),
        lambda users: {
            "name": "Trial",
            "kind": "company",
            "status": Status.objects.get(name="Active").pk,
        },
        {"name": "Changed"},
        {
            "read": EVERYONE_READS,
            "create": codes(201, 201, 201, 403),
            "update": codes(200, 200, 200, 403),
            "delete": codes(405, 405, 403, 403),
        },
    ),
    "contacts": Endpoint(
        "/api/contacts/",
        Contact,
        lambda users: ContactFactory(name="Zulu"),
        lambda users: {
            "customer": CustomerFactory().pk,
            "name": "Trial",
            "phone": "+44 7911 123456",
        },
        {"title": "Director"},
        {
            "read": EVERYONE_READS,
            "create": codes(201, 201, 201, 403),
            "update": codes(200, 200, 200, 403),
            "delete": codes(204, 204, 204, 403),
        },
    ),
    "users": Endpoint(
        "/api/users/",
        User,
        lambda users: users["readonly"],
        lambda users: {
            "username": "trial",
            "password": "a-Long-and-unusual-passphrase-9",
            "role": Role.objects.get(name=Role.STAFF).pk,
        },
        {"first_name": "Changed"},
        {
            "read": EVERYONE_READS,
            "create": codes(201, 403, 403, 403),
            "update": codes(200, 403, 403, 403),
            "delete": codes(405, 403, 403, 403),
        },
        ignore={"last_login"},
    ),
    "roles": Endpoint(
        "/api/roles/",
        Role,
        _role,
        lambda users: {"name": "Trial", "permissions": ["customers.view_customer"]},
        {"description": "Changed"},
        {
            "read": EVERYONE_READS,
            "create": codes(201, 403, 403, 403),
            "update": codes(200, 403, 403, 403),
            "delete": codes(204, 403, 403, 403),
        },
    ),
    "tokens": Endpoint(
        "/api/tokens/",
        ApiToken,
        _token,
        lambda users: {"name": "Trial"},
        {"name": "Changed"},
        {
            # Everyone reads and creates their own tokens; only Owners see the Staff one.
            "read": codes(200, 404, 200, 404),
            "create": codes(201, 201, 201, 201),
            "update": codes(405, 405, 405, 405),
            "delete": codes(405, 405, 405, 405),
        },
        ignore={"last_used_at", "last_used"},
    ),
    "events": Endpoint(
        "/api/events/",
        Event,
        lambda users: Event.objects.order_by("id").last(),
        lambda users: {"action": "created", "message": "Forged"},
        {"message": "Forged"},
        {
            "read": EVERYONE_READS,
            # The log is append-only: the permission check (403) comes before
            # the Owner, who holds every permission, meets the missing method (405).
            "create": codes(405, 403, 403, 403),
            "update": codes(405, 403, 403, 403),
            "delete": codes(405, 403, 403, 403),
        },
    ),
}


def snapshot(endpoint: Endpoint) -> list[dict]:
    rows = endpoint.model.objects.order_by("pk").values()
    return [{k: v for k, v in row.items() if k not in endpoint.ignore} for row in rows]


def cells(operation):
    return [
        pytest.param(name, role, code, id=f"{name}-{role}")
        for name, endpoint in ENDPOINTS.items()
        for role, code in endpoint.expect[operation].items()
    ]


@pytest.fixture
def existing(users, actor):
    """Make one object for the endpoint; for the event log, record one event first."""

    def make(endpoint):
        if endpoint.model is Event:
            from patron.tags import services as tag_services

            tag_services.tag_create(actor=actor, data={"name": "Logged"})
        return endpoint.make(users)

    return make


def assert_refused_cleanly(response, code, before, endpoint, events_before):
    assert response.status_code == code, response.content[:300]
    body = response.json() if response.content else {}
    if code in (401, 403, 404, 405):
        assert body.get("detail"), body
    assert snapshot(endpoint) == before
    assert Event.objects.count() == events_before


@pytest.mark.parametrize(("name", "role", "code"), cells("read"))
def test_read_by_role(api, users, existing, name, role, code):
    endpoint = ENDPOINTS[name]
    obj = existing(endpoint)
    listing = api[role].get(endpoint.url)
    detail = api[role].get(f"{endpoint.url}{obj.pk}/")
    assert detail.status_code == code
    if code == 401:
        assert listing.status_code == 401
        assert listing.json() == {"detail": "Authentication credentials were not provided."}
        return
    assert listing.status_code == OK
    ids = [row["id"] for row in listing.json()["results"]]
    assert (obj.pk in ids) is (code == OK)
    if code == OK:
        assert detail.json()["id"] == obj.pk


@pytest.mark.parametrize(("name", "role", "code"), cells("create"))
def test_create_by_role(api, users, existing, name, role, code):
    endpoint = ENDPOINTS[name]
    if endpoint.model is Event:
        existing(endpoint)
    payload = endpoint.create(users)
    before, events_before = snapshot(endpoint), Event.objects.count()
    response = api[role].post(endpoint.url, payload, format="json")
    if code != 201:
        assert_refused_cleanly(response, code, before, endpoint, events_before)
        return
    assert response.status_code == 201, response.content[:300]
    created = endpoint.model.objects.get(pk=response.json()["id"])
    assert len(snapshot(endpoint)) == len(before) + 1
    assert Event.objects.filter(object_id=str(created.pk), action="created").count() == 1


@pytest.mark.parametrize(("name", "role", "code"), cells("update"))
def test_update_by_role(api, users, existing, name, role, code):
    endpoint = ENDPOINTS[name]
    obj = existing(endpoint)
    before, events_before = snapshot(endpoint), Event.objects.count()
    response = api[role].patch(f"{endpoint.url}{obj.pk}/", endpoint.update, format="json")
    if code != OK:
        assert_refused_cleanly(response, code, before, endpoint, events_before)
        return
    assert response.status_code == OK, response.content[:300]
    obj.refresh_from_db()
    ((column, value),) = endpoint.update.items()
    assert getattr(obj, column) == value
    assert Event.objects.count() == events_before + 1


@pytest.mark.parametrize(("name", "role", "code"), cells("delete"))
def test_delete_by_role(api, users, existing, name, role, code):
    endpoint = ENDPOINTS[name]
    obj = existing(endpoint)
    before, events_before = snapshot(endpoint), Event.objects.count()
    response = api[role].delete(f"{endpoint.url}{obj.pk}/")
    if code != 204:
        assert_refused_cleanly(response, code, before, endpoint, events_before)
        return
    assert response.status_code == 204
    assert not endpoint.model.objects.filter(pk=obj.pk).exists()
    assert Event.objects.filter(action="deleted").count() == 1


# --- the customer actions and the token revoke action --------------------------

ACTION_CODES = codes(200, 200, 200, 403)


def _action_payload(action):
    if action == "status":
        return {"status": Status.objects.get(name="Suspended").pk, "reason": "Unpaid"}
    return {"reason": "Asked to leave"}


@pytest.mark.parametrize("action", ["status", "archive", "restore"])
@pytest.mark.parametrize(("role", "code"), ACTION_CODES.items())
def test_customer_actions_by_role(api, actor, action, role, code):
    customer = CustomerFactory(name="Acted On")
    if action == "restore":
        from patron.customers import services

        customer = services.customer_archive(actor=actor, customer=customer)
    before = list(Customer.objects.values())
    events_before = Event.objects.count()
    response = api[role].post(
        f"/api/customers/{customer.pk}/{action}/", _action_payload(action), format="json"
    )
    assert response.status_code == code, response.content[:300]
    if code != OK:
        assert response.json().get("detail")
        assert list(Customer.objects.values()) == before
        assert Event.objects.count() == events_before
        return
    customer.refresh_from_db()
    expected = {
        "status": ("Suspended", False),
        "archive": ("Active", True),
        "restore": ("Active", False),
    }[action]
    assert (customer.status.name, customer.archived) == expected
    assert Event.objects.count() == events_before + 1


@pytest.mark.parametrize(("role", "code"), codes(200, 404, 200, 404).items())
def test_revoking_the_staff_token_by_role(api, users, role, code):
    token = _token(users)
    response = api[role].post(f"/api/tokens/{token.pk}/revoke/")
    assert response.status_code == code, response.content[:300]
    token.refresh_from_db()
    assert (token.revoked_at is not None) is (code == OK)
    if code != OK:
        assert response.json().get("detail")
        assert not Event.objects.filter(action="revoked").exists()
