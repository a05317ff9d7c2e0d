"""The home page (`/`): customers by status, new and ceased per month, open tickets by
department and age, recent jobs; each chart with a table of the same numbers, and each
within what the user may see."""

import datetime as dt
import re

import pytest
from django.utils import timezone

from patron.accounts.models import Role
from patron.core.actor import Actor
from patron.customers import services as customer_services
from patron.customers.models import Customer, StatusChange
from patron.dashboard import selectors
from patron.jobs.models import Job
from patron.statuses.models import Status
from patron.tickets.models import Ticket
from tests.factories import (
    CustomerFactory,
    DepartmentFactory,
    GroupFactory,
    TicketFactory,
    UserFactory,
    user_with_role,
)

pytestmark = pytest.mark.django_db


def _page(client, user):
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    return response.content.decode()


def _cells(html, row_attr, value):
    """The text of each cell of the table row marked `row_attr="value"`."""
    row = re.search(rf'<tr {row_attr}="{re.escape(value)}">(.*?)</tr>', html, re.S).group(1)
    return [
        re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row)
    ]


def _at(days_ago: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(days=days_ago)


def test_home_is_the_dashboard_not_a_redirect(client, owner):
    """`/` answers 200 with the home page (it used to redirect to the customer list)."""
    html = _page(client, owner)
    assert '<h1 class="h3 mb-0">Home</h1>' in html
    for section in ("dash-status", "dash-months", "dash-tickets", "dash-jobs"):
        assert f'data-testid="{section}"' in html


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_customers_by_status_counts_what_the_table_and_chart_show(client, owner):
    """Counts per status (archived accounts aside), linked to the list filtered by status."""
    active = Status.objects.get(name="Active")
    suspended = Status.objects.get(name="Suspended")
    CustomerFactory.create_batch(3, status=active)
    CustomerFactory(status=suspended)
    CustomerFactory(status=active, archived=True)
    html = _page(client, owner)
    assert _cells(html, "data-status", "Active") == ["Active", "3"]
    assert _cells(html, "data-status", "Suspended") == ["Suspended", "1"]
    assert 'data-status="Ceased"' not in html  # no customers: no row
    assert f'href="/customers/?status={active.pk}"' in html
    # The chart says the same numbers in its description.
    assert re.search(r"<desc[^>]*>Active: 3; Suspended: 1\.</desc>", html)


def test_a_restricted_user_counts_only_the_customers_they_may_see(client):
    """A user restricted to a group sees the numbers of that group's customers only."""
    north = GroupFactory(name="North")
    south = GroupFactory(name="South", group_set=north.group_set)
    system = Actor.system_actor("tests")
    for group, n in ((north, 2), (south, 5)):
        for _ in range(n):
            customer = CustomerFactory()
            customer_services.customer_groups_set(actor=system, customer=customer, groups=[group])
    user = user_with_role(Role.STAFF, username="northern")
    user.restricted_groups.add(north)
    html = _page(client, user)
    assert _cells(html, "data-status", "Active") == ["Active", "2"]
    assert [r.count for r in selectors.customers_by_status(user)] == [2]


def test_new_and_ceased_per_month_for_twelve_months(client, owner):
    """New = created that month; ceased = applied changes into an inactive status that
    month, from an active one (a move from Ceased to Ex-Customer is not a second one)."""
    today = timezone.localdate()
    this_month = today.replace(day=1)
    last_month = (this_month - dt.timedelta(days=1)).replace(day=1)
    a, b, c = CustomerFactory.create_batch(3)
    old = CustomerFactory()
    noon = dt.datetime.combine(last_month + dt.timedelta(days=10), dt.time(12))
    Customer.objects.filter(pk=b.pk).update(created=timezone.make_aware(noon))
    Customer.objects.filter(pk=old.pk).update(created=_at(800))
    active, ceased, ex = (Status.objects.get(name=n) for n in ("Active", "Ceased", "Ex-Customer"))
    suspended = Status.objects.get(name="Suspended")

    def change(customer, from_status, to_status, day, state=StatusChange.State.APPLIED):
        StatusChange.objects.create(
            customer=customer,
            from_status=from_status,
            to_status=to_status,
            effective_date=day,
            state=state,
            changed_by_label="tests",
        )

    change(a, active, ceased, today)
    change(a, ceased, ex, today)  # inactive to inactive: not counted again
    change(c, active, suspended, today)  # still active: not ceased
    change(old, active, ceased, last_month)
    change(b, active, ceased, today + dt.timedelta(days=40), StatusChange.State.PENDING)
    rows = selectors.new_and_ceased(owner, today=today)
    assert len(rows) == 12
    assert rows[-1].month == this_month and rows[-2].month == last_month
    assert (rows[-1].new, rows[-1].ceased) == (2, 1)
    assert (rows[-2].new, rows[-2].ceased) == (1, 1)
    assert sum(r.new for r in rows) == 3  # the 800-day-old account is before the window
    html = _page(client, owner)
    assert _cells(html, "data-month", this_month.strftime("%Y-%m"))[1:] == ["2", "1"]
    assert _cells(html, "data-month", last_month.strftime("%Y-%m"))[1:] == ["1", "1"]


def test_open_tickets_by_department_and_age(client, owner):
    """Open and pending tickets per department in four age buckets; closed ones left out."""
    billing = DepartmentFactory(name="Billing")
    sales = DepartmentFactory(name="Sales")
    for department, days in [
        (billing, 0.2),
        (billing, 2),
        (billing, 5),
        (billing, 30),
        (sales, 1.5),
    ]:
        ticket = TicketFactory(department=department)
        Ticket.objects.filter(pk=ticket.pk).update(created=_at(days))
    TicketFactory(department=sales, status=Ticket.Status.PENDING)
    TicketFactory(department=sales, status=Ticket.Status.CLOSED)
    html = _page(client, owner)
    assert _cells(html, "data-department", "Billing") == ["Billing", "1", "1", "1", "1", "4"]
    assert _cells(html, "data-department", "Sales") == ["Sales", "1", "1", "0", "0", "2"]
    assert "Open tickets by department and age" in html
    assert re.search(r"<desc[^>]*>Under 1 day — Billing: 1; Sales: 1\.", html)


def test_tickets_of_customers_out_of_reach_are_not_counted(client):
    north = GroupFactory(name="North")
    system = Actor.system_actor("tests")
    mine = CustomerFactory()
    customer_services.customer_groups_set(actor=system, customer=mine, groups=[north])
    department = DepartmentFactory(name="Support")
    TicketFactory(customer=mine, department=department)
    TicketFactory(department=department)  # a customer in no group the user may see
    user = user_with_role(Role.STAFF, username="northern")
    user.restricted_groups.add(north)
    html = _page(client, user)
    assert _cells(html, "data-department", "Support")[-1] == "1"


def test_recent_jobs_are_your_own_or_everyones_with_view_job(client, owner, staff):
    """Staff see their own jobs; an Owner (jobs.view_job) sees everyone's."""
    mine = Job.objects.create(kind="bulk.tag", actor_user=staff, actor_label=staff.username)
    theirs = Job.objects.create(kind="bulk.tag", actor_user=owner, actor_label=owner.username)
    html = _page(client, staff)
    assert f'data-job-id="{mine.pk}"' in html
    assert f'data-job-id="{theirs.pk}"' not in html
    assert "Your recent jobs" in html
    html = _page(client, owner)
    assert f'data-job-id="{mine.pk}"' in html and f'data-job-id="{theirs.pk}"' in html


def test_a_role_without_customers_or_tickets_sees_no_such_sections(client):
    """A user whose role gives nothing sees the page, without the sections' numbers."""
    user = UserFactory(role=Role.objects.create(name="Nothing"), username="looker")
    html = _page(client, user)
    assert 'data-testid="dash-status"' not in html
    assert 'data-testid="dash-tickets"' not in html
    assert 'data-testid="dash-jobs"' in html


def test_the_page_runs_no_script_for_its_charts(client, owner):
    """The charts are inline SVG: the sections hold no script and load nothing."""
    CustomerFactory()
    html = _page(client, owner)
    sections = html.split('<div class="dashboard-grid">', 1)[1].split("</main>", 1)[0]
    assert "<svg" in sections
    assert "<script" not in sections
    assert "kozea" not in html.lower()
