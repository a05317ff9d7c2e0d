"""Writes that slip through: every write operation, for every role that may not make it.

`test_api_roles` checks a hand-written table of the foundation's endpoints. This
file does not trust a list: it reads the API's own OpenAPI schema and the web
URL resolver, so an endpoint added tomorrow is walked tomorrow.

- The API walk sends every POST, PUT, PATCH and DELETE of the schema, with a
  plausible body and the ids of existing rows, as every role the role table
  says may not make it (Read-only everywhere, Staff on the configuration lists,
  Administrators on users and roles, anonymous everywhere). The answer must be
  401, 403, 404 or 405, and a fingerprint of every table (row count, max(pk),
  max and sum of `version`, the latest of every date-time stamp) must be as it
  was. The same request sent by the Owner must succeed and write, so the body
  is known to be one that writes.
- The If-Match walk sends every write on an object with a version, as the
  Owner, with a stale `If-Match`: 412, and nothing changes.
- The web walk POSTs to every URL pattern, path arguments filled with existing
  rows and the body a browser would send from the Owner's form, as the
  Read-only user and anonymously: nothing changes and nothing answers 500.

Each request runs in a savepoint that is rolled back, so one world serves the
whole walk and a write that slips through does not disturb the next request.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from patron.accounts import services as account_services
from patron.accounts.models import ApiToken, LoginFailure, Role, User
from patron.banners.models import BannerRule
from patron.banners.services import banner_rule_create
from patron.billing.models import BillingRun, Invoice, UsageCharge
from patron.billing.runs import add_months
from patron.billing.services import usage_charges_add
from patron.bulk.engine import kind_for
from patron.calls.models import CallLog
from patron.calls.services import call_log_create
from patron.cashback.models import CashbackRun
from patron.catalogue import services as catalogue_services
from patron.catalogue.models import InventoryType, Service, TaxRate
from patron.classes.models import CustomerClass
from patron.core.actor import Actor
from patron.customers import services as customer_services
from patron.customers.models import Contact, Customer
from patron.customfields.models import CustomField
from patron.customfields.services import custom_field_create
from patron.departments.models import Department
from patron.events.models import Event
from patron.groups import services as group_services
from patron.groups.models import Group, GroupSet
from patron.imports.jobs import EXPORT_JOB
from patron.imports.models import CustomerImport
from patron.imports.services import import_upload
from patron.jobs.models import Job
from patron.jobs.services import job_enqueue, job_run
from patron.notes.models import Note
from patron.ops.demo import load_demo
from patron.payments.models import Payment, PaymentMethod
from patron.payments.services import payment_record
from patron.segments import services as segment_services
from patron.segments.models import Segment
from patron.statuses.models import Status
from patron.subscriptions.models import CustomerService
from patron.subscriptions.services import customer_service_add
from patron.tags.models import Tag
from patron.tasks.models import Task
from patron.tickets.models import Ticket
from tests.conftest import token_client
from tests.factories import (
    ContactFactory,
    CustomerClassFactory,
    CustomerFactory,
    DepartmentFactory,
    GroupFactory,
    GroupSetFactory,
    StatusFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("post", "put", "patch", "delete")
REFUSED = {401, 403, 404, 405}
TODAY = datetime.date.today()
IMPORT_CSV = "account_number,name,status\nW100,Walked Import,Active\n"
# A billing date the demo's six months of billing have not reached.
NEXT_BILLING = add_months(TODAY.replace(day=1), 2)


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


# --- The fingerprint ----------------------------------------------------------------

# Columns a request changes by itself, whoever sends it: the token's last use and
# the user's last sign-in. Sessions and failed sign-ins are not data.
IGNORED_COLUMNS = {(ApiToken, "last_used_at"), (User, "last_login")}
IGNORED_MODELS = {Session, LoginFailure}


def _table_summary(model) -> str:
    """SQL for one row about `model`'s table: its row count, max(pk), max and sum of
    `version`, and the latest value of every date-time column (modified, revoked_at,
    finished_at...)."""
    q = connection.ops.quote_name
    opts = model._meta
    parts = ["CAST(COUNT(*) AS TEXT)", f"CAST(MAX({q(opts.pk.column)}) AS TEXT)"]
    for f in opts.concrete_fields:
        if (model, f.name) in IGNORED_COLUMNS:
            continue
        if f.name == "version":
            parts += [f"CAST(MAX({q(f.column)}) AS TEXT)", f"CAST(SUM({q(f.column)}) AS TEXT)"]
        elif isinstance(f, models.DateTimeField):
            parts.append(f"CAST(MAX({q(f.column)}) AS TEXT)")
    summary = " || '|' || ".join(f"COALESCE({part}, '-')" for part in parts)
    return f"SELECT '{opts.label}', {summary} FROM {q(opts.db_table)}"


def fingerprint() -> dict[str, str]:
    """Every table, in one query: row count, max(pk), max(version), sum(version) and
    the latest of each date-time column. A write shows in one of them: a new or
    deleted row, a stepped version, a fresh `modified` or `revoked_at` stamp, and
    the event every service records."""
    tables = [
        m
        for m in apps.get_models(include_auto_created=True)
        if m not in IGNORED_MODELS and not m._meta.proxy
    ]
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(_table_summary(m) for m in tables))
        return dict(cursor.fetchall())


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(
        label for label in before.keys() | after.keys() if before.get(label) != after.get(label)
    )


@dataclass
class Attempt:
    status: int | None
    changed: list[str]
    error: str = ""
    body: str = ""


def attempt(send: Callable, baseline: dict) -> Attempt:
    """Send one request inside a savepoint, compare the database, roll it all back."""
    with transaction.atomic():
        try:
            response = send()
        except Exception as exc:  # the test client re-raises what would be a 500
            transaction.set_rollback(True)
            return Attempt(None, [], error=f"{type(exc).__name__}: {exc}")
        changed = changed_tables(baseline, fingerprint())
        transaction.set_rollback(True)
    content = getattr(response, "content", b"")[:300]
    return Attempt(response.status_code, changed, body=content.decode(errors="replace"))


# --- The world -------------------------------------------------------------------------


@dataclass
class World:
    users: dict
    api: dict
    web: dict
    primary: dict = field(default_factory=dict)  # model -> pk of an object to act on
    spare: dict = field(default_factory=dict)  # model -> pk of an object free to delete
    named: dict = field(default_factory=dict)  # purpose -> pk


def build_world(users) -> World:
    """The demo data (a dozen customers) plus one of everything the walk acts on."""
    load_demo(customers=12)
    owner = users["owner"]
    actor = Actor(user=owner)
    api = {name: token_client(user) for name, user in users.items()}
    api["anon"] = APIClient()
    web = {}
    for name, user in users.items():
        web[name] = Client()
        web[name].force_login(user)
    web["anon"] = Client()
    world = World(users=users, api=api, web=web)

    # A dynamic group (its snapshot writes a row and an event), an archived group.
    interests = GroupSetFactory(name="Walk interests", single_choice=False)
    vips = segment_services.segment_create(
        actor=actor, data={"name": "Walk VIPs", "query": "status:active"}
    )
    dynamic = group_services.group_create(
        actor=actor, data={"name": "Walk club", "group_set": interests, "segment": vips}
    )
    static = group_services.group_create(
        actor=actor, data={"name": "Walk static", "group_set": interests}
    )
    archived_group = group_services.group_create(
        actor=actor, data={"name": "Walk archived", "group_set": interests}
    )
    group_services.group_archive(actor=actor, group=archived_group, archived=True)

    # A customer in a static group with a membership scheduled for later.
    customer = CustomerFactory(name="Walk Customer")
    ContactFactory(customer=customer, name="Walk Contact")
    customer_services.customer_group_add(actor=actor, customer=customer, group=static)
    later = group_services.group_create(
        actor=actor, data={"name": "Walk later", "group_set": interests}
    )
    scheduled = customer_services.customer_group_schedule(
        actor=actor,
        customer=customer,
        group=later,
        valid_from=TODAY + datetime.timedelta(days=10),
    )
    customer.refresh_from_db()
    archived_customer = CustomerFactory(name="Walk Archived")
    customer_services.customer_archive(actor=actor, customer=archived_customer)

    open_ticket = Ticket.objects.exclude(status="closed").order_by("pk").first()
    closed_ticket = Ticket.objects.filter(status="closed").order_by("pk").first()

    # Jobs: a finished bulk action (to undo), a queued export of the Read-only user
    # (their own, to cancel or undo), a checked import.
    tag = Tag.objects.order_by("pk").first()
    bulk = job_run(
        job_enqueue(
            actor=actor, kind=kind_for("add_tag"), params={"ids": [customer.pk], "tag": tag.pk}
        ).pk
    )
    own_export = job_enqueue(
        actor=Actor(user=users["readonly"]),
        kind=EXPORT_JOB,
        params={"format": "csv", "filter": ""},
    )
    queued_job = job_enqueue(actor=actor, kind=EXPORT_JOB, params={"format": "csv", "filter": ""})
    customer_import = import_upload(
        actor=actor, upload=SimpleUploadedFile("walk.csv", IMPORT_CSV.encode())
    )
    job_run(customer_import.check_job_id)

    # A token of the Staff user that only the Owner sees; a role without users.
    staff_token, _ = account_services.token_create(
        actor=actor, user=users["staff"], name="Staff laptop", expires_at=None
    )
    auditors = account_services.role_create(
        actor=actor, data={"name": "Walk auditors", "description": "Read the books"}
    )
    demo_user = User.objects.exclude(pk__in=[u.pk for u in users.values()]).order_by("pk")[0]

    vat = catalogue_services.tax_rate_create(
        actor=actor, data={"name": "Walk VAT", "rate": Decimal("20.00"), "is_default": True}
    )
    broadband = catalogue_services.inventory_type_create(actor=actor, data={"name": "Walk fibre"})
    fibre = catalogue_services.service_create(
        actor=actor,
        data={"code": "WALK500", "name": "Walk 500", "kind": "monthly", "price": Decimal("45")},
    )
    line = customer_service_add(actor=actor, customer=customer, service=fibre)
    usage = usage_charges_add(
        actor=actor,
        rows=[
            {
                "customer": customer.pk,
                "date": NEXT_BILLING.isoformat(),
                "description": "Walk calls",
                "amount": "1.00",
            }
        ],
    ).created[0]
    preview_job = job_enqueue(
        actor=actor, kind="billing.preview", params={"billing_date": NEXT_BILLING.isoformat()}
    )
    cash = PaymentMethod.objects.get(name="Cash")
    payment = payment_record(actor=actor, customer=customer, amount=Decimal("3.00"), method=cash)
    to_reverse = payment_record(actor=actor, customer=customer, amount=Decimal("2.00"), method=cash)
    payers = group_services.group_create(
        actor=actor, data={"name": "Walk payers", "group_set": interests, "payment_group": True}
    )
    customer_services.customer_group_add(actor=actor, customer=CustomerFactory(), group=payers)

    world.primary = {
        TaxRate: vat.pk,
        InventoryType: broadband.pk,
        Service: fibre.pk,
        CustomerService: line.pk,
        BillingRun: BillingRun.objects.order_by("pk").first().pk,
        Invoice: Invoice.objects.filter(kind="invoice").order_by("pk").first().pk,
        UsageCharge: usage.pk,
        Payment: payment.pk,
        PaymentMethod: cash.pk,
        Tag: tag.pk,
        GroupSet: interests.pk,
        Group: dynamic.pk,
        Status: Status.objects.get(name="Active").pk,
        CustomerClass: CustomerClass.objects.order_by("pk").first().pk,
        Department: Department.objects.order_by("pk").first().pk,
        CustomField: CustomField.objects.order_by("pk").first().pk,
        BannerRule: BannerRule.objects.order_by("pk").first().pk,
        Customer: customer.pk,
        Contact: customer.contacts.get().pk,
        CallLog: CallLog.objects.order_by("pk").first().pk,
        Note: Note.objects.order_by("pk").first().pk,
        Task: Task.objects.order_by("pk").first().pk,
        Ticket: open_ticket.pk,
        Segment: vips.pk,
        Role: auditors.pk,
        User: demo_user.pk,
        ApiToken: staff_token.pk,
        CustomerImport: customer_import.pk,
        Job: bulk.pk,
    }
    world.spare = {
        TaxRate: catalogue_services.tax_rate_create(
            actor=actor, data={"name": "Walk spare rate", "rate": Decimal("5.00")}
        ).pk,
        InventoryType: catalogue_services.inventory_type_create(
            actor=actor, data={"name": "Walk spare type"}
        ).pk,
        Service: catalogue_services.service_create(
            actor=actor,
            data={
                "code": "WALKSPARE",
                "name": "Walk spare",
                "kind": "one_off",
                "price": Decimal("1"),
            },
        ).pk,
        Tag: TagFactory(name="Walk spare").pk,
        GroupSet: GroupSetFactory(name="Walk spare set").pk,
        Group: GroupFactory(name="Walk spare group", group_set=interests).pk,
        Status: StatusFactory(name="Walk spare status").pk,
        CustomerClass: CustomerClassFactory(name="Walk spare class").pk,
        Department: DepartmentFactory(name="Walk spare department").pk,
        CustomField: custom_field_create(
            actor=actor, data={"label": "Walk spare field", "field_type": "text"}
        ).pk,
        BannerRule: banner_rule_create(
            actor=actor,
            data={"name": "Walk spare banner", "message": "Walk", "severity": "info", "tag": tag},
        ).pk,
        Contact: ContactFactory(customer=customer, name="Walk spare contact").pk,
        CallLog: call_log_create(
            actor=actor,
            customer=customer,
            data={"direction": "in", "duration": 60, "summary": "Walk", "outcome": "resolved"},
        ).pk,
        Segment: segment_services.segment_create(
            actor=actor, data={"name": "Walk spare segment", "query": "tag:vip"}
        ).pk,
        Role: account_services.role_create(actor=actor, data={"name": "Walk spare role"}).pk,
    }
    world.named = {
        "customer": customer.pk,
        "archived_customer": archived_customer.pk,
        "static_group": static.pk,
        "archived_group": archived_group.pk,
        "scheduled": scheduled.pk,
        "closed_ticket": closed_ticket.pk,
        "own_export": own_export.pk,
        "queued_job": queued_job.pk,
        "tag": tag.pk,
        "customer_tag": customer.tags.get().pk,
        "customer_service": line.pk,
        "service": fibre.pk,
        "preview_job": preview_job.pk,
        "payment_to_reverse": to_reverse.pk,
        "payment_group": payers.pk,
    }
    return world


# --- The API walk ---------------------------------------------------------------------

OWNER_ONLY = {"owner"}
LIST_WRITERS = {"owner", "admin"}
WORK_WRITERS = {"owner", "admin", "staff"}
SIGNED_IN = {"owner", "admin", "staff", "readonly"}


@dataclass
class Resource:
    """An API resource: the model its `{id}` names and the roles the role table lets
    write it (`writers`); `create`, `change` give a plausible body."""

    model: type | None
    writers: set
    create: Callable = lambda world: {}
    change: dict = field(default_factory=dict)


RESOURCES = {
    "tax-rates": Resource(
        TaxRate, LIST_WRITERS, lambda w: {"name": "Walked", "rate": "5.00"}, {"name": "Walk"}
    ),
    "inventory-types": Resource(
        InventoryType, LIST_WRITERS, lambda w: {"name": "Walked"}, {"name": "Walk"}
    ),
    "services": Resource(
        Service,
        LIST_WRITERS,
        lambda w: {"code": "WALKED", "name": "Walked", "kind": "monthly", "price": "9.00"},
        {"name": "Walked"},
    ),
    "billing-runs": Resource(
        BillingRun, LIST_WRITERS, lambda w: {"billing_date": NEXT_BILLING.isoformat()}
    ),
    "invoices": Resource(Invoice, LIST_WRITERS),
    # Cashback runs and their undo: Owners and Administrators ("Can run cashback").
    "cashback": Resource(CashbackRun, LIST_WRITERS),
    "payments": Resource(
        Payment,
        LIST_WRITERS,
        lambda w: {"customer": w.named["customer"], "amount": "1.00", "method": "Cash"},
    ),
    "usage-charges": Resource(
        UsageCharge,
        LIST_WRITERS,
        lambda w: {
            "customer": w.named["customer"],
            "date": NEXT_BILLING.isoformat(),
            "description": "Walked calls",
            "amount": "2.00",
        },
    ),
    "tags": Resource(Tag, LIST_WRITERS, lambda w: {"name": "Walked"}, {"description": "W"}),
    "group-sets": Resource(
        GroupSet, LIST_WRITERS, lambda w: {"name": "Walked set"}, {"description": "W"}
    ),
    "groups": Resource(
        Group,
        LIST_WRITERS,
        lambda w: {"name": "Walked group", "group_set": w.primary[GroupSet]},
        {"description": "W"},
    ),
    "statuses": Resource(Status, LIST_WRITERS, lambda w: {"name": "Walked"}, {"short_name": "WK"}),
    "classes": Resource(
        CustomerClass,
        LIST_WRITERS,
        lambda w: {"name": "Walked", "retention_days": 30},
        {"retention_days": 91},
    ),
    "departments": Resource(
        Department,
        LIST_WRITERS,
        lambda w: {"name": "Walked", "email": "walked@example.com"},
        {"description": "W"},
    ),
    "custom-fields": Resource(
        CustomField,
        LIST_WRITERS,
        lambda w: {"label": "Walked", "field_type": "text"},
        {"help_text": "W"},
    ),
    "banners": Resource(
        BannerRule,
        LIST_WRITERS,
        lambda w: {"name": "Walked", "message": "W", "severity": "info", "tag": w.named["tag"]},
        {"message": "Walked"},
    ),
    "customers": Resource(
        Customer,
        WORK_WRITERS,
        lambda w: {"name": "Walked", "kind": "company", "status": w.primary[Status]},
        {"name": "Walked"},
    ),
    "contacts": Resource(
        Contact,
        WORK_WRITERS,
        lambda w: {"customer": w.named["customer"], "name": "Walked", "phone": "+447911123456"},
        {"title": "Director"},
    ),
    "notes": Resource(
        Note,
        WORK_WRITERS,
        lambda w: {"customer": w.named["customer"], "body": "Walked"},
        {"body": "Walked"},
    ),
    "tasks": Resource(
        Task,
        WORK_WRITERS,
        lambda w: {
            "customer": w.named["customer"],
            "title": "Walked",
            "department": w.primary[Department],
        },
        {"title": "Walked"},
    ),
    "tickets": Resource(
        Ticket,
        WORK_WRITERS,
        lambda w: {
            "customer": w.named["customer"],
            "subject": "Walked",
            "department": w.primary[Department],
        },
        {"subject": "Walked"},
    ),
    "calls": Resource(
        CallLog,
        WORK_WRITERS,
        lambda w: {
            "customer": w.named["customer"],
            "direction": "in",
            "duration": 30,
            "summary": "Walked",
            "outcome": "resolved",
        },
        {"summary": "Walked"},
    ),
    "segments": Resource(
        Segment, WORK_WRITERS, lambda w: {"name": "Walked", "query": "tag:vip"}, {"name": "Walk"}
    ),
    "jobs": Resource(Job, WORK_WRITERS),
    "imports": Resource(CustomerImport, WORK_WRITERS),
    "phone-lists": Resource(None, WORK_WRITERS),
    "users": Resource(
        User,
        OWNER_ONLY,
        lambda w: {
            "username": "walked",
            "password": "a-Long-and-unusual-passphrase-9",
            "role": Role.objects.get(name=Role.STAFF).pk,
        },
        {"first_name": "Walked"},
    ),
    "roles": Resource(
        Role,
        OWNER_ONLY,
        lambda w: {"name": "Walked", "permissions": ["customers.view_customer"]},
        {"description": "Walked"},
    ),
    # Everyone manages their own tokens and may export what they can see.
    "tokens": Resource(ApiToken, SIGNED_IN, lambda w: {"name": "Walked"}),
    "exports": Resource(Job, SIGNED_IN, lambda w: {"format": "csv"}),
    "events": Resource(Event, set()),
}

# Operations that only read, though sent by POST: nobody changes anything with them.
READS = {"segments_validate_create", "jobs_bulk_preview_create", "phone_lists_preview_create"}
READS |= {"groups_cashback_preview"}
CASHBACK = {"mode": "relative", "amount": "1.00", "comment": "Walked"}

# Bodies and path ids an operation needs beyond its resource's defaults.
BODIES = {
    "customers_ledger_create": lambda w: {"amount": "5.00", "reason": "Walked"},
    "invoices_credit_create": lambda w: {"reason": "Walked"},
    "payments_refund_create": lambda w: {"amount": "0.01", "reason": "Walked"},
    "payments_reverse_create": lambda w: {"reason": "Walked"},
    "groups_payments_create": lambda w: {"amount": "1.00", "method": "Cash"},
    "groups_cashback_create": lambda w: dict(CASHBACK),
    "groups_cashback_preview": lambda w: dict(CASHBACK),
    "customers_cashback_create": lambda w: dict(CASHBACK),
    # A run of the demo's Summer promo.
    "cashback_undo_create": lambda w: {
        "run": CashbackRun.objects.filter(undo_of=None, customer=None).order_by("pk")[0].pk
    },
    "customers_services_create": lambda w: {"service": w.named["service"]},
    "customers_services_update": lambda w: {"service": w.named["service"], "quantity": 2},
    "customers_services_partial_update": lambda w: {"quantity": 3},
    "custom_fields_customer_update": lambda w: {"values": {"router": "Patron Hub 3"}},
    "custom_fields_customer_partial_update": lambda w: {"values": {"router": "Patron Hub 3"}},
    "customers_archive_create": lambda w: {"reason": "Walked"},
    "customers_restore_create": lambda w: {"reason": "Walked"},
    "customers_status_create": lambda w: {
        "status": Status.objects.get(name="Suspended").pk,
        "reason": "Walked",
    },
    "customers_memberships_create": lambda w: {"group": w.spare[Group]},
    "customers_memberships_partial_update": lambda w: {
        "valid_until": (TODAY + datetime.timedelta(days=30)).isoformat()
    },
    "imports_create": lambda w: {"file": SimpleUploadedFile("walk.csv", IMPORT_CSV.encode())},
    "jobs_bulk_create": lambda w: {
        "action": "add_tag",
        "ids": [w.named["customer"]],
        "tag": w.named["tag"],
    },
    "jobs_bulk_preview_create": lambda w: {
        "action": "add_tag",
        "ids": [w.named["customer"]],
        "tag": w.named["tag"],
    },
    "jobs_bulk_tag_create": lambda w: {"customers": [w.named["customer"]], "tag": w.spare[Tag]},
    "phone_lists_apply_create": lambda w: {
        "group": w.spare[Group],
        "numbers": "+44 113 496 0000\n",
    },
    "phone_lists_preview_create": lambda w: {
        "group": w.named["static_group"],
        "numbers": "+44 113 496 0000\n",
    },
    "segments_validate_create": lambda w: {"query": "tag:vip"},
    "tickets_comments_create": lambda w: {"body": "Walked"},
    "users_password_create": lambda w: {"password": "another-Long-passphrase-77"},
}
MULTIPART = {"imports_create"}
PATH_IDS = {
    "payments_reverse_create": lambda w: {"id": w.named["payment_to_reverse"]},
    "groups_payments_create": lambda w: {"group_id": w.named["payment_group"]},
    "customers_services_update": lambda w: {"id": w.named["customer_service"]},
    "customers_services_partial_update": lambda w: {"id": w.named["customer_service"]},
    "customers_services_end_create": lambda w: {"id": w.named["customer_service"]},
    "customers_services_destroy": lambda w: {"id": w.named["customer_service"]},
    "customers_restore_create": lambda w: {"id": w.named["archived_customer"]},
    "groups_restore_create": lambda w: {"id": w.named["archived_group"]},
    "tickets_reopen_create": lambda w: {"id": w.named["closed_ticket"]},
    "jobs_cancel_create": lambda w: {"id": w.named["queued_job"]},
}
# Who may make an operation, where it differs from its resource: a customer's
# custom values are work on the customer, not the configuration list.
OPERATION_WRITERS = {
    # Manual ledger adjustments need the adjust permission: Owners and Administrators.
    "customers_ledger_create": LIST_WRITERS,
    "customers_cashback_create": LIST_WRITERS,
    "custom_fields_customer_update": WORK_WRITERS,
    "custom_fields_customer_partial_update": WORK_WRITERS,
}
# Everyone cancels the jobs they started.
OWN_ALLOWED = {"jobs_cancel_create"}


@dataclass
class Operation:
    method: str
    path: str
    operation_id: str
    resource: str

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path} ({self.operation_id})"


def schema_operations(owner_client) -> list[Operation]:
    response = owner_client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    operations = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            if method in WRITE_METHODS:
                resource = path.removeprefix("/api/").split("/")[0]
                operations.append(Operation(method, path, operation["operationId"], resource))
    return operations


def path_ids(world: World, op: Operation, *, own: bool = False) -> dict:
    """Existing rows for the path's `{...}` names: the object to act on, a spare one
    to delete, the customer's group or scheduled membership for nested paths."""
    resource = RESOURCES[op.resource]
    ids = {}
    for name in re.findall(r"{(\w+)}", op.path):
        if name == "id":
            pool = world.spare if op.method == "delete" else world.primary
            ids[name] = pool.get(resource.model) or world.primary[resource.model]
        elif name == "customer_pk":
            ids[name] = world.named["customer"]
        elif name == "group_id":
            ids[name] = world.named["static_group"]
        elif name == "scheduled_id":
            ids[name] = world.named["scheduled"]
        else:
            raise AssertionError(f"{op.label}: no rule fills the path argument {{{name}}}")
    if op.operation_id in PATH_IDS:
        ids.update(PATH_IDS[op.operation_id](world))
    if own and op.resource == "jobs" and "id" in ids:
        ids["id"] = world.named["own_export"]
    return ids


def body_for(world: World, op: Operation, ids: dict):
    if op.operation_id in BODIES:
        return BODIES[op.operation_id](world)
    resource = RESOURCES[op.resource]
    if op.method == "post" and "{" not in op.path:
        return resource.create(world)
    if op.method == "patch":
        return dict(resource.change)
    if op.method == "put":
        current = world.api["owner"].get(op.path.format(**ids)).json()
        return {**current, **resource.change}
    return None


def send(world: World, role: str, op: Operation, ids: dict, body, headers=None) -> Callable:
    client = world.api[role]
    url = op.path.format(**ids)
    fmt = "multipart" if op.operation_id in MULTIPART else "json"

    def go():
        if body is None:
            return getattr(client, op.method)(url, headers=headers)
        return getattr(client, op.method)(url, body, format=fmt, headers=headers)

    return go


def refused_roles(op: Operation) -> list[str]:
    if op.operation_id in READS:
        return ["admin", "staff", "readonly", "anon"]
    writers = OPERATION_WRITERS.get(op.operation_id, RESOURCES[op.resource].writers)
    return [role for role in ("admin", "staff", "readonly", "anon") if role not in writers]


def test_no_role_writes_through_the_api_where_the_role_table_says_it_may_not(users):
    """Once caught: the Read-only user's POST /api/groups/<id>/snapshot/ wrote a
    snapshot row and an event."""
    world = build_world(users)
    operations = schema_operations(world.api["owner"])
    unknown = sorted({op.resource for op in operations} - RESOURCES.keys())
    assert not unknown, f"Add these API resources to RESOURCES: {unknown}"
    assert len(operations) > 80  # the schema really was read

    baseline = fingerprint()
    faults, walked = [], 0
    for op in operations:
        ids = path_ids(world, op)
        body = body_for(world, op, ids)
        # The Owner's request must succeed, so the body is one that writes.
        done = attempt(send(world, "owner", op, ids, body), baseline)
        if done.error or done.status is None or done.status >= 300 and done.status != 405:
            faults.append(f"owner {op.label}: {done.status} {done.error or done.body}")
        elif op.operation_id in READS and done.changed:
            faults.append(f"owner {op.label}: a read changed {done.changed}")
        elif op.operation_id not in READS and done.status != 405 and not done.changed:
            faults.append(f"owner {op.label}: {done.status} but nothing was written")
        for role in refused_roles(op):
            tries = [ids]
            if role == "readonly" and op.resource == "jobs" and op.operation_id not in OWN_ALLOWED:
                tries.append(path_ids(world, op, own=True))  # a job of their own
            for try_ids in tries:
                walked += 1
                body = body_for(world, op, try_ids)
                got = attempt(send(world, role, op, try_ids, body), baseline)
                refused = got.status in REFUSED or (
                    op.operation_id in READS and got.status is not None and got.status < 500
                )
                if got.error or not refused:
                    faults.append(f"{role} {op.label}: {got.status} {got.error or got.body}")
                if got.changed:
                    faults.append(f"{role} {op.label} changed {got.changed}")
    assert fingerprint() == baseline
    assert walked > 200
    assert not faults, "\n".join(faults)


# --- The If-Match walk -------------------------------------------------------------------


# Appending a ledger entry or adding a service line leaves the customer row as it was:
# there is no customer version for them to match (a service line has its own).
NOT_A_CUSTOMER_WRITE = {"customers_ledger_create", "customers_services_create"}
NOT_A_CUSTOMER_WRITE |= {"customers_cashback_create"}


def versioned_object(world: World, op: Operation, ids: dict):
    """The object whose ETag the operation's `If-Match` names, or None (a collection,
    or a model without a version: jobs, tokens, imports)."""
    if op.operation_id in NOT_A_CUSTOMER_WRITE:
        return None
    if op.operation_id.startswith("customers_services_") and "id" in ids:
        return CustomerService.objects.get(pk=ids["id"])
    if "customer_pk" in ids:
        return Customer.objects.get(pk=ids["customer_pk"])
    model = RESOURCES[op.resource].model
    if "id" not in ids or model is None or not hasattr(model, "version"):
        return None
    return model._default_manager.get(pk=ids["id"])


def test_every_write_on_an_object_refuses_a_stale_if_match(users):
    """PATCH refused a stale `If-Match` with 412; archiving, memberships, comments and
    the other actions on an object must too, and change nothing."""
    world = build_world(users)
    baseline = fingerprint()
    faults, walked = [], 0
    for op in schema_operations(world.api["owner"]):
        if op.operation_id in READS:
            continue
        ids = path_ids(world, op)
        obj = versioned_object(world, op, ids)
        if obj is None:
            continue
        walked += 1
        body = body_for(world, op, ids)
        stale = f'"{obj.pk}-{obj.version - 1}", W/"{obj.pk}-0"'
        got = attempt(send(world, "owner", op, ids, body, {"If-Match": stale}), baseline)
        if got.status not in {412, 405} or got.changed:
            faults.append(f"{op.label} with a stale If-Match: {got.status} {got.error or got.body}")
            if got.changed:
                faults.append(f"{op.label} with a stale If-Match changed {got.changed}")
        fresh = attempt(send(world, "owner", op, ids, body, {"If-Match": obj.etag}), baseline)
        if fresh.status is None or fresh.status >= 300 and fresh.status != 405:
            faults.append(f"{op.label} with the current ETag: {fresh.status} {fresh.error}")
    assert walked > 50
    assert not faults, "\n".join(faults)


# --- The web walk --------------------------------------------------------------------------

# What `<int:pk>` names, by the route it is in (first match wins) or else its app.
PK_BY_ROUTE = [
    (r"^config/catalogue/tax-rates/", TaxRate),
    (r"^config/catalogue/inventory-types/", InventoryType),
    (r"customer/<int:pk>", Customer),
    (r"^accounts/users/", User),
    (r"^accounts/roles/", Role),
    (r"^accounts/tokens/", ApiToken),
    (r"^config/groups/sets/", GroupSet),
    (r"^imports/export/", Job),
    (r"^tickets/queue/", Department),
    (r"^billing/preview/", Job),
    (r"^billing/runs/", BillingRun),
    (r"^payments/groups/", Group),
    (r"^payments/methods/", PaymentMethod),
]
PK_BY_APP = {
    "catalogue": Service,
    "subscriptions": CustomerService,
    "billing": Invoice,
    "payments": Payment,
    "cashback": Job,  # cashback/job/<pk>/undo/
    "banners": BannerRule,
    "calls": CallLog,
    "classes": CustomerClass,
    "customers": Customer,
    "customfields": CustomField,
    "departments": Department,
    "groups": Group,
    "imports": CustomerImport,
    "jobs": Job,
    "notes": Note,
    "segments": Segment,
    "statuses": Status,
    "tags": Tag,
    "tasks": Task,
    "tickets": Ticket,
}
OTHER_ARGS = {"customer_pk": Customer, "contact_pk": Contact}
# Bodies of the card buttons and forms the Owner's pages do not show as plain forms.
WEB_BODIES = {
    "customers:tag_remove": lambda w: {"tag": w.named["customer_tag"]},
    "customers:group_remove": lambda w: {"group": w.named["static_group"]},
    "customers:group_schedule_cancel": lambda w: {"scheduled": w.named["scheduled"]},
    "customers:status_change": lambda w: {
        "status": Status.objects.get(name="Suspended").pk,
        "reason": "Walked",
    },
    "customers:notes": lambda w: {"notes": "Walked"},
    "jobs:bulk_tag": lambda w: {"ids": [w.named["customer"]], "tag": w.spare[Tag]},
}
WEB_IDS = {
    "tickets:reopen": "closed_ticket",
    "jobs:cancel": "queued_job",
    "billing:preview": "preview_job",
    "billing:preview_progress": "preview_job",
}
# Pages a Read-only user may write through: signing in and out, their own tokens, an
# export of what they see.
WEB_ALLOWED = {"accounts:login", "accounts:logout", "accounts:token_add", "imports:export"}


@dataclass
class WebRoute:
    name: str
    route: str  # e.g. "customers/<int:pk>/archive/"
    view: Callable

    def accepts_post(self) -> bool:
        view_class = getattr(self.view, "view_class", None)
        if view_class is None:
            return True  # a function view: ask it
        return hasattr(view_class, "post") and "post" in view_class.http_method_names


def web_routes() -> list[WebRoute]:
    """Every named pattern of the web URL resolver (the API has its own walk)."""
    found = []

    def walk(patterns, prefix, namespace):
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if isinstance(entry, URLResolver):
                if route.startswith("api/"):
                    continue
                walk(entry.url_patterns, route, entry.namespace or namespace)
            elif isinstance(entry, URLPattern) and entry.name:
                name = f"{namespace}:{entry.name}" if namespace else entry.name
                found.append(WebRoute(name, route, entry.callback))

    walk(get_resolver().url_patterns, "", None)
    return found


def web_url(world: World, route: WebRoute) -> str:
    """The route with its arguments filled by existing rows (a spare one to delete)."""

    def fill(match):
        name = match.group(1)
        if name in OTHER_ARGS:
            model = OTHER_ARGS[name]
        else:
            model = next(
                (m for pattern, m in PK_BY_ROUTE if re.search(pattern, route.route)),
                PK_BY_APP.get(route.name.split(":")[0]),
            )
            assert model is not None, f"{route.name}: what does <{name}> name?"
        if route.name in WEB_IDS:
            return str(world.named[WEB_IDS[route.name]])
        pool = world.spare if route.name.endswith("delete") else world.primary
        return str(pool.get(model) or world.primary[model])

    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", fill, route.route)


class FormReader(HTMLParser):
    """The forms of a page that POST, as a browser would send them unchanged (an
    empty required field gets a plausible value, a select its first real choice)."""

    def __init__(self, page_url: str):
        super().__init__()
        self.page_url = page_url
        self.forms: dict[str, dict] = {}
        self.current = None
        self.select = None
        self.textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            if (a.get("method") or "get").lower() == "post":
                action = (a.get("action") or self.page_url).split("?")[0]
                self.current = self.forms.setdefault(action, {})
            return
        if tag == "option" and self.select is not None:
            value = a.get("value", "")
            if "selected" in a:
                self.select[2].append(value)
            if value:
                self.select[3].append(value)
            return
        if self.current is None or not a.get("name"):
            return
        name, kind = a["name"], (a.get("type") or "text").lower()
        if tag == "input":
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    self.current.setdefault(name, []).append(a.get("value", "on"))
                elif kind == "radio" and "required" in a and name not in self.current:
                    self.current[name] = [a.get("value", "on")]
            elif kind == "submit":
                self.current.setdefault(name, [a.get("value", "")])
            elif kind == "file":
                return
            else:
                value = a.get("value", "")
                if not value and "required" in a:
                    value = PLAUSIBLE.get(kind, "Walked")
                self.current.setdefault(name, []).append(value)
        elif tag == "select":
            self.select = (name, "multiple" in a, [], [])  # name, multiple, selected, choices
        elif tag == "textarea":
            self.textarea = [name, "", "required" in a]
        elif tag == "button" and kind == "submit":
            self.current.setdefault(name, [a.get("value", "")])

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select" and self.select is not None:
            name, multiple, selected, choices = self.select
            if self.current is not None:
                chosen = selected or ([] if multiple else choices[:1])
                self.current.setdefault(name, []).extend(chosen)
            self.select = None
        elif tag == "textarea" and self.textarea is not None:
            name, text, required = self.textarea
            if self.current is not None:
                self.current.setdefault(name, []).append(text.strip() or ("Walked" * required))
            self.textarea = None


PLAUSIBLE = {
    "email": "walked@example.com",
    "number": "1",
    "date": (TODAY + datetime.timedelta(days=30)).isoformat(),
    "datetime-local": f"{(TODAY + datetime.timedelta(days=30)).isoformat()}T10:00",
    "tel": "+447911123456",
    "url": "https://example.com/",
    "password": "a-Long-and-unusual-passphrase-9",
}


# An edit form sent back unchanged writes nothing; the walk changes one text field.
EDITABLE = ("description", "summary", "body", "message", "title", "subject", "name", "label")


def edited(data: dict) -> dict:
    for key in EDITABLE:
        field_name = next((k for k in data if k.split("-")[-1] == key), None)
        if field_name and data[field_name] and isinstance(data[field_name][0], str):
            return {**data, field_name: [f"{data[field_name][0]} walked".strip()]}
    return data


def harvest_forms(client, urls) -> dict[str, dict]:
    """The POST forms on every page the Owner can open, by the URL they post to."""
    forms: dict[str, dict] = {}
    for url in urls:
        response = client.get(url)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        reader = FormReader(url)
        reader.feed(response.content.decode(errors="replace"))
        for action, data in reader.forms.items():
            forms.setdefault(action, edited(data))
    return forms


def web_post(client, url, data) -> Callable:
    """POST as the client's user; a logout or a new session in the rolled-back
    request must not sign the client out for the next one."""
    cookie = settings.SESSION_COOKIE_NAME
    saved = client.cookies[cookie].value if cookie in client.cookies else None

    def go():
        try:
            return client.post(url, data)
        finally:
            if saved is not None:
                client.cookies[cookie] = saved

    return go


def test_no_web_post_writes_as_the_read_only_user(users):
    """Every URL pattern that takes POST, with the Owner's form: the Read-only user
    and an anonymous visitor change nothing and never meet a 500."""
    world = build_world(users)
    routes = [r for r in web_routes() if r.accepts_post()]
    assert len(routes) > 60  # the resolver really was read
    urls = {r.name: web_url(world, r) for r in routes}
    everything = [web_url(world, r) for r in web_routes()]
    forms = harvest_forms(world.web["owner"], everything)

    baseline = fingerprint()
    faults, owner_wrote = [], []
    for route in routes:
        url = urls[route.name]
        data = WEB_BODIES[route.name](world) if route.name in WEB_BODIES else forms.get(url, {})
        done = attempt(web_post(world.web["owner"], url, data), baseline)
        if done.changed:
            owner_wrote.append(route.name)
        for role in ("readonly", "anon"):
            got = attempt(web_post(world.web[role], url, data), baseline)
            if got.error or got.status is None or got.status >= 500:
                faults.append(f"{role} POST {url} ({route.name}): {got.status} {got.error}")
            if got.changed and route.name not in WEB_ALLOWED:
                faults.append(f"{role} POST {url} ({route.name}) changed {got.changed}")
    print(f"{len(routes)} web routes take POST; the Owner's form wrote through {owner_wrote}")
    # The bodies are real: the same POSTs by the Owner write through most routes.
    assert len(owner_wrote) >= 55, owner_wrote
    assert fingerprint() == baseline
    assert not faults, "\n".join(faults)
