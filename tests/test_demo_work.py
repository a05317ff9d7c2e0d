"""The demo data's work on customers: custom fields, banner rules, notes,
tasks, tickets and calls, all written through the services."""

import pytest

from patron.banners.models import BannerRule
from patron.banners.overview import banners_for
from patron.calls.models import CallLog
from patron.customers.models import Customer
from patron.customfields.models import CustomField
from patron.events.models import Event
from patron.notes.models import Note
from patron.ops.demo import load_demo
from patron.tasks.models import Task
from patron.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def test_demo_has_work_banners_and_custom_fields():
    load_demo(customers=40)

    assert set(CustomField.objects.values_list("key", flat=True)) == {
        "line_speed",
        "router",
        "contract_end",
    }
    assert Customer.objects.exclude(custom_fields={}).count() >= 10
    vulnerable = BannerRule.objects.get(name="Vulnerable")
    assert (vulnerable.severity, vulnerable.tag.name, vulnerable.message) == (
        "danger",
        "Vulnerable",
        "Vulnerable customer: follow the care policy",
    )
    tagged = Customer.objects.filter(tags__name="Vulnerable").first()
    if tagged is not None:
        assert vulnerable in banners_for(tagged)
    assert Ticket.objects.count() == 12
    assert Ticket.objects.closed().exists() and Ticket.objects.open().exists()
    assert Task.objects.count() == Note.objects.count() == CallLog.objects.count() == 12
    assert Note.objects.filter(private_to_department=True, department__name="Billing").exists()
    # Every piece of work came through the services: it is in the event log.
    assert Event.objects.filter(object_type__model="ticket", action="created").count() == 12


def test_demo_work_is_not_duplicated_by_force():
    """Loading again with --force reuses the fields and banner rules."""
    load_demo(customers=15)
    load_demo(customers=15, force=True)
    assert CustomField.objects.count() == 3
    assert BannerRule.objects.filter(name="Vulnerable").count() == 1
