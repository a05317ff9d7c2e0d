"""Bulk status change and customer services (ORG-10): the new status's related service
status is applied to the chosen customers' services, set-based, as the single-customer
change applies it, logged on each customer, and put back by the job's undo."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from patron.bulk import engine
from patron.bulk.engine import kind_for
from patron.catalogue import services as catalogue
from patron.customers import services as customer_services
from patron.events.models import Event
from patron.jobs.services import job_enqueue, job_run
from patron.subscriptions import services
from patron.subscriptions.models import CustomerService
from tests.factories import CustomerFactory, StatusFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fibre(actor):
    catalogue.tax_rate_create(
        actor=actor, data={"name": "VAT", "rate": Decimal("20.00"), "is_default": True}
    )
    return catalogue.service_create(
        actor=actor,
        data={"code": "FIBRE500", "name": "Fibre 500", "kind": "monthly", "price": Decimal("45")},
    )


def add(actor, customer, service, **data):
    return services.customer_service_add(actor=actor, customer=customer, service=service, data=data)


def bulk_status(actor, customers, status, reason="Unpaid invoices"):
    job = job_enqueue(
        actor=actor,
        kind=kind_for("change_status"),
        params={"status": status.pk, "reason": reason, "ids": [c.pk for c in customers]},
    )
    job = job_run(job.pk)
    assert job.state == "succeeded", job.error
    return job


def undo(actor, job):
    job = job_run(job_enqueue(actor=actor, kind=engine.UNDO_KIND, params={"job": job.pk}).pk)
    assert job.state == "succeeded", job.error
    return job


def states(items):
    return [CustomerService.objects.get(pk=i.pk).status for i in items]


def service_events(**filters):
    return Event.objects.filter(
        object_type__model="customerservice", message__startswith="Service ", **filters
    )


@pytest.fixture
def setup(actor, fibre):
    """Three customers with an active service each; Ann also has an ended one."""
    ann, bob, cat = (CustomerFactory(name=n) for n in ("Ann", "Bob", "Cat"))
    items = {c.name: add(actor, c, fibre) for c in (ann, bob, cat)}
    ended = services.customer_service_end(
        actor=actor, customer_service=add(actor, ann, fibre, quantity=2)
    )
    return ann, bob, cat, items, ended


def test_bulk_change_suspends_the_chosen_customers_services_and_undo_restores(actor, setup):
    """As the single path: the current services of exactly the chosen customers become
    suspended, one event each on the customer; undo makes them active again."""
    ann, bob, cat, items, ended = setup
    unpaid = StatusFactory(name="Unpaid", related_service_status="Suspended")
    before = {k: CustomerService.objects.get(pk=v.pk).version for k, v in items.items()}

    job = bulk_status(actor, [ann, bob], unpaid)

    assert job.result_summary["changed"] == 2
    assert states([items["Ann"], items["Bob"], items["Cat"], ended]) == [
        "suspended",
        "suspended",
        "active",
        "ended",
    ]
    assert CustomerService.objects.get(pk=items["Ann"].pk).version == before["Ann"] + 1
    logged = service_events(created__gte=timezone.now() - datetime.timedelta(minutes=5))
    logged = logged.filter(changes__has_key="job")
    assert sorted(logged.values_list("customer_id", flat=True)) == sorted([ann.pk, bob.pk])
    event = logged.get(customer=ann)
    assert event.action == "updated"
    assert event.object_id == str(items["Ann"].pk)
    assert event.changes == {"status": ["Active", "Suspended"], "job": [None, job.pk]}
    assert event.message == (
        f"Service Fibre 500 is now suspended (status Unpaid; bulk action, job #{job.pk})"
    )
    assert (event.reason, event.actor_label) == ("Unpaid invoices", actor.label)

    reverted = undo(actor, job)

    assert states([items["Ann"], items["Bob"], items["Cat"], ended]) == [
        "active",
        "active",
        "active",
        "ended",
    ]
    back = service_events(changes__job=[None, reverted.pk])
    assert sorted(back.values_list("customer_id", flat=True)) == sorted([ann.pk, bob.pk])
    assert back.get(customer=bob).changes["status"] == ["Suspended", "Active"]
    assert f"undo of job #{job.pk}" in back.get(customer=bob).message


def test_a_status_with_no_related_service_status_leaves_services_alone(actor, setup):
    ann, bob, cat, items, ended = setup
    plain = StatusFactory(name="Moved away", related_service_status="")
    versions = {i.pk: CustomerService.objects.get(pk=i.pk).version for i in items.values()}
    count = service_events().count()

    job = bulk_status(actor, [ann, bob, cat], plain)
    assert job.result_summary["changed"] == 3
    assert states([*items.values(), ended]) == ["active", "active", "active", "ended"]
    assert {i.pk: i.version for i in CustomerService.objects.filter(pk__in=versions)} == versions
    assert service_events().count() == count

    undo(actor, job)
    assert states([*items.values(), ended]) == ["active", "active", "active", "ended"]
    assert service_events().count() == count


def test_bulk_ending_sets_the_last_day_as_the_single_path_and_undo_clears_it(actor, setup):
    ann, bob, cat, items, ended = setup
    ceased = StatusFactory(name="Cease all", related_service_status="ended")
    single = CustomerFactory(name="Dan")
    dans = add(actor, single, items["Ann"].service)
    customer_services.customer_status_change(actor=actor, customer=single, status=ceased)
    dans.refresh_from_db()

    job = bulk_status(actor, [bob], ceased)
    bobs = CustomerService.objects.get(pk=items["Bob"].pk)
    assert (bobs.status, bobs.end_date) == ("ended", timezone.localdate())
    assert (dans.status, dans.end_date) == (bobs.status, bobs.end_date)
    ann_ended = CustomerService.objects.get(pk=ended.pk)

    undo(actor, job)
    bobs.refresh_from_db()
    assert (bobs.status, bobs.end_date) == ("active", None)
    assert CustomerService.objects.get(pk=ended.pk).end_date == ann_ended.end_date


def test_undo_leaves_a_customer_whose_service_was_changed_since(actor, setup):
    """A later change of a service's status (an event with a status change on the
    customer) keeps that customer out of the undo, as for any later status change."""
    ann, bob, cat, items, ended = setup
    unpaid = StatusFactory(name="Unpaid", related_service_status="suspend")
    job = bulk_status(actor, [ann, bob], unpaid)
    services.customer_service_update(
        actor=actor,
        customer_service=CustomerService.objects.get(pk=items["Bob"].pk),
        data={"status": "active"},
    )
    reverted = undo(actor, job)
    assert reverted.result_summary["failed"] == 1
    assert states([items["Ann"], items["Bob"]]) == ["active", "active"]
    assert ann.status_changes.count() == 2 and bob.status_changes.count() == 1
