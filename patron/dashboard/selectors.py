"""The home page's numbers, each within what the user may see, each in one query.

Everything here reads; nothing writes. The numbers are plain lists and dicts so
the page draws a chart (patron/core/charts.py) and a table from the same values.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import Count, Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from patron.customers.models import Customer, StatusChange
from patron.departments.models import Department
from patron.jobs.models import Job
from patron.statuses.models import Status
from patron.tickets.models import Ticket

MONTHS = 12
RECENT_JOBS = 8
# Open tickets by how long they have been open: (label, from days, to days).
AGE_BUCKETS = (
    ("Under 1 day", 0, 1),
    ("1–3 days", 1, 3),
    ("3–7 days", 3, 7),
    ("Older", 7, None),
)


@dataclass
class StatusCount:
    status: Status
    count: int


def customers_by_status(user) -> list[StatusCount]:
    """Customers (not archived) per status, in the statuses' own order; empty statuses left out."""
    counts = dict(
        Customer.objects.restrict(user)
        .active()
        .order_by()
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    statuses = Status.objects.filter(pk__in=counts).order_by("position", "name")
    return [StatusCount(s, counts[s.pk]) for s in statuses]


def month_starts(today: date, months: int = MONTHS) -> list[date]:
    """The first day of each of the last `months` months, this one last."""
    year, month = today.year, today.month
    starts = []
    for _ in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def _as_month(value) -> date:
    if isinstance(value, datetime):
        value = timezone.localtime(value) if timezone.is_aware(value) else value
        value = value.date()
    return value.replace(day=1)


@dataclass
class MonthRow:
    month: date
    new: int
    ceased: int


def new_and_ceased(user, today: date | None = None) -> list[MonthRow]:
    """Per month of the last twelve: customers created, and customers who ceased.

    Ceased counts applied status changes, by their effective date, into a status
    that is not active (`Status.is_active` false) from an active one (or none), so a
    later move between two inactive statuses does not count a customer twice.
    """
    today = today or timezone.localdate()
    months = month_starts(today)
    first = months[0]
    visible = Customer.objects.restrict(user)
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(first, datetime.min.time()), tz)
    new = (
        visible.filter(created__gte=start)
        .annotate(month=TruncMonth("created", tzinfo=tz))
        .order_by()
        .values("month")
        .annotate(n=Count("id"))
        .values_list("month", "n")
    )
    ceased = (
        StatusChange.objects.applied()
        .filter(
            customer__in=visible.values("pk"),
            effective_date__gte=first,
            effective_date__lte=today,
            to_status__is_active=False,
        )
        .filter(Q(from_status__isnull=True) | Q(from_status__is_active=True))
        .annotate(month=TruncMonth("effective_date"))
        .order_by()
        .values("month")
        .annotate(n=Count("id"))
        .values_list("month", "n")
    )
    new_by_month, ceased_by_month = {}, {}
    for month, n in new:
        new_by_month[_as_month(month)] = new_by_month.get(_as_month(month), 0) + n
    for month, n in ceased:
        ceased_by_month[_as_month(month)] = ceased_by_month.get(_as_month(month), 0) + n
    return [MonthRow(m, new_by_month.get(m, 0), ceased_by_month.get(m, 0)) for m in months]


@dataclass
class DepartmentAges:
    department: object  # a Department, or None for tickets routed nowhere
    counts: list[int]

    @property
    def total(self) -> int:
        return sum(self.counts)


def open_tickets_by_age(user, now: datetime | None = None) -> list[DepartmentAges]:
    """Open (and pending) tickets per department, counted by age bucket, in one query."""
    now = now or timezone.now()
    buckets = {}
    for i, (_label, low, high) in enumerate(AGE_BUCKETS):
        q = Q(created__lte=now - timedelta(days=low))
        if high is not None:
            q &= Q(created__gt=now - timedelta(days=high))
        buckets[f"age{i}"] = Count("id", filter=q)
    rows = (
        Ticket.objects.restrict(user)
        .open()
        .order_by()
        .values("department", "department__name")
        .annotate(**buckets)
        .order_by("department__name")
    )
    departments = Department.objects.in_bulk([r["department"] for r in rows if r["department"]])
    result = [
        DepartmentAges(
            departments.get(r["department"]), [r[f"age{i}"] for i in range(len(AGE_BUCKETS))]
        )
        for r in rows
    ]
    return [r for r in result if r.total]


def recent_jobs(user, limit: int = RECENT_JOBS) -> list[Job]:
    """The newest jobs: the user's own, or everyone's with `jobs.view_job`."""
    return list(Job.objects.restrict(user).order_by("-created", "-id")[:limit])
