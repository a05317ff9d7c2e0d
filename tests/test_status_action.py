"""The status change from the customer's header: a dialog with preset reasons
per status, the reason and date required exactly when the status says, one
error per field, and the change made by the status service."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from patron.core.actor import Actor
from patron.customers.models import Customer, StatusChange
from patron.events.models import Event
from patron.statuses import services as status_services
from patron.statuses.models import Status, StatusReason
from tests.factories import CustomerFactory, StatusFactory
from tests.test_statuses import form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def strict(owner):
    """A status that needs both a reason and a date, with two preset reasons."""
    status = StatusFactory(name="On hold", require_reason=True, require_date=True)
    status_services.status_reasons_set(
        actor=Actor(user=owner), status=status, reasons=["Moving house", "Travelling"]
    )
    return status


@pytest.fixture
def customer():
    return CustomerFactory(name="Hartley Farm Supplies")


def dialog_post(client, customer, **data):
    return client.post(
        reverse("customers:status_dialog", args=[customer.pk]),
        {f"change-{k}": v for k, v in data.items()},
        HTTP_HX_REQUEST="true",
    )


def test_header_has_change_status_action(client, staff, customer, strict):
    """The header has "Change status", and the badge opens the same dialog, which
    offers the statuses and their preset reasons grouped by status."""
    client.force_login(staff)
    html = client.get(customer.get_absolute_url()).content.decode()
    assert 'data-testid="change-status"' in html
    assert re.search(
        r'<button[^>]*data-dialog-open="status-dialog"[^>]*>\s*<span[^>]*status-badge', html
    )
    assert '<dialog id="status-dialog"' in html
    assert 'name="change-status"' in html
    assert '<optgroup label="On hold">' in html
    assert "Moving house" in html
    # The option says what the status requires, so the page can mark the fields.
    assert re.search(rf'<option value="{strict.pk}"[^>]*data-require-reason="true"', html)


def test_readonly_user_has_no_action(client, readonly, customer):
    """A role that cannot change customers sees the badge, not the action."""
    client.force_login(readonly)
    html = client.get(customer.get_absolute_url()).content.decode()
    assert 'data-testid="status-badge"' in html
    assert "status-dialog" not in html
    assert 'data-testid="change-status"' not in html


def test_wrong_submit_shows_one_error_per_field(client, staff, customer, strict):
    """No reason and no date for a status that needs both: one message under each
    field, none repeated above the form, and nothing changed."""
    client.force_login(staff)
    before = customer.status_id
    response = dialog_post(client, customer, status=strict.pk, reason="", effective_date="")
    assert response.status_code == 200
    assert response["HX-Retarget"] == "#status-dialog-form"
    assert "HX-Refresh" not in response
    html = response.content.decode()
    assert html.count('data-field-error="reason"') == 1
    assert html.count('data-field-error="effective_date"') == 1
    assert html.count("A reason is required to change to “On hold”.") == 1
    assert html.count("An effective date is required to change to “On hold”.") == 1
    assert 'data-testid="dialog-error"' not in html
    customer.refresh_from_db()
    assert customer.status_id == before
    assert not StatusChange.objects.filter(customer=customer).exists()
    assert not Event.objects.filter(action="status_changed").exists()


def test_no_status_chosen_is_one_error(client, staff, customer):
    client.force_login(staff)
    html = dialog_post(client, customer, status="", reason="").content.decode()
    assert html.count('data-field-error="status"') == 1


def test_right_submit_changes_status_and_logs_it(client, staff, customer, strict):
    """A preset reason and today's date: the status changes through the service,
    with a history row and an event carrying the reason; the page reloads."""
    client.force_login(staff)
    preset = strict.reasons.get(text="Travelling")
    today = timezone.localdate()
    response = dialog_post(
        client, customer, status=strict.pk, preset_reason=preset.pk, effective_date=today
    )
    assert response["HX-Refresh"] == "true"
    customer.refresh_from_db()
    assert customer.status == strict
    change = StatusChange.objects.get(customer=customer, to_status=strict)
    assert change.reason == "Travelling"
    assert change.effective_date == today
    event = Event.objects.get(action="status_changed", customer=customer)
    assert event.reason == "Travelling"
    assert event.actor_user == staff


def test_typed_reason_is_kept_beside_the_preset(client, staff, customer, strict):
    client.force_login(staff)
    preset = strict.reasons.get(text="Moving house")
    dialog_post(
        client,
        customer,
        status=strict.pk,
        preset_reason=preset.pk,
        reason="back in May",
        effective_date=timezone.localdate(),
    )
    assert StatusChange.objects.get(customer=customer).reason == "Moving house: back in May"


def test_a_status_without_requirements_needs_neither(client, staff, customer):
    """Reason and date are required only when the status says so."""
    relaxed = StatusFactory(name="Trial")
    client.force_login(staff)
    response = dialog_post(client, customer, status=relaxed.pk)
    assert response["HX-Refresh"] == "true"
    customer.refresh_from_db()
    assert customer.status == relaxed


def test_preset_of_another_status_is_refused(client, staff, customer, strict):
    client.force_login(staff)
    other = StatusFactory(name="Trial")
    preset = strict.reasons.first()
    html = dialog_post(client, customer, status=other.pk, preset_reason=preset.pk).content.decode()
    assert html.count('data-field-error="preset_reason"') == 1
    assert Customer.objects.get(pk=customer.pk).status != other


def test_future_date_schedules(client, staff, customer, strict):
    client.force_login(staff)
    later = timezone.localdate() + datetime.timedelta(days=5)
    dialog_post(client, customer, status=strict.pk, reason="Away", effective_date=later)
    assert StatusChange.objects.get(customer=customer).is_pending


def test_preset_reasons_are_edited_on_the_status_page(client, admin_user, strict):
    """One per line on the status's page; blanks and repeats left out; in order."""
    client.force_login(admin_user)
    page = client.get(reverse("statuses:edit", args=[strict.pk])).content.decode()
    assert "Preset reasons" in page and "Moving house\nTravelling" in page
    response = client.post(
        reverse("statuses:edit", args=[strict.pk]),
        form_data(
            strict, preset_reasons="Travelling\n\n Debt  collection \ntravelling\nMoving house"
        ),
    )
    assert response.status_code == 302
    texts = list(strict.reasons.order_by("position").values_list("text", flat=True))
    assert texts == ["Travelling", "Debt collection", "Moving house"]
    event = Event.objects.filter(message__startswith="Preset reasons").latest("pk")
    assert event.changes["preset reasons"] == [["Moving house", "Travelling"], texts]


def test_saving_a_status_without_touching_reasons_keeps_them(client, admin_user, strict):
    client.force_login(admin_user)
    client.post(reverse("statuses:edit", args=[strict.pk]), form_data(strict, short_name="HOLD"))
    assert list(strict.reasons.values_list("text", flat=True)) == ["Moving house", "Travelling"]
    assert StatusReason.objects.count() == 2


def test_preset_reasons_in_the_api(api, strict):
    """The API shows the reasons as a list and a PATCH replaces them."""
    url = f"/api/statuses/{strict.pk}/"
    client = api["admin"]
    body = client.get(url).json()
    assert body["reasons"] == ["Moving house", "Travelling"]
    response = client.patch(
        url, {"reasons": ["Emigrated"]}, format="json", HTTP_IF_MATCH=client.get(url)["ETag"]
    )
    assert response.status_code == 200, response.content
    assert response.json()["reasons"] == ["Emigrated"]
    assert list(Status.objects.get(pk=strict.pk).reasons.values_list("text", flat=True)) == [
        "Emigrated"
    ]
