"""Scheduled status changes and automatic progression, with a frozen clock."""

import datetime
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command

from patron.core.errors import ValidationError
from patron.customers import services
from patron.customers.models import Customer, StatusChange
from patron.events.models import Event
from patron.ops.schedule import scheduled_pass
from patron.statuses.models import Status
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

MONDAY = datetime.date(2026, 3, 2)


def status(name):
    return Status.objects.get(name=name)


@time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0), tick=False)
def test_future_change_is_pending_then_applied_once_on_the_day(actor):
    """A change dated next week waits; on the day the scheduler applies it, once."""
    customer = CustomerFactory()
    due = MONDAY + datetime.timedelta(days=7)
    services.customer_status_change(
        actor=actor,
        customer=customer,
        status=status("Suspended"),
        reason="Move",
        effective_date=due,
    )
    customer.refresh_from_db()
    assert customer.status.name == "Active"
    pending = StatusChange.objects.pending().get(customer=customer)
    assert (pending.to_status.name, pending.effective_date) == ("Suspended", due)

    assert services.status_changes_apply_due(today=due - datetime.timedelta(days=1)) == 0
    assert services.status_changes_apply_due(today=due) == 1
    assert services.status_changes_apply_due(today=due) == 0
    customer.refresh_from_db()
    assert customer.status.name == "Suspended"
    assert customer.status_since == due
    pending.refresh_from_db()
    assert (pending.state, pending.from_status.name) == ("applied", "Active")
    event = Event.objects.filter(customer=customer, action="status_changed").get()
    assert (event.actor_kind, event.actor_label, event.reason) == (
        "system",
        "status scheduler",
        "Move",
    )


@time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0), tick=False)
def test_pending_change_can_be_cancelled(actor):
    customer = CustomerFactory()
    services.customer_status_change(
        actor=actor,
        customer=customer,
        status=status("Suspended"),
        reason="Move",
        effective_date=MONDAY + datetime.timedelta(days=3),
    )
    change = StatusChange.objects.pending().get(customer=customer)
    services.customer_status_change_cancel(actor=actor, change=change)
    assert services.status_changes_apply_due(today=MONDAY + datetime.timedelta(days=30)) == 0
    customer.refresh_from_db()
    assert customer.status.name == "Active"
    assert Event.objects.filter(customer=customer, action="status_change_cancelled").exists()


@time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0), tick=False)
def test_only_one_pending_change_at_a_time(actor):
    customer = CustomerFactory(name="Ann")
    later = MONDAY + datetime.timedelta(days=5)
    services.customer_status_change(
        actor=actor, customer=customer, status=status("Suspended"), reason="x", effective_date=later
    )
    with pytest.raises(ValidationError) as exc:
        services.customer_status_change(
            actor=actor,
            customer=customer,
            status=status("Prospect"),
            effective_date=later + datetime.timedelta(days=1),
        )
    assert "already has a change to “Suspended” scheduled for 07 Mar 2026" in str(exc.value)


def test_progression_runs_twice_and_moves_each_customer_once(actor):
    """Suspended moves on to Ceased after 30 days; a second run moves nobody."""
    suspended, ceased = status("Suspended"), status("Ceased")
    assert (suspended.next_status, suspended.next_status_days) == (ceased, 30)
    start = datetime.date(2026, 1, 1)
    old = CustomerFactory(status=suspended, status_since=start)
    recent = CustomerFactory(status=suspended, status_since=start + datetime.timedelta(days=10))
    day = start + datetime.timedelta(days=30)
    with time_machine.travel(datetime.datetime(2026, 1, 31, 6, 0), tick=False):
        preview = services.statuses_progress_preview(on_date=day)
        assert [(p.status.name, p.next_status.name, p.count) for p in preview] == [
            ("Suspended", "Ceased", 1)
        ]
        assert services.statuses_progress_due(today=day) == 1
        assert services.statuses_progress_due(today=day) == 0
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.status.name, recent.status.name) == ("Ceased", "Suspended")
    change = old.status_changes.applied().first()
    assert change.reason == "Automatic: 30 days in Suspended"
    assert change.changed_by_label == "status scheduler"


def test_queryset_methods_for_billing_and_messaging():
    prospect = CustomerFactory(status=status("Prospect"))
    active = CustomerFactory(status=status("Active"))
    ex = CustomerFactory(status=status("Ex-Customer"))
    assert list(Customer.objects.billable()) == [active]
    assert set(Customer.objects.may_receive_mail()) == {active}
    assert prospect not in Customer.objects.paying()
    assert ex in Customer.objects.paying()


@time_machine.travel(datetime.datetime(2026, 3, 9, 6, 0), tick=False)
def test_scheduled_pass_applies_due_changes_once_and_reports_every_step(actor):
    """One pass applies the change due today and says what each app's step did;
    a second pass finds nothing left to do."""
    customer = CustomerFactory()
    with time_machine.travel(datetime.datetime(2026, 3, 2, 9, 0), tick=False):
        services.customer_status_change(
            actor=actor,
            customer=customer,
            status=status("Suspended"),
            reason="Move",
            effective_date=datetime.date(2026, 3, 9),
        )

    first = scheduled_pass()
    assert first["applied"] == 1
    assert set(first) >= {
        "applied",
        "progressed",
        "memberships_ended",
        "memberships_started",
        "dynamic_entered",
        "dynamic_left",
        "exports_expired",
    }
    assert scheduled_pass()["applied"] == 0
    customer.refresh_from_db()
    assert customer.status.name == "Suspended"


def test_run_status_schedule_command_runs_the_pass(actor):
    """`patron manage run_status_schedule` is the same pass, for cron."""
    out = StringIO()
    call_command("run_status_schedule", "--date", "2026-03-09", stdout=out)
    assert "Applied 0 scheduled change(s)" in out.getvalue()
    out = StringIO()
    call_command("run_status_schedule", "--preview", stdout=out)
    assert "will move from Suspended to Ceased" in out.getvalue()
