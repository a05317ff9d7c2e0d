"""Temporary memberships on the customer overview, in a real browser.

Staff add a customer to a group from a later day until a day and see it
pending (not a member yet), cancel it, then add one with only a last day and
see that day on the membership, change it and clear it.
"""

import datetime

from django.utils import timezone
from playwright.sync_api import expect

from patron.customers.models import GroupMembership, ScheduledMembership
from patron.events.models import Event
from patron.groups.models import GroupSet
from tests.factories import CustomerFactory, GroupFactory
from tests.test_membership_validity import shown

expect.set_options(timeout=10_000)


def test_schedule_cancel_and_until(browser_page, login, staff):
    promotions = GroupSet.objects.create(name="Promotions", single_choice=False)
    GroupFactory(group_set=promotions, name="Promo 30")
    customer = CustomerFactory(name="Hartley Farm Supplies")
    today = timezone.localdate()
    start, end = today + datetime.timedelta(days=3), today + datetime.timedelta(days=33)

    page = browser_page
    login(page, staff)
    page.goto(f"/customers/{customer.pk}/")
    card = page.locator("#card-groups")

    # From a later day: pending, not a member yet.
    card.get_by_label("Group to add").fill("Promo 30")
    card.get_by_label("From", exact=True).fill(start.isoformat())
    card.get_by_label("Until", exact=True).fill(end.isoformat())
    card.get_by_role("button", name="Add", exact=True).click()
    pending = card.get_by_test_id("scheduled-membership")
    expect(pending).to_contain_text(f"joins Promo 30 on {shown(start)} (until {shown(end)})")
    expect(pending).to_contain_text("Pending")
    expect(card.get_by_test_id("groups")).to_contain_text("In no group.")
    assert not GroupMembership.objects.filter(customer=customer).exists()
    # The event log card refreshes with the plan.
    expect(page.get_by_test_id("event-log")).to_contain_text("scheduled to join Promo 30")

    # Cancel it.
    card.get_by_role("button", name="Cancel joining Promo 30").click()
    expect(card.get_by_test_id("scheduled-membership")).to_have_count(0)
    assert not ScheduledMembership.objects.exists()
    assert Event.objects.filter(
        customer=customer, message__startswith="Groups: cancelled joining Promo 30"
    ).exists()

    # A bad pair of dates is a clear message on the card, nothing added.
    card.get_by_label("Group to add").fill("Promo 30")
    card.get_by_label("From", exact=True).fill(end.isoformat())
    card.get_by_label("Until", exact=True).fill(start.isoformat())
    card.get_by_role("button", name="Add", exact=True).click()
    expect(card.get_by_test_id("card-error")).to_contain_text(
        f"The last day ({start.isoformat()}) cannot be before the first day"
    )
    assert not ScheduledMembership.objects.exists()

    # Now, until a day: a member, with the last day shown.
    card.get_by_label("Group to add").fill("Promo 30")
    card.get_by_label("From", exact=True).fill("")
    card.get_by_label("Until", exact=True).fill(end.isoformat())
    card.get_by_role("button", name="Add", exact=True).click()
    expect(card.get_by_test_id("membership")).to_contain_text(f"until {shown(end)}")
    assert GroupMembership.objects.get(customer=customer).valid_until == end

    # Change the last day with the small edit control, then clear it.
    later = end + datetime.timedelta(days=10)
    card.get_by_role("button", name="End date of Promo 30").click()
    card.get_by_label("Last day in Promo 30").fill(later.isoformat())
    card.get_by_role("button", name="Save").click()
    expect(card.get_by_test_id("membership-until")).to_have_text(f"until {shown(later)}")
    card.get_by_role("button", name="End date of Promo 30").click()
    card.get_by_role("button", name="No end date for Promo 30").click()
    expect(card.get_by_test_id("membership-until")).to_have_count(0)
    assert GroupMembership.objects.get(customer=customer).valid_until is None
    expect(page.get_by_test_id("event-log")).to_contain_text(
        f"Promo 30 until {later.isoformat()} -> no end"
    )
