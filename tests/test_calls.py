"""Call logs: logged from the overview in two clicks, audited on the customer."""

import datetime

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from patron.calls.forms import CallLogForm
from patron.calls.models import CallLog, format_duration
from patron.calls.overview import overview_context
from patron.calls.services import call_log_create, call_log_delete, call_log_update
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.events.models import Event
from tests.factories import ContactFactory, CustomerFactory
from tests.test_customfields import issue4_roles  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _roles(issue4_roles):  # noqa: F811
    return None


def test_create_defaults_to_now_and_the_acting_user(staff):
    customer = CustomerFactory()
    before = timezone.now()
    call = call_log_create(actor=Actor(user=staff), customer=customer, data={})
    assert call.staff_user == staff
    assert before <= call.started_at <= timezone.now()
    assert (call.direction, call.outcome, call.duration, call.summary) == ("in", "resolved", 0, "")
    event = Event.objects.get(customer=customer)
    assert (event.action, event.message, event.actor_label) == (
        "created",
        "Logged inbound call",
        "sam",
    )
    assert event.changes["staff_user"] == [None, "sam"]


def test_contact_must_belong_to_the_customer(actor):
    customer = CustomerFactory()
    stranger = ContactFactory()
    with pytest.raises(ValidationError) as exc:
        call_log_create(actor=actor, customer=customer, data={"contact": stranger})
    assert exc.value.message_dict == {"contact": ["This contact belongs to another customer."]}
    assert not CallLog.objects.exists()
    assert not Event.objects.filter(customer=customer).exists()


def test_update_and_delete_are_logged_on_the_customer(actor):
    customer = CustomerFactory()
    contact = ContactFactory(customer=customer, name="Jo Bloggs")
    call = call_log_create(actor=actor, customer=customer, data={"summary": "Router down"})
    call = call_log_update(
        actor=actor,
        call=call,
        data={"contact": contact, "duration": 330, "outcome": "follow_up"},
        expected_version=1,
    )
    changed = Event.objects.get(customer=customer, action="updated")
    assert changed.changes == {
        "contact": [None, "Jo Bloggs"],
        "duration": [0, 330],
        "outcome": ["Resolved", "Follow-up needed"],
    }
    assert call.duration_display == "5:30"
    call_log_delete(actor=actor, call=call)
    assert not CallLog.objects.exists()
    assert Event.objects.filter(customer=customer, action="deleted").count() == 1


def test_readonly_cannot_log_calls(readonly):
    customer = CustomerFactory()
    with pytest.raises(PermissionDenied):
        call_log_create(actor=Actor(user=readonly), customer=customer, data={})
    assert not CallLog.objects.exists()
    assert not Event.objects.filter(customer=customer).exists()


def test_duration_formats():
    assert [format_duration(s) for s in (0, 59, 330, 3600, 3725)] == [
        "0:00",
        "0:59",
        "5:30",
        "1:00:00",
        "1:02:05",
    ]


@pytest.mark.parametrize(
    ("text", "seconds"), [("4:30", 270), ("7", 420), ("1:02:05", 3725), ("", 0)]
)
def test_duration_is_typed_as_minutes_and_seconds(text, seconds):
    form = CallLogForm({"duration": text}, customer=CustomerFactory())
    assert form.is_valid(), form.errors
    assert form.cleaned_data["duration"] == seconds


def test_unreadable_duration_is_refused():
    form = CallLogForm({"duration": "half an hour"}, customer=CustomerFactory())
    assert not form.is_valid()
    assert form.errors == {
        "duration": ["Enter the duration as minutes:seconds, like 4:30 (or a number of minutes)."]
    }


@pytest.fixture
def staff_client(client, staff):
    client.force_login(staff)
    return client


def test_log_a_call_opens_the_inline_form(staff_client):
    """Click one: "Log a call" answers the card with the form open."""
    customer = CustomerFactory()
    response = staff_client.get(reverse("calls:new", args=[customer.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "calls/_customer_calls.html"
    html = response.content.decode()
    assert 'data-testid="call-form"' in html
    assert f'hx-post="/calls/customer/{customer.pk}/new/"' in html


def test_call_is_logged_with_one_htmx_post_of_defaults(staff_client, staff):
    """Click two: "Save" with nothing changed logs an inbound call, now, by the user."""
    customer = CustomerFactory()
    before = timezone.now().replace(microsecond=0)
    response = staff_client.post(
        reverse("calls:new", args=[customer.pk]), {}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response["HX-Trigger"] == "customer-changed"
    call = CallLog.objects.get()
    assert (call.customer, call.staff_user, call.direction, call.outcome) == (
        customer,
        staff,
        "in",
        "resolved",
    )
    assert before <= call.started_at <= timezone.now()
    html = response.content.decode()
    assert 'data-testid="call-form"' not in html
    assert f'id="call-{call.pk}"' in html
    assert "0:00" in html


def test_htmx_post_with_details_and_errors(staff_client):
    customer = CustomerFactory()
    contact = ContactFactory(customer=customer, name="Jo Bloggs")
    url = reverse("calls:new", args=[customer.pk])
    response = staff_client.post(url, {"duration": "ages"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Enter the duration as minutes:seconds" in response.content.decode()
    assert not CallLog.objects.exists()
    response = staff_client.post(
        url,
        {
            "direction": "out",
            "contact": contact.pk,
            "outcome": "voicemail",
            "started_at": "2026-03-02T09:15",
            "duration": "1:30",
            "summary": "Left a message about the upgrade",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    call = CallLog.objects.get()
    assert (call.direction, call.contact, call.outcome, call.duration) == (
        "out",
        contact,
        "voicemail",
        90,
    )
    assert timezone.localtime(call.started_at).replace(tzinfo=None) == datetime.datetime(
        2026, 3, 2, 9, 15
    )


def test_without_htmx_save_redirects_to_the_overview(staff_client):
    customer = CustomerFactory()
    response = staff_client.post(reverse("calls:new", args=[customer.pk]), {"summary": "Hi"})
    assert response.status_code == 302
    assert response["Location"] == customer.get_absolute_url()
    assert CallLog.objects.get().summary == "Hi"


def test_readonly_sees_calls_but_cannot_log(client, readonly, actor):
    customer = CustomerFactory()
    call_log_create(actor=actor, customer=customer, data={"summary": "Billing question"})
    client.force_login(readonly)
    response = client.get(reverse("calls:customer", args=[customer.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Billing question" in html
    assert "Log a call" not in html
    response = client.post(reverse("calls:new", args=[customer.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 403
    assert CallLog.objects.count() == 1


def test_overview_context_lists_recent_calls_in_constant_queries(actor, staff):
    customer = CustomerFactory()
    request = RequestFactory().get("/")
    request.user = staff
    # Role permissions and group restrictions are read once per request, not per card.
    staff.has_perm("calls.view_calllog")
    staff.has_customer_restriction  # noqa: B018
    call_log_create(actor=actor, customer=customer, data={})
    with CaptureQueriesContext(connection) as few:
        context = overview_context(request, customer)
    assert context["call_count"] == 1
    contacts = [ContactFactory(customer=customer) for _ in range(3)]
    for n in range(12):
        call_log_create(
            actor=actor,
            customer=customer,
            data={
                "contact": contacts[n % 3],
                "started_at": timezone.now() - datetime.timedelta(hours=n + 1),
            },
        )
    with CaptureQueriesContext(connection) as many:
        context = overview_context(request, customer)
        for call in context["calls"]:
            str(call.contact), str(call.staff_user)
    assert len(context["calls"]) == 5
    assert context["call_count"] == 13
    assert len(few) == len(many) == 2


def test_calls_list_and_edit_pages(staff_client, actor):
    customer = CustomerFactory(name="Ann Caller")
    call = call_log_create(actor=actor, customer=customer, data={"summary": "Line noise"})
    response = staff_client.get(reverse("calls:list"), {"customer": customer.pk})
    assert [obj.pk for obj, _ in response.context["rows"]] == [call.pk]
    response = staff_client.post(
        reverse("calls:edit", args=[call.pk]),
        {
            "version": 1,
            "direction": "in",
            "outcome": "follow_up",
            "started_at": "2026-03-02T09:15",
            "duration": "2:00",
            "summary": "Line noise, engineer to call back",
        },
    )
    assert response.status_code == 302
    call.refresh_from_db()
    assert (call.outcome, call.duration, call.version) == ("follow_up", 120, 2)
