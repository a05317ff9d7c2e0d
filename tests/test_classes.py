"""Customer classes: unique names, retention and verification, who may change
them, and deleting only a class no customer is in."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patron.classes.models import CustomerClass
from patron.classes.services import (
    customer_class_create,
    customer_class_delete,
    customer_class_update,
)
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.events.models import Event
from tests.factories import CustomerClassFactory, CustomerFactory

pytestmark = pytest.mark.django_db


def row(customer_class: CustomerClass) -> dict:
    return CustomerClass.objects.values().get(pk=customer_class.pk)


@pytest.fixture
def login(client, users):
    def as_role(role):
        client.force_login(users[role])
        return client

    return as_role


# Services


def test_duplicate_name_in_another_case_is_refused(actor):
    customer_class_create(actor=actor, data={"name": "Business"})
    with pytest.raises(ValidationError) as exc:
        customer_class_create(actor=actor, data={"name": "BUSINESS"})
    assert exc.value.message_dict == {"name": ["A customer class named “Business” already exists."]}
    assert list(CustomerClass.objects.values_list("name", flat=True)) == ["Business"]


def test_create_and_update_are_logged_with_before_and_after(actor):
    personal = customer_class_create(actor=actor, data={"name": "Personal", "retention_days": 2190})
    customer_class_update(
        actor=actor,
        customer_class=personal,
        data={"retention_days": 3650, "verification_required": True},
        expected_version=1,
    )
    personal.refresh_from_db()
    assert (personal.retention_days, personal.verification_required) == (3650, True)
    assert personal.version == 2
    event = Event.objects.get(action="updated")
    assert event.changes == {
        "retention_days": [2190, 3650],
        "verification_required": [False, True],
    }
    assert event.message == "Changed customer class Personal"


@pytest.mark.parametrize("role", ["staff", "readonly"])
def test_staff_and_readonly_cannot_change_a_class(users, role):
    business = CustomerClassFactory(name="Business")
    before = row(business)
    with pytest.raises(PermissionDenied):
        customer_class_update(
            actor=Actor(user=users[role]), customer_class=business, data={"retention_days": 1}
        )
    assert row(business) == before


def test_deleting_a_class_in_use_is_refused(actor):
    business = CustomerClassFactory(name="Business")
    CustomerFactory.create_batch(2, customer_class=business)
    with pytest.raises(ValidationError) as exc:
        customer_class_delete(actor=actor, customer_class=business)
    assert exc.value.messages == [
        "“Business” is the class of 2 customer(s); move them to another class before deleting it."
    ]
    assert CustomerClass.objects.filter(pk=business.pk).exists()


def test_unused_class_is_deleted_and_logged(actor):
    trial = CustomerClassFactory(name="Trial")
    customer_class_delete(actor=actor, customer_class=trial)
    assert not CustomerClass.objects.exists()
    assert Event.objects.get(action="deleted").message == "Deleted customer class Trial"


# Pages


def test_pages_need_sign_in(client):
    response = client.get(reverse("classes:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("role", ["owner", "admin", "staff", "readonly"])
def test_every_role_sees_the_list_only_managers_get_the_buttons(login, role):
    business = CustomerClassFactory(name="Business", position=20)
    CustomerClassFactory(name="Personal", position=10)
    response = login(role).get(reverse("classes:list"))
    assert response.status_code == 200
    assert [c.name for c, _ in response.context["rows"]] == ["Personal", "Business"]
    manager = role in {"owner", "admin"}
    assert (b"Add customer class" in response.content) is manager
    edit_link = f'href="{reverse("classes:edit", args=[business.pk])}"'
    assert (edit_link in response.content.decode()) is manager


def test_list_shows_retention_verification_and_customer_counts(login):
    business = CustomerClassFactory(
        name="Business", retention_days=2190, verification_required=True
    )
    CustomerClassFactory(name="Short", retention_days=30)
    CustomerFactory.create_batch(3, customer_class=business)
    response = login("readonly").get(reverse("classes:list"))
    counts = {c.name: c.customer_count for c, _ in response.context["rows"]}
    assert counts == {"Business": 3, "Short": 0}
    html = response.content.decode()
    assert '6 years <span class="small text-secondary">(2190 days)</span>' in html
    assert "30 days" in html
    assert ">Required</span>" in html


def test_list_filters_by_verification_and_search(login):
    CustomerClassFactory(name="Business", verification_required=True)
    CustomerClassFactory(name="Personal")
    client = login("staff")

    def names(**params):
        return [c.name for c, _ in client.get(reverse("classes:list"), params).context["rows"]]

    assert names(verification_required="true") == ["Business"]
    assert names(verification_required="false") == ["Personal"]
    assert names(q="pers") == ["Personal"]


def test_list_query_count_does_not_grow_with_classes_and_customers(login):
    client = login("owner")
    CustomerClassFactory()
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("classes:list")).status_code == 200
    for customer_class in CustomerClassFactory.create_batch(8):
        CustomerFactory.create_batch(2, customer_class=customer_class)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("classes:list"))
    assert len(response.context["rows"]) == 9
    assert len(many) == len(few)


def test_admin_creates_and_edits_a_class_through_the_form(login):
    client = login("admin")
    data = {"name": "Public sector", "retention_days": 3650, "position": 30}
    response = client.post(reverse("classes:add"), {**data, "verification_required": "on"})
    assert response.status_code == 302
    created = CustomerClass.objects.get(name="Public sector")
    assert (created.retention_days, created.verification_required) == (3650, True)
    response = client.post(
        reverse("classes:edit", args=[created.pk]),
        {**data, "description": "Councils and schools.", "version": 1},
    )
    assert response.status_code == 302
    created.refresh_from_db()
    assert (created.description, created.verification_required, created.version) == (
        "Councils and schools.",
        False,
        2,
    )


def test_form_shows_the_duplicate_name_error(login):
    CustomerClassFactory(name="Business")
    response = login("owner").post(
        reverse("classes:add"), {"name": "business", "retention_days": 1, "position": 1}
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "name": ["A customer class named “Business” already exists."]
    }
    assert CustomerClass.objects.count() == 1


@pytest.mark.parametrize("role", ["staff", "readonly"])
def test_staff_and_readonly_get_403_on_the_write_pages_and_change_nothing(login, role):
    business = CustomerClassFactory(name="Business")
    before = row(business)
    client = login(role)
    for name, args in [
        ("classes:add", []),
        ("classes:edit", [business.pk]),
        ("classes:delete", [business.pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 403
    data = {"name": "Hijacked", "retention_days": 1, "position": 1, "version": 1}
    assert client.post(reverse("classes:edit", args=[business.pk]), data).status_code == 403
    assert client.post(reverse("classes:add"), data).status_code == 403
    assert client.post(reverse("classes:delete", args=[business.pk])).status_code == 403
    assert row(business) == before
    assert CustomerClass.objects.count() == 1


def test_deleting_a_class_in_use_on_the_web_is_refused_with_the_message(login):
    business = CustomerClassFactory(name="Business")
    CustomerFactory(customer_class=business)
    response = login("owner").post(reverse("classes:delete", args=[business.pk]), follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "“Business” is the class of 1 customer(s); move them to another class before deleting it."
    ]
    assert CustomerClass.objects.filter(pk=business.pk).exists()
