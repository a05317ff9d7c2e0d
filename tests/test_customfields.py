"""Custom fields: definitions by admins, values validated by type, logged per field."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patron.accounts.models import Role
from patron.core.actor import Actor
from patron.core.errors import ConflictError, PermissionDenied, ValidationError
from patron.customers.models import Customer
from patron.customfields import services
from patron.customfields.exports import custom_field_columns, custom_field_export_value
from patron.customfields.filters import custom_field_filter
from patron.customfields.models import CustomField
from patron.customfields.overview import overview_context
from patron.events.models import Event
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

# The permissions Patron's built-in roles need for custom fields, alert banners and
# call logs (to be added to patron/accounts/roles.py); granted here by a fixture.
ISSUE4_ROLE_PERMISSIONS = {
    Role.ADMINISTRATOR: [
        ("customfields", "add_customfield"),
        ("customfields", "change_customfield"),
        ("customfields", "delete_customfield"),
        ("customfields", "view_customfield"),
        ("banners", "add_bannerrule"),
        ("banners", "change_bannerrule"),
        ("banners", "delete_bannerrule"),
        ("banners", "view_bannerrule"),
        ("calls", "add_calllog"),
        ("calls", "change_calllog"),
        ("calls", "delete_calllog"),
        ("calls", "view_calllog"),
    ],
    Role.STAFF: [
        ("customfields", "view_customfield"),
        ("banners", "view_bannerrule"),
        ("calls", "add_calllog"),
        ("calls", "change_calllog"),
        ("calls", "delete_calllog"),
        ("calls", "view_calllog"),
    ],
    Role.READ_ONLY: [
        ("customfields", "view_customfield"),
        ("banners", "view_bannerrule"),
        ("calls", "view_calllog"),
    ],
}


@pytest.fixture
def issue4_roles(db):
    """Give the built-in roles their custom field, banner and call log permissions."""
    for role_name, perms in ISSUE4_ROLE_PERMISSIONS.items():
        role = Role.objects.get(name=role_name)
        for app_label, codename in perms:
            role.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


@pytest.fixture(autouse=True)
def _roles(issue4_roles):
    return None


def define(actor, **data):
    data.setdefault("field_type", CustomField.FieldType.TEXT)
    return services.custom_field_create(actor=actor, data=data)


@pytest.fixture
def fields(actor):
    return {
        "contract_end": define(actor, label="Contract end", field_type="date"),
        "credit_limit": define(actor, label="Credit limit", field_type="number"),
        "plan": define(actor, label="Plan", field_type="choice", choices=["Basic", "Pro"]),
        "vip": define(actor, label="VIP", field_type="boolean"),
        "mast_ref": define(actor, label="Mast ref", required=True),
    }


def set_values(actor, customer, **values):
    return services.customer_custom_fields_set(actor=actor, customer=customer, values=values)


# Definitions


def test_key_is_made_from_the_label(actor):
    """A field created without a key gets one from its label."""
    field = define(actor, label="Contract end", field_type="date")
    assert field.key == "contract_end"


def test_duplicate_key_is_refused_naming_the_field(actor):
    define(actor, label="Contract end")
    with pytest.raises(ValidationError) as exc:
        define(actor, label="Other", key="contract_end")
    assert exc.value.message_dict == {
        "key": ["The key “contract_end” is already used by the field “Contract end”."]
    }
    assert CustomField.objects.count() == 1


def test_choice_field_needs_choices_and_other_types_drop_them(actor):
    with pytest.raises(ValidationError) as exc:
        define(actor, label="Plan", field_type="choice", choices=[" ", ""])
    assert exc.value.message_dict == {
        "choices": ["A single-choice field needs at least one choice."]
    }
    text = define(actor, label="Notes", choices=["x"])
    assert text.choices == []
    plan = define(actor, label="Plan", field_type="choice", choices=["Basic", " Pro ", "Basic"])
    assert plan.choices == ["Basic", "Pro"]


def test_key_and_type_are_fixed_once_a_customer_has_a_value(actor, fields):
    customer = CustomerFactory()
    set_values(actor, customer, credit_limit="10")
    with pytest.raises(ValidationError) as exc:
        services.custom_field_update(
            actor=actor,
            field=fields["credit_limit"],
            data={"key": "limit", "field_type": "text"},
        )
    assert exc.value.message_dict == {
        "key": ["The key “credit_limit” cannot change: customers already have values for it."],
        "field_type": ["The type cannot change: customers already have values for this field."],
    }
    field = CustomField.objects.get(pk=fields["credit_limit"].pk)
    assert (field.key, field.field_type) == ("credit_limit", "number")


def test_unused_key_can_change(actor, fields):
    field = services.custom_field_update(actor=actor, field=fields["vip"], data={"key": "is_vip"})
    assert field.key == "is_vip"


def test_a_choice_in_use_cannot_be_removed(actor, fields):
    set_values(actor, CustomerFactory(), plan="Pro")
    with pytest.raises(ValidationError) as exc:
        services.custom_field_update(actor=actor, field=fields["plan"], data={"choices": ["Basic"]})
    assert exc.value.message_dict == {
        "choices": ["“Pro” is chosen on 1 customer; change them first or archive the field."]
    }
    assert CustomField.objects.get(pk=fields["plan"].pk).choices == ["Basic", "Pro"]


def test_used_field_cannot_be_deleted(actor, fields):
    set_values(actor, CustomerFactory(), vip=True)
    with pytest.raises(ValidationError) as exc:
        services.custom_field_delete(actor=actor, field=fields["vip"])
    assert exc.value.messages == [
        "“VIP” has values on 1 customer; archive it instead, so their values are kept."
    ]
    assert CustomField.objects.filter(pk=fields["vip"].pk).exists()
    services.custom_field_delete(actor=actor, field=fields["plan"])
    assert not CustomField.objects.filter(pk=fields["plan"].pk).exists()


def test_staff_cannot_define_fields(staff):
    with pytest.raises(PermissionDenied):
        define(Actor(user=staff), label="Contract end")
    assert not CustomField.objects.exists()


def test_administrator_defines_fields(admin_user):
    field = define(Actor(user=admin_user), label="Contract end", field_type="date")
    assert field.pk is not None


# Values


def test_values_are_stored_by_type(actor, fields):
    customer = CustomerFactory()
    customer = set_values(
        actor,
        customer,
        contract_end="2026-03-31",
        credit_limit="1,250.50",
        plan="Pro",
        vip="yes",
        mast_ref="  M-17 ",
    )
    assert customer.custom_fields == {
        "contract_end": "2026-03-31",
        "credit_limit": 1250.5,
        "plan": "Pro",
        "vip": True,
        "mast_ref": "M-17",
    }
    assert Customer.objects.get(pk=customer.pk).custom_fields == customer.custom_fields


def test_number_and_date_from_json_types(actor, fields):
    customer = set_values(
        actor, CustomerFactory(), credit_limit=12, contract_end=datetime.date(2026, 1, 2)
    )
    assert customer.custom_fields == {"credit_limit": 12, "contract_end": "2026-01-02"}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("contract_end", "31/03/2026", "Contract end must be a date like 2026-03-31."),
        ("contract_end", "2026-02-30", "Contract end must be a date like 2026-03-31."),
        ("credit_limit", "lots", "Credit limit must be a number like 12 or 12.50."),
        ("credit_limit", True, "Credit limit must be a number like 12 or 12.50."),
        ("vip", "maybe", "VIP must be yes or no."),
        ("mast_ref", ["a"], "Mast ref must be text."),
    ],
)
def test_value_of_the_wrong_type_is_refused(actor, fields, key, value, message):
    """The error is keyed by the field key, says what is expected, and nothing is written."""
    customer = CustomerFactory(custom_fields={"plan": "Basic"})
    version = customer.version
    with pytest.raises(ValidationError) as exc:
        set_values(actor, customer, plan="Pro", **{key: value})
    assert exc.value.message_dict == {key: [message]}
    customer.refresh_from_db()
    assert customer.custom_fields == {"plan": "Basic"}
    assert customer.version == version
    assert not Event.objects.filter(customer=customer).exists()


def test_choice_not_in_the_list_is_refused(actor, fields):
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as exc:
        set_values(actor, customer, plan="Gold")
    assert exc.value.message_dict == {
        "plan": ["“Gold” is not a choice for Plan; choose one of: Basic, Pro."]
    }
    customer.refresh_from_db()
    assert customer.custom_fields == {}
    assert not Event.objects.filter(customer=customer).exists()


def test_required_field_left_empty_is_refused(actor, fields):
    customer = CustomerFactory(custom_fields={"mast_ref": "M-1"})
    with pytest.raises(ValidationError) as exc:
        set_values(actor, customer, mast_ref="  ", vip=True)
    assert exc.value.message_dict == {"mast_ref": ["Mast ref is required."]}
    customer.refresh_from_db()
    assert customer.custom_fields == {"mast_ref": "M-1"}
    assert not Event.objects.filter(customer=customer).exists()


def test_unknown_and_archived_keys_are_refused(actor, fields):
    services.custom_field_update(actor=actor, field=fields["vip"], data={"archived": True})
    customer = CustomerFactory()
    with pytest.raises(ValidationError) as exc:
        set_values(actor, customer, nope="x", vip=True)
    assert exc.value.message_dict == {
        "nope": ["There is no custom field with this key."],
        "vip": ["VIP is archived and cannot be changed."],
    }
    customer.refresh_from_db()
    assert customer.custom_fields == {}


def test_change_is_logged_per_field_label_with_before_and_after(actor, fields):
    customer = CustomerFactory(custom_fields={"plan": "Basic", "mast_ref": "M-1"})
    customer = set_values(actor, customer, plan="Pro", vip=False, contract_end="", mast_ref="M-1")
    event = Event.objects.get(customer=customer)
    assert event.action == "custom_fields_changed"
    assert event.changes == {"Plan": ["Basic", "Pro"], "VIP": [None, "No"]}
    assert event.message == "Changed custom fields: Plan, VIP"
    assert event.actor_label == "olivia"
    assert customer.version == 2


def test_clearing_a_value_removes_the_key_and_is_logged(actor, fields):
    customer = CustomerFactory(custom_fields={"credit_limit": 10})
    customer = set_values(actor, customer, credit_limit=None)
    assert customer.custom_fields == {}
    assert Event.objects.get(customer=customer).changes == {"Credit limit": ["10", None]}


def test_no_change_writes_nothing(actor, fields):
    customer = CustomerFactory(custom_fields={"plan": "Basic"})
    customer = set_values(actor, customer, plan="Basic")
    assert customer.version == 1
    assert not Event.objects.filter(customer=customer).exists()


def test_stale_version_is_refused(actor, fields):
    customer = CustomerFactory()
    with pytest.raises(ConflictError):
        services.customer_custom_fields_set(
            actor=actor, customer=customer, values={"plan": "Pro"}, expected_version=7
        )
    customer.refresh_from_db()
    assert customer.custom_fields == {}


def test_staff_sets_values_readonly_cannot(staff, readonly, fields):
    customer = CustomerFactory()
    set_values(Actor(user=staff), customer, plan="Pro")
    with pytest.raises(PermissionDenied):
        set_values(Actor(user=readonly), customer, plan="Basic")
    customer.refresh_from_db()
    assert customer.custom_fields == {"plan": "Pro"}
    assert Event.objects.filter(customer=customer).count() == 1


# Filter and export helpers


def test_filter_by_custom_value_of_each_type(actor, fields):
    ann = CustomerFactory(name="Ann")
    bob = CustomerFactory(name="Bob")
    set_values(actor, ann, contract_end="2026-03-31", credit_limit="12.5", vip=True, mast_ref="M-1")
    set_values(actor, bob, credit_limit="100", vip=False, plan="Pro", mast_ref="m-2")
    qs = Customer.objects.all()

    def names(key, value):
        return sorted(c.name for c in custom_field_filter(qs, key, value))

    assert names("contract_end", "2026-03-31") == ["Ann"]
    assert names("credit_limit", "12.50") == ["Ann"]
    assert names("credit_limit", 100) == ["Bob"]
    assert names("vip", "yes") == ["Ann"]
    assert names("vip", "no") == ["Bob"]
    assert names("plan", "Pro") == ["Bob"]
    assert names("plan", "") == ["Ann"]
    assert names("mast_ref", "M-2") == ["Bob"]
    with pytest.raises(ValidationError) as exc:
        custom_field_filter(qs, "credit_limit", "lots")
    assert exc.value.message_dict == {
        "credit_limit": ["Credit limit must be a number like 12 or 12.50."]
    }


def test_export_columns_are_the_active_fields_in_order(actor, fields):
    services.custom_field_update(actor=actor, field=fields["vip"], data={"archived": True})
    services.custom_field_update(actor=actor, field=fields["plan"], data={"position": 1})
    assert custom_field_columns() == [
        ("plan", "Plan"),
        ("contract_end", "Contract end"),
        ("credit_limit", "Credit limit"),
        ("mast_ref", "Mast ref"),
    ]
    customer = CustomerFactory(custom_fields={"credit_limit": 12.5, "vip": True})
    assert custom_field_export_value(customer, "credit_limit") == 12.5
    assert custom_field_export_value(customer, "vip") == "Yes"
    assert custom_field_export_value(customer, "plan") is None


# Overview card and Custom tab


def test_overview_shows_set_fields_marked_for_the_overview(actor, fields, staff):
    services.custom_field_update(
        actor=actor, field=fields["credit_limit"], data={"show_on_overview": False}
    )
    customer = CustomerFactory(
        custom_fields={"contract_end": "2026-03-31", "credit_limit": 5, "vip": True}
    )
    request = RequestFactory().get("/")
    request.user = staff
    context = overview_context(request, customer)
    assert [(f.label, text) for f, text in context["custom_field_rows"]] == [
        ("Contract end", "31 Mar 2026"),
        ("VIP", "Yes"),
    ]
    assert context["custom_fields_edit_url"] == f"/config/custom-fields/customer/{customer.pk}/"


def test_overview_context_query_count_is_constant(actor, owner):
    customer = CustomerFactory()
    request = RequestFactory().get("/")
    request.user = owner
    owner.has_perm("customers.change_customer")
    define(actor, label="One")
    with CaptureQueriesContext(connection) as few:
        overview_context(request, customer)
    for n in range(10):
        define(actor, label=f"Field {n}")
    customer.custom_fields = {f"field_{n}": "x" for n in range(10)}
    with CaptureQueriesContext(connection) as many:
        context = overview_context(request, customer)
    assert len(context["custom_field_rows"]) == 10
    assert len(few) == len(many) == 1


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def test_custom_tab_saves_values_and_logs(staff_client, fields):
    customer = CustomerFactory()
    url = reverse("customfields:customer_edit", args=[customer.pk])
    response = staff_client.get(url)
    assert response.status_code == 200
    # In position order, then by label.
    assert [f.name for f in response.context["form"].visible_fields()] == [
        "contract_end",
        "credit_limit",
        "mast_ref",
        "plan",
        "vip",
    ]
    response = staff_client.post(
        url,
        {
            "version": 1,
            "contract_end": "2026-03-31",
            "credit_limit": "",
            "plan": "Pro",
            "vip": "true",
            "mast_ref": "M-9",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == customer.get_absolute_url()
    customer.refresh_from_db()
    assert customer.custom_fields == {
        "contract_end": "2026-03-31",
        "plan": "Pro",
        "vip": True,
        "mast_ref": "M-9",
    }
    assert Event.objects.get(customer=customer).changes == {
        "Contract end": [None, "2026-03-31"],
        "Plan": [None, "Pro"],
        "VIP": [None, "Yes"],
        "Mast ref": [None, "M-9"],
    }


def test_custom_tab_shows_each_error_on_its_field_and_writes_nothing(staff_client, fields):
    customer = CustomerFactory()
    url = reverse("customfields:customer_edit", args=[customer.pk])
    response = staff_client.post(
        url, {"version": 1, "contract_end": "31/03/2026", "plan": "Gold", "mast_ref": ""}
    )
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert errors == {
        "contract_end": ["Contract end must be a date like 2026-03-31."],
        "plan": ["“Gold” is not a choice for Plan; choose one of: Basic, Pro."],
        "mast_ref": ["Mast ref is required."],
    }
    assert "Contract end must be a date like 2026-03-31." in response.content.decode()
    customer.refresh_from_db()
    assert customer.custom_fields == {}
    assert not Event.objects.filter(customer=customer).exists()


def test_custom_tab_stale_version_is_refused(staff_client, fields):
    customer = CustomerFactory()
    url = reverse("customfields:customer_edit", args=[customer.pk])
    response = staff_client.post(url, {"version": 5, "plan": "Pro", "mast_ref": "M"})
    assert response.status_code == 409
    customer.refresh_from_db()
    assert customer.custom_fields == {}


def test_custom_tab_is_refused_to_readonly(client, readonly, fields):
    customer = CustomerFactory()
    client.force_login(readonly)
    url = reverse("customfields:customer_edit", args=[customer.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"plan": "Pro", "mast_ref": "M"}).status_code == 403
    customer.refresh_from_db()
    assert customer.custom_fields == {}


def test_definition_pages(client, admin_user, staff):
    client.force_login(admin_user)
    response = client.post(
        reverse("customfields:add"),
        {
            "label": "Plan",
            "key": "",
            "field_type": "choice",
            "choices": "Basic\nPro\n",
            "help_text": "",
            "position": 5,
            "show_on_overview": "on",
        },
    )
    assert response.status_code == 302
    field = CustomField.objects.get()
    assert (field.key, field.choices, field.show_on_overview) == ("plan", ["Basic", "Pro"], True)
    response = client.get(reverse("customfields:list"))
    assert [obj.label for obj, _ in response.context["rows"]] == ["Plan"]
    response = client.post(
        reverse("customfields:add"),
        {"label": "Again", "key": "plan", "field_type": "text", "position": 1},
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "key": ["The key “plan” is already used by the field “Plan”."]
    }
    client.force_login(staff)
    assert client.get(reverse("customfields:list")).status_code == 200
    assert client.get(reverse("customfields:add")).status_code == 403
    response = client.post(reverse("customfields:edit", args=[field.pk]), {"label": "X"})
    assert response.status_code == 403
    assert CustomField.objects.get().label == "Plan"


# Filtering customers by a custom field through the API (the segment language)


def test_api_filters_customers_by_custom_field(api, actor):
    """`/api/customers/?q=custom.<key>...` compares by the field's type; a bad
    comparison is a 400 keyed by `q`."""
    speed = define(actor, label="Line speed", field_type=CustomField.FieldType.NUMBER)
    plan = define(
        actor, label="Plan", field_type=CustomField.FieldType.CHOICE, choices=["Basic", "Pro"]
    )
    fast = CustomerFactory(name="Fast Fibre Ltd")
    slow = CustomerFactory(name="Slow Copper")
    CustomerFactory(name="No Value")
    services.customer_custom_fields_set(
        actor=actor, customer=fast, values={speed.key: 900, plan.key: "Pro"}
    )
    services.customer_custom_fields_set(actor=actor, customer=slow, values={speed.key: 20})

    def names(query):
        response = api["staff"].get("/api/customers/", {"q": query})
        assert response.status_code == 200, response.content
        return sorted(row["name"] for row in response.json()["results"])

    assert names("custom.line_speed>50") == ["Fast Fibre Ltd"]
    assert names("custom.line_speed<=50") == ["Slow Copper"]
    assert names("custom.plan:pro") == ["Fast Fibre Ltd"]
    assert names("custom.line_speed:* and not custom.plan:*") == ["Slow Copper"]
    refused = api["staff"].get("/api/customers/", {"q": "custom.line_speed>fast"})
    assert refused.status_code == 400
    assert list(refused.json()) == ["q"]
