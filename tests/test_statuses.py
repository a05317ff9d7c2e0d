"""Statuses: every field of the status page, the progression rules, who may
change them, and deleting only what no customer ever held."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.customers.services import customer_status_change
from patron.events.models import Event
from patron.statuses.forms import SECTIONS, StatusForm
from patron.statuses.models import Status
from patron.statuses.services import status_create, status_delete, status_update
from tests.factories import CustomerFactory, StatusFactory

pytestmark = pytest.mark.django_db

DEFAULT_NAMES = ["Prospect", "Active", "Suspended", "Ceased", "Ex-Customer"]
USED_MESSAGE = (
    "“{}” is or was held by customers, so it is kept for their history. "
    "Set its availability to Historical to stop it being assigned."
)


def row(status: Status) -> dict:
    """Every stored value of a status, to prove a refused write changed nothing."""
    return Status.objects.values().get(pk=status.pk)


def form_data(status: Status, **changes) -> dict:
    """What the browser posts for `status`'s edit form, with `changes` applied."""
    form = StatusForm(instance=status)
    values = {name: form[name].value() for name in form.fields}
    values.update(changes, version=changes.get("version", status.version))
    data = {}
    for name, value in values.items():
        if value is True:
            data[name] = "on"
        elif value in (False, None):
            continue
        else:
            data[name] = value
    return data


@pytest.fixture
def login(client, users):
    def as_role(role):
        client.force_login(users[role])
        return client

    return as_role


# Services


def test_default_statuses_come_from_the_data_migration():
    assert list(Status.objects.values_list("name", flat=True)) == DEFAULT_NAMES
    suspended = Status.objects.get(name="Suspended")
    assert (suspended.next_status.name, suspended.next_status_days) == ("Ceased", 30)


def test_duplicate_name_in_another_case_is_refused(actor):
    with pytest.raises(ValidationError) as exc:
        status_create(actor=actor, data={"name": "  ACTIVE "})
    assert exc.value.message_dict == {"name": ["A status named “Active” already exists."]}
    assert list(Status.objects.values_list("name", flat=True)) == DEFAULT_NAMES


def test_rename_onto_another_status_in_another_case_is_refused(actor):
    paused = StatusFactory(name="Paused")
    with pytest.raises(ValidationError) as exc:
        status_update(actor=actor, status=paused, data={"name": "suspended"})
    assert exc.value.message_dict == {"name": ["A status named “Suspended” already exists."]}
    paused.refresh_from_db()
    assert (paused.name, paused.version) == ("Paused", 1)


def test_create_with_every_field_logs_them(actor):
    ceased = Status.objects.get(name="Ceased")
    status = status_create(
        actor=actor,
        data={
            "name": "Debt collection",
            "short_name": "DEBT",
            "availability": Status.Availability.STANDARD,
            "display_class": "danger",
            "position": 35,
            "is_suspended": True,
            "next_status": ceased,
            "next_status_days": 60,
            "override_invoice_message": "Your account is with our collections team.",
            "can_have_calls": False,
            "require_reason": True,
        },
    )
    status.refresh_from_db()
    assert (status.next_status, status.next_status_days, status.is_suspended) == (ceased, 60, True)
    event = Event.objects.get(action="created", object_id=str(status.pk))
    assert event.actor_label == "olivia"
    assert event.changes["next_status"] == [None, "Ceased"]
    assert event.changes["next_status_days"] == [None, 60]
    assert event.changes["display_class"] == [None, "danger"]
    assert event.message == "Created status Debt collection"


def test_next_status_without_days_is_refused(actor):
    with pytest.raises(ValidationError) as exc:
        status_create(
            actor=actor,
            data={"name": "Grace period", "next_status": Status.objects.get(name="Suspended")},
        )
    assert exc.value.message_dict == {
        "next_status_days": ["Say after how many days customers move to the next status."]
    }
    assert not Status.objects.filter(name="Grace period").exists()


def test_days_without_next_status_are_refused(actor):
    with pytest.raises(ValidationError) as exc:
        status_create(actor=actor, data={"name": "Grace period", "next_status_days": 14})
    assert exc.value.message_dict == {"next_status": ["Choose the status customers move on to."]}
    assert not Status.objects.filter(name="Grace period").exists()


def test_a_status_cannot_be_its_own_next_status(actor):
    suspended = Status.objects.get(name="Suspended")
    before = row(suspended)
    with pytest.raises(ValidationError) as exc:
        status_update(
            actor=actor, status=suspended, data={"next_status": suspended, "next_status_days": 5}
        )
    assert exc.value.message_dict == {"next_status": ["A status cannot progress to itself."]}
    assert row(suspended) == before


def test_update_logs_before_and_after(actor):
    suspended = Status.objects.get(name="Suspended")
    status_update(
        actor=actor,
        status=suspended,
        data={"name": "Barred", "billable": False},
        expected_version=1,
    )
    suspended.refresh_from_db()
    assert (suspended.name, suspended.billable, suspended.version) == ("Barred", False, 2)
    event = Event.objects.get(action="updated", object_id=str(suspended.pk))
    assert event.changes == {"name": ["Suspended", "Barred"], "billable": [True, False]}


@pytest.mark.parametrize("role", ["staff", "readonly"])
def test_staff_and_readonly_cannot_change_a_status(users, role):
    active = Status.objects.get(name="Active")
    before = row(active)
    with pytest.raises(PermissionDenied) as exc:
        status_update(actor=Actor(user=users[role]), status=active, data={"billable": False})
    assert str(exc.value) == "Your role does not allow you to change statuses."
    assert row(active) == before
    assert not Event.objects.exists()


def test_deleting_a_status_customers_hold_is_refused(actor):
    active = Status.objects.get(name="Active")
    CustomerFactory(status=active)
    with pytest.raises(ValidationError) as exc:
        status_delete(actor=actor, status=active)
    assert exc.value.messages == [USED_MESSAGE.format("Active")]
    assert Status.objects.filter(pk=active.pk).exists()


def test_deleting_a_status_customers_once_held_is_refused(actor):
    trial = StatusFactory(name="Trial")
    customer = customer_status_change(actor=actor, customer=CustomerFactory(), status=trial)
    customer = customer_status_change(
        actor=actor,
        customer=customer,
        status=Status.objects.get(name="Active"),
        effective_date=datetime.date.today(),
    )
    assert customer.status.name == "Active"
    with pytest.raises(ValidationError) as exc:
        status_delete(actor=actor, status=trial)
    assert exc.value.messages == [USED_MESSAGE.format("Trial")]
    assert Status.objects.filter(pk=trial.pk).exists()


def test_unused_status_is_deleted_and_logged(actor):
    trial = StatusFactory(name="Trial")
    status_delete(actor=actor, status=trial)
    assert not Status.objects.filter(name="Trial").exists()
    event = Event.objects.get(action="deleted")
    assert (event.object_repr, event.message) == ("Trial", "Deleted status Trial")


# Pages


def test_pages_need_sign_in(client):
    response = client.get(reverse("statuses:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


@pytest.mark.parametrize("role", ["owner", "admin", "staff", "readonly"])
def test_every_role_sees_the_list_only_managers_get_the_buttons(login, role):
    response = login(role).get(reverse("statuses:list"))
    assert response.status_code == 200
    assert [s.name for s, _ in response.context["rows"]] == DEFAULT_NAMES
    manager = role in {"owner", "admin"}
    assert (b"Add status" in response.content) is manager
    edit_link = f'href="{reverse("statuses:edit", args=[Status.objects.get(name="Active").pk])}"'
    assert (edit_link in response.content.decode()) is manager


def test_list_shows_badges_flags_next_status_and_customer_counts(login):
    active = Status.objects.get(name="Active")
    suspended = Status.objects.get(name="Suspended")
    CustomerFactory.create_batch(3, status=active)
    CustomerFactory(status=suspended)
    response = login("staff").get(reverse("statuses:list"))
    rows = {s.name: (s, cells) for s, cells in response.context["rows"]}
    assert {name: s.customer_count for name, (s, _) in rows.items()} == {
        "Prospect": 0,
        "Active": 3,
        "Suspended": 1,
        "Ceased": 0,
        "Ex-Customer": 0,
    }
    html = response.content.decode()
    assert '<span class="badge status-success">ACT</span>' in html
    assert 'status-danger" style="--badge-colour: #6c757d; color: #ffffff">Ceased</span>' in html
    assert "after 30 days" in html
    assert ">Historical</span>" in html and ">Headline</span>" in html
    labels = [c.label for c in response.context["columns"]]
    assert labels == [
        "#",
        "Name",
        "Short name",
        "Availability",
        "Active",
        "Suspended",
        "CRM only",
        "Billable",
        "Next status",
        "Customers",
    ]


def test_list_filters_by_availability_flags_and_search(login):
    client = login("readonly")

    def names(**params):
        return [s.name for s, _ in client.get(reverse("statuses:list"), params).context["rows"]]

    assert names(availability="historical") == ["Ex-Customer"]
    assert names(availability="headline") == ["Active", "Suspended"]
    assert names(is_active="false") == ["Ceased", "Ex-Customer"]
    assert names(billable="false") == ["Prospect", "Ex-Customer"]
    assert names(q="susp") == ["Suspended"]


def test_list_query_count_does_not_grow_with_statuses_and_customers(login):
    client = login("owner")
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("statuses:list")).status_code == 200
    ceased = Status.objects.get(name="Ceased")
    for n in range(8):
        status = StatusFactory(name=f"Extra {n}", next_status=ceased, next_status_days=n + 1)
        CustomerFactory.create_batch(2, status=status)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("statuses:list"))
    assert len(response.context["rows"]) == 13
    assert len(many) == len(few)


def test_form_has_the_five_sections_of_the_status_page(login):
    suspended = Status.objects.get(name="Suspended")
    response = login("admin").get(reverse("statuses:edit", args=[suspended.pk]))
    assert response.status_code == 200
    form = response.context["form"]
    assert [title for title, _ in form.sections] == [
        "Name and display",
        "Status",
        "Billing",
        "Final bill",
        "Update requirements",
    ]
    model_fields = {
        f.name
        for f in Status._meta.concrete_fields
        if f.editable and f.name not in {"id", "created", "modified"}
    }
    # Every model field, and the preset reasons (their own rows, one per line).
    assert {name for _, names in SECTIONS for name in names} == model_fields | {"preset_reasons"}
    offered = [label for _, label in form.fields["next_status"].widget.choices]
    assert offered == [
        "None: customers stay in this status",
        "Prospect",
        "Active",
        "Ceased",
        "Ex-Customer",
    ]
    html = response.content.decode()
    assert f'<option value="{suspended.pk}"' not in html
    assert f'<option value="{suspended.next_status_id}" selected>Ceased</option>' in html


def test_owner_creates_a_status_through_the_form(login):
    ceased = Status.objects.get(name="Ceased")
    data = form_data(
        Status(),
        name="Debt collection",
        short_name="DEBT",
        display_class="danger",
        position=35,
        next_status=ceased.pk,
        next_status_days=60,
        billable=False,
        require_reason=True,
    )
    response = login("owner").post(reverse("statuses:add"), data)
    assert response.status_code == 302
    assert response["Location"] == reverse("statuses:list")
    status = Status.objects.get(name="Debt collection")
    assert (status.next_status, status.next_status_days, status.billable) == (ceased, 60, False)
    assert (status.require_reason, status.display_class, status.version) == (True, "danger", 1)


def test_admin_edits_a_status_through_the_form(login):
    suspended = Status.objects.get(name="Suspended")
    data = form_data(suspended, next_status_days=45, send_correspondence=False)
    response = login("admin").post(reverse("statuses:edit", args=[suspended.pk]), data)
    assert response.status_code == 302
    suspended.refresh_from_db()
    assert (suspended.next_status_days, suspended.send_correspondence) == (45, False)
    assert suspended.version == 2


def test_form_refuses_next_status_without_days(login):
    active = Status.objects.get(name="Active")
    before = row(active)
    suspended = Status.objects.get(name="Suspended")
    data = form_data(active, next_status=suspended.pk)
    response = login("owner").post(reverse("statuses:edit", args=[active.pk]), data)
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "next_status_days": ["Say after how many days customers move to the next status."]
    }
    assert row(active) == before


def test_form_refuses_the_status_itself_as_next_status(login):
    active = Status.objects.get(name="Active")
    before = row(active)
    data = form_data(active, next_status=active.pk, next_status_days=3)
    response = login("owner").post(reverse("statuses:edit", args=[active.pk]), data)
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "next_status": ["A status cannot progress to itself."]
    }
    assert row(active) == before


def test_form_shows_the_duplicate_name_error(login):
    data = form_data(Status(), name="prospect")
    response = login("owner").post(reverse("statuses:add"), data)
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "name": ["A status named “Prospect” already exists."]
    }
    assert Status.objects.count() == 5


def test_stale_form_is_refused_with_a_conflict_message(login, actor):
    active = Status.objects.get(name="Active")
    data = form_data(active, short_name="MINE")
    status_update(actor=actor, status=active, data={"short_name": "THEIRS"})
    response = login("owner").post(reverse("statuses:edit", args=[active.pk]), data)
    assert response.status_code == 409
    assert "was changed by someone else" in response.content.decode()
    active.refresh_from_db()
    assert (active.short_name, active.version) == ("THEIRS", 2)


@pytest.mark.parametrize("role", ["staff", "readonly"])
def test_staff_and_readonly_get_403_on_the_write_pages_and_change_nothing(login, role):
    active = Status.objects.get(name="Active")
    before = row(active)
    client = login(role)
    for name, args in [
        ("statuses:add", []),
        ("statuses:edit", [active.pk]),
        ("statuses:delete", [active.pk]),
    ]:
        assert client.get(reverse(name, args=args)).status_code == 403
    edit = client.post(
        reverse("statuses:edit", args=[active.pk]), form_data(active, name="Hijacked")
    )
    assert edit.status_code == 403
    assert client.post(reverse("statuses:add"), form_data(Status(), name="New")).status_code == 403
    assert client.post(reverse("statuses:delete", args=[active.pk])).status_code == 403
    assert row(active) == before
    assert Status.objects.count() == 5
    assert not Event.objects.exists()


def test_deleting_a_used_status_on_the_web_is_refused_with_the_message(login):
    active = Status.objects.get(name="Active")
    CustomerFactory(status=active)
    response = login("owner").post(reverse("statuses:delete", args=[active.pk]), follow=True)
    assert response.redirect_chain == [(reverse("statuses:edit", args=[active.pk]), 302)]
    assert [str(m) for m in response.context["messages"]] == [USED_MESSAGE.format("Active")]
    assert Status.objects.filter(pk=active.pk).exists()


def test_unused_status_is_deleted_from_its_page(login):
    trial = StatusFactory(name="Trial")
    client = login("admin")
    confirm = client.get(reverse("statuses:delete", args=[trial.pk]))
    assert confirm.status_code == 200
    response = client.post(reverse("statuses:delete", args=[trial.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("statuses:list")
    assert not Status.objects.filter(pk=trial.pk).exists()
