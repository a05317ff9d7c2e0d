"""The home page: customers by status, new and ceased per month, open tickets, recent jobs.

Each section is a chart (inline SVG from `patron.core.charts`) with a table of
the same numbers beside it, and shows only what the user's role may see.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.formats import date_format

from patron.core.charts import bar_chart, line_chart, stacked_bar_chart
from patron.core.views import PatronView
from patron.dashboard import selectors
from patron.jobs.views import state_badge


def _status_section(user) -> dict | None:
    if not user.has_perm("customers.view_customer"):
        return None
    rows = selectors.customers_by_status(user)
    list_url = reverse("customers:list")
    labels = [row.status.name for row in rows]
    return {
        "rows": [(row, f"{list_url}?{urlencode({'status': row.status.pk})}") for row in rows],
        "total": sum(row.count for row in rows),
        "chart": bar_chart(
            "Customers by status", labels, {"Customers": [row.count for row in rows]}
        ),
    }


def _months_section(user) -> dict | None:
    if not user.has_perm("customers.view_customer"):
        return None
    rows = selectors.new_and_ceased(user)
    labels = [date_format(row.month, "M y") for row in rows]
    return {
        "rows": rows,
        "new_total": sum(r.new for r in rows),
        "ceased_total": sum(r.ceased for r in rows),
        "chart": line_chart(
            "New and ceased customers per month",
            labels,
            {"New": [r.new for r in rows], "Ceased": [r.ceased for r in rows]},
        ),
    }


def _tickets_section(user) -> dict | None:
    if not user.has_perm("tickets.view_ticket"):
        return None
    rows = selectors.open_tickets_by_age(user)
    names = [str(row.department) if row.department else "No department" for row in rows]
    buckets = [label for label, _low, _high in selectors.AGE_BUCKETS]
    series = {label: [row.counts[i] for row in rows] for i, label in enumerate(buckets)}
    return {
        "rows": [(name, row) for name, row in zip(names, rows, strict=True)],
        "buckets": buckets,
        "bucket_totals": [sum(row.counts[i] for row in rows) for i in range(len(buckets))],
        "total": sum(row.total for row in rows),
        "chart": stacked_bar_chart("Open tickets by department and age", names, series)
        if rows
        else "",
    }


class HomeView(PatronView):
    """`/`: what stands out today, at a glance, for every signed-in user."""

    def get(self, request):
        user = request.user
        jobs = selectors.recent_jobs(user)
        return TemplateResponse(
            request,
            "dashboard/home.html",
            {
                "title": "Home",
                "statuses": _status_section(user),
                "months": _months_section(user),
                "tickets": _tickets_section(user),
                "jobs": [(job, state_badge(job)) for job in jobs],
                "all_jobs": user.has_perm("jobs.view_job"),
                "can_see_queues": user.has_perm("tickets.view_ticket"),
            },
        )
