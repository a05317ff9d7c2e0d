"""The configuration lists of the demo provider: tags, customer classes, departments."""

from __future__ import annotations

from patron.classes.models import CustomerClass
from patron.classes.services import customer_class_create
from patron.departments.models import Department
from patron.departments.services import department_create
from patron.ops.demo.base import get_or_create
from patron.statuses.models import Status
from patron.tags.models import Tag
from patron.tags.services import tag_create

TAGS = [
    ("VIP", "#d4a017", "High-value account: handle with extra care."),
    ("Fibre", "#0d6efd", "On a full-fibre (FTTP) line."),
    ("Business", "#6f42c1", "Business-grade service level."),
    ("Churn risk", "#dc3545", "Has complained or asked about leaving."),
    ("Paperless", "#198754", "Receives invoices by email only."),
    ("Senior", "#20c997", "Customer over 70; offer the priority phone line."),
    ("Priority repair", "#fd7e14", "Fault fixes within 4 hours (medical or business need)."),
    ("Static IP", "#6c757d", "Has one or more fixed IPv4 addresses."),
    ("Referral", "#d63384", "Joined through a referral from another customer."),
    ("Vulnerable", "#842029", "Registered as needing extra support."),
]

CLASSES = [
    ("Personal", "Private individuals.", 2190, False, 10),
    ("Business", "Companies and sole traders.", 2190, True, 20),
    ("Public sector", "Councils, schools and health services.", 3650, True, 30),
]

DEPARTMENTS = [
    ("Billing", "Invoices, payments and refunds.", "billing@patron-demo.example"),
    ("Technical support", "Faults, installations and repairs.", "support@patron-demo.example"),
    ("Sales", "New accounts, upgrades and business quotes.", "sales@patron-demo.example"),
]


def make_lists(demo) -> None:
    """Tags, classes and departments (each kept if it exists), and the statuses by name."""
    a = demo.actor
    demo.tags = {
        name: get_or_create(
            Tag,
            {"name__iexact": name},
            lambda n=name, c=colour, d=desc: tag_create(
                actor=a, data={"name": n, "colour": c, "description": d}
            ),
        )
        for name, colour, desc in TAGS
    }
    demo.classes = {
        name: get_or_create(
            CustomerClass,
            {"name__iexact": name},
            lambda n=name, d=desc, r=days, v=verify, p=pos: customer_class_create(
                actor=a,
                data={
                    "name": n,
                    "description": d,
                    "retention_days": r,
                    "verification_required": v,
                    "position": p,
                },
            ),
        )
        for name, desc, days, verify, pos in CLASSES
    }
    demo.departments = {
        name: get_or_create(
            Department,
            {"name__iexact": name},
            lambda n=name, d=desc, e=email: department_create(
                actor=a, data={"name": n, "description": d, "email": e}
            ),
        )
        for name, desc, email in DEPARTMENTS
    }
    demo.statuses = {s.name: s for s in Status.objects.all()}
    demo.summary.tags = len(demo.tags)
