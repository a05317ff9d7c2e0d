"""The demo provider's work on its customers: custom fields, banner rules, notes,
tasks, tickets and calls, each written through its app's services."""

from __future__ import annotations

import datetime

from django.utils import timezone

from patron.accounts.models import User
from patron.banners.models import BannerRule
from patron.banners.services import banner_rule_create
from patron.calls.services import call_log_create
from patron.customfields.models import CustomField
from patron.customfields.services import custom_field_create, customer_custom_fields_set
from patron.notes.services import note_create
from patron.ops.demo.base import get_or_create
from patron.tasks.services import task_create
from patron.tickets.services import ticket_close, ticket_comment, ticket_create

CUSTOM_FIELDS = [
    {
        "label": "Line speed",
        "key": "line_speed",
        "field_type": "number",
        "help_text": "Synchronised download speed in Mbps.",
        "position": 10,
    },
    {
        "label": "Router",
        "key": "router",
        "field_type": "choice",
        "choices": ["Patron Hub 2", "Patron Hub 3", "Customer's own"],
        "position": 20,
    },
    {
        "label": "Contract end",
        "key": "contract_end",
        "field_type": "date",
        "help_text": "When the minimum term ends.",
        "position": 30,
    },
]

# name, message, severity, tag
BANNER_RULES = [
    ("Vulnerable", "Vulnerable customer: follow the care policy", "danger", "Vulnerable"),
    (
        "Churn risk",
        "Churn risk: offer the retention team before cancelling",
        "warning",
        "Churn risk",
    ),
    (
        "Priority repair",
        "Priority repair: faults are fixed within 4 hours",
        "info",
        "Priority repair",
    ),
]

# subject, description, department, priority, status
DEMO_TICKETS = [
    (
        "Broadband drops every evening",
        "Line stats show errors after 7pm.",
        "Technical support",
        "high",
        "open",
    ),
    ("Charged twice in March", "Duplicate direct debit collected.", "Billing", "normal", "open"),
    (
        "Router lights flashing red",
        "Replacement sent by courier.",
        "Technical support",
        "normal",
        "pending",
    ),
    ("Refund for outage", "Credit of three days applied.", "Billing", "low", "closed"),
    ("Upgrade to 900 Mbps", "Quote sent; awaiting signature.", "Sales", "normal", "open"),
    ("No dial tone", "Engineer visit booked.", "Technical support", "urgent", "open"),
]

# title, department, due in days
DEMO_TASKS = [
    ("Call back about the payment plan", "Billing", 1),
    ("Send the welcome pack", "Sales", 3),
    ("Check the line test results", "Technical support", 0),
    ("Review the direct debit mandate", "Billing", -2),
]

DEMO_NOTES = [
    ("Prefers contact by email after 5pm.", "Technical support", False, True),
    ("Agreed a payment plan of £20 a month until June.", "Billing", True, True),
    ("Asked about business broadband for a home office.", "Sales", False, False),
]

DEMO_CALLS = [
    ("in", 240, "Reported slow speeds; ran a line test.", "follow_up"),
    ("out", 95, "Called back to confirm the engineer visit.", "resolved"),
    ("in", 410, "Questioned the latest bill; explained the pro-rata charge.", "resolved"),
]


def make_work(demo, made: list) -> None:
    """A few custom fields, banner rules, notes, tasks, tickets and calls."""
    a, rng, today = demo.actor, demo.rng, demo.today
    for data in CUSTOM_FIELDS:
        get_or_create(
            CustomField, {"key": data["key"]}, lambda d=data: custom_field_create(actor=a, data=d)
        )
    for name, message, severity, tag in BANNER_RULES:
        get_or_create(
            BannerRule,
            {"name": name},
            lambda n=name, m=message, s=severity, t=tag: banner_rule_create(
                actor=a, data={"name": n, "message": m, "severity": s, "tag": demo.tags[t]}
            ),
        )
    live = [c for c in made if not c.archived]
    if not live:
        return
    for customer in live[: max(1, len(live) // 3)]:
        values = {
            "line_speed": rng.choice([36, 67, 150, 500, 900]),
            "router": rng.choice(CUSTOM_FIELDS[1]["choices"]),
        }
        if rng.random() < 0.5:
            values["contract_end"] = today + datetime.timedelta(days=rng.randrange(30, 700))
        customer_custom_fields_set(actor=a, customer=customer, values=values)
    people = {
        name: list(User.objects.filter(departments=d, role__name__in=["Staff", "Administrator"]))
        for name, d in demo.departments.items()
    }

    def person(department):
        return rng.choice(people[department]) if people[department] else None

    picked = rng.sample(live, min(len(live), 12))
    for index, customer in enumerate(picked):
        subject, description, dept, priority, status = DEMO_TICKETS[index % len(DEMO_TICKETS)]
        ticket = ticket_create(
            actor=a,
            customer=customer,
            data={
                "subject": subject,
                "description": description,
                "department": demo.departments[dept],
                "assignee": person(dept),
                "priority": priority,
                "status": "pending" if status == "pending" else "open",
            },
        )
        ticket_comment(actor=a, ticket=ticket, body="Customer updated by phone.")
        if status == "closed":
            ticket_close(actor=a, ticket=ticket)
        title, dept, due = DEMO_TASKS[index % len(DEMO_TASKS)]
        task_create(
            actor=a,
            customer=customer,
            data={
                "title": title,
                "department": demo.departments[dept],
                "assignee": person(dept),
                "due_date": today + datetime.timedelta(days=due),
            },
        )
        body, dept, private, pinned = DEMO_NOTES[index % len(DEMO_NOTES)]
        note_create(
            actor=a,
            customer=customer,
            data={
                "body": body,
                "department": demo.departments[dept],
                "private_to_department": private,
                "pinned": pinned,
            },
        )
        direction, seconds, summary, outcome = DEMO_CALLS[index % len(DEMO_CALLS)]
        call_log_create(
            actor=a,
            customer=customer,
            data={
                "direction": direction,
                "duration": seconds,
                "summary": summary,
                "outcome": outcome,
                "contact": customer.contacts.first(),
                "staff_user": person("Technical support"),
                "started_at": timezone.now() - datetime.timedelta(hours=rng.randrange(1, 400)),
            },
        )
