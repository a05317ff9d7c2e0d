"""Status rules a user notices: a progression chain may not loop, headline
statuses come first in pickers, hidden and historical ones are not offered."""

import pytest
from django.urls import reverse

from patron.core.errors import ValidationError
from patron.customers.filters import CustomerFilterSet
from patron.customers.forms import StatusChangeForm
from patron.statuses.models import Status
from patron.statuses.services import status_create, status_update
from tests.factories import CustomerFactory, StatusFactory
from tests.test_statuses import form_data, row

pytestmark = pytest.mark.django_db

LOOP = (
    "This would make a loop: {}. Customers would move round it for ever; "
    "end the chain with a status that has no next status."
)


@pytest.fixture
def chain(actor):
    """Grace → Suspended → Debt collection, each after some days; Debt collection ends it."""
    debt = status_create(actor=actor, data={"name": "Debt collection"})
    suspended = Status.objects.get(name="Suspended")
    status_update(actor=actor, status=suspended, data={"next_status": debt, "next_status_days": 30})
    grace = status_create(
        actor=actor, data={"name": "Grace", "next_status": suspended, "next_status_days": 7}
    )
    return grace, suspended, debt


def test_two_status_loop_is_refused(actor):
    """A → B → A is refused when B is saved, and nothing changes."""
    active = Status.objects.get(name="Active")
    suspended = Status.objects.get(name="Suspended")
    status_update(
        actor=actor, status=active, data={"next_status": suspended, "next_status_days": 1}
    )
    suspended.refresh_from_db()
    before = row(suspended)
    with pytest.raises(ValidationError) as exc:
        status_update(
            actor=actor, status=suspended, data={"next_status": active, "next_status_days": 3}
        )
    assert exc.value.message_dict == {
        "next_status": [LOOP.format("Suspended → Active → Suspended")]
    }
    assert row(suspended) == before


def test_longer_loop_is_refused(actor, chain):
    grace, suspended, debt = chain
    before = row(debt)
    with pytest.raises(ValidationError) as exc:
        status_update(actor=actor, status=debt, data={"next_status": grace, "next_status_days": 5})
    assert exc.value.message_dict == {
        "next_status": [LOOP.format("Debt collection → Grace → Suspended → Debt collection")]
    }
    assert row(debt) == before


def test_chain_that_ends_is_accepted(actor, chain):
    """Pointing the end of a chain at a status outside it is fine."""
    grace, suspended, debt = chain
    ceased = Status.objects.get(name="Ceased")
    status_update(actor=actor, status=debt, data={"next_status": ceased, "next_status_days": 60})
    debt.refresh_from_db()
    assert debt.next_status == ceased
    assert debt.progression_loop() == []


def test_joining_the_middle_of_a_chain_is_not_a_loop(actor, chain):
    grace, suspended, debt = chain
    ceased = Status.objects.get(name="Ceased")
    status_update(
        actor=actor, status=ceased, data={"next_status": suspended, "next_status_days": 1}
    )
    ceased.refresh_from_db()
    assert ceased.next_status == suspended


def test_form_refuses_a_loop(client, owner, actor, chain):
    grace, suspended, debt = chain
    before = row(debt)
    client.force_login(owner)
    data = form_data(debt, next_status=grace.pk, next_status_days=5)
    response = client.post(reverse("statuses:edit", args=[debt.pk]), data)
    assert response.status_code == 400
    assert response.context["form"].errors == {
        "next_status": [LOOP.format("Debt collection → Grace → Suspended → Debt collection")]
    }
    assert row(debt) == before


def test_api_refuses_a_loop(api, chain):
    grace, suspended, debt = chain
    before = row(debt)
    response = api["owner"].patch(
        f"/api/statuses/{debt.pk}/",
        {"next_status": grace.pk, "next_status_days": 5},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "next_status": [LOOP.format("Debt collection → Grace → Suspended → Debt collection")]
    }
    assert row(debt) == before


def test_picker_offers_headline_first_and_leaves_out_hidden_and_historical(owner):
    """The status picker on the overview: headline statuses first; hidden and
    historical statuses are not offered."""
    StatusFactory(name="Internal", visible_in_backend=False)
    StatusFactory(name="Legacy", availability=Status.Availability.HISTORICAL)
    StatusFactory(name="Aardvark trial", availability=Status.Availability.STANDARD, position=1)
    customer = CustomerFactory(status=Status.objects.get(name="Prospect"))
    field = StatusChangeForm(user=owner, customer=customer).fields["status"]
    # What the picker renders: its choices, without the empty one.
    offered = [label for value, label in field.choices if value]
    headline = list(
        Status.objects.filter(availability=Status.Availability.HEADLINE).values_list(
            "name", flat=True
        )
    )
    assert offered[: len(headline)] == headline
    assert "Aardvark trial" in offered[len(headline) :]
    for name in ["Internal", "Legacy", "Ex-Customer", "Prospect"]:
        assert name not in offered


def test_hidden_status_is_not_a_list_filter_choice(rf, owner):
    StatusFactory(name="Internal", visible_in_backend=False)
    request = rf.get("/customers/")
    request.user = owner
    choices = CustomerFilterSet({}, request=request).filters["status"].queryset
    names = {s.name for s in choices}
    assert "Internal" not in names
    assert "Active" in names


def test_customer_keeps_a_status_hidden_later(actor):
    """Hiding a status does not take it away from customers holding it."""
    internal = StatusFactory(name="Internal")
    customer = CustomerFactory(status=internal)
    status_update(actor=actor, status=internal, data={"visible_in_backend": False})
    customer.refresh_from_db()
    assert customer.status == internal
