"""The demo provider's billing: a catalogue, customer services, six months of invoices.

- **Catalogue**: tax rates (UK VAT standard 20 % as the default, Reduced 5 %,
  Zero 0 %), inventory types (Broadband, Voice, Equipment, Installation) and
  six services: Fibre 500 (£45.00 a month), Fibre 100 (£30.00 a month),
  Business Static IP (£10.00 a month, only for the "Business" customer
  group), Router and Installation (one-off, £60.00 and £50.00) and UK calls
  (usage, £0.05 a minute).
- **Services**: every customer who is neither CRM-only nor archived has one
  to three monthly services (a broadband plan; a second line for some; a
  static IP for Business customers tagged "Static IP"; resellers buy lines in
  quantity), all started before the first billing run; some have a router
  or an installation bought during the six months. They are written
  set-based (one insert, one event per service on its customer, as
  `customer_service_add` records it), which keeps the demo quick.
- **Usage**: a tenth of them make calls, added each month through
  `usage_charges_add` (one call for all, with a reference per month).
- **Billing history**: the real billing run (`billing_run`) for each of the
  last six billing dates (day `PATRON_BILLING_DAY`), oldest first, so the
  invoices, their lines, the gapless numbers and the ledger entries are
  exactly what Patron writes.
- **Payments**: after each run most invoices are paid (Direct debit, bank
  transfer, card) some days after they were issued, through the real
  `payment_record` (allocated oldest first, posted to the ledger): a few
  customers stop paying (arrears), a few pay short (part-paid invoices) and a
  few pay too much (credit, which the next billing run applies to their next
  invoice), and a payment not yet due by today is not made. The members of the
  payment group ("Leeds Housing Trust") do not pay themselves: the group pays
  for them with one group payment per month, allocated across the members'
  invoices; the latest one pays only half (part-paid invoices on its statement).

It runs after the customers (and their "customer since" dates) and before
their lifecycle, so the accounts suspended or ceased by `lifecycle.py` were
billed while they were active. Its random choices come from a generator of
its own (seeded from the demo's seed), so the rest of the demo book stays
what it was. Loaded again with `--force`, the catalogue is reused and the
new customers get their services, but the months already billed are not
billed again (a billing run never bills a date twice).
"""

from __future__ import annotations

import datetime
import random
from decimal import Decimal

from django.conf import settings

from patron.billing.models import BillingRun, Invoice
from patron.billing.runs import add_months, billing_run, default_billing_day
from patron.billing.services import usage_charges_add
from patron.catalogue.models import InventoryType, Service, TaxRate
from patron.catalogue.services import inventory_type_create, service_create, tax_rate_create
from patron.core import audit
from patron.core.services import audited_fields
from patron.customers.models import GroupMembership
from patron.ops.demo.base import get_or_create
from patron.payments.defaults import ensure_default_payment_methods
from patron.payments.models import PaymentMethod
from patron.payments.services import payment_record
from patron.statuses.models import Status
from patron.subscriptions.models import CustomerService

MONTHS = 6

TAX_RATES = [
    ("UK VAT standard", "20.00", True, 10),
    ("Reduced", "5.00", False, 20),
    ("Zero", "0.00", False, 30),
]
INVENTORY_TYPES = [
    ("Broadband", "Internet access lines.", 10),
    ("Voice", "Telephone lines and calls.", 20),
    ("Equipment", "Routers and other hardware.", 30),
    ("Installation", "Engineer visits and set-up.", 40),
]
# code, name, kind, price, inventory type, unit, restricted to the Business group
SERVICES = [
    ("FIBRE500", "Fibre 500", "monthly", "45.00", "Broadband", "", False),
    ("FIBRE100", "Fibre 100", "monthly", "30.00", "Broadband", "", False),
    ("STATICIP", "Business Static IP", "monthly", "10.00", "Broadband", "", True),
    ("ROUTER", "Router", "one_off", "60.00", "Equipment", "", False),
    ("INSTALL", "Installation", "one_off", "50.00", "Installation", "", False),
    ("UKCALLS", "UK calls", "usage", "0.05", "Voice", "minute", False),
]
PAYMENT_METHODS = [
    ("Direct debit", 10),
    ("Bank transfer", 3),
    ("Card", 2),
]


def billing_dates(today: datetime.date, count: int = MONTHS) -> list[datetime.date]:
    """The last `count` billing dates up to today, oldest first."""
    day = default_billing_day()
    latest = today.replace(day=day)
    if latest > today:
        latest = add_months(latest, -1)
    return [add_months(latest, -months) for months in range(count - 1, -1, -1)]


def make_billing(demo, made: list) -> None:
    rng = random.Random(demo.seed + 1)
    catalogue = make_catalogue(demo)
    dates = billing_dates(demo.today)
    billed = BillingRun.objects.filter(billing_date__in=dates).exists()
    crm_only = set(Status.objects.filter(crm_only=True).values_list("pk", flat=True))
    billable = [c for c in made if not c.archived and c.status_id not in crm_only]
    make_services(demo, rng, catalogue, billable, dates)
    if billed:
        # Loaded again (--force): those months are billed; the new services are billed
        # from the next run on.
        return
    payers = {c.pk: payer(rng) for c in billable}
    ensure_default_payment_methods()
    group = getattr(demo, "payment_group", None)
    if group is not None:
        for customer_id in GroupMembership.objects.filter(group=group).values_list(
            "customer_id", flat=True
        ):
            payers[customer_id] = ("group", 0)
    make_usage(demo, rng, catalogue, billable, dates)
    invoices = 0
    for index, billing_date in enumerate(dates):
        run, _summary = billing_run(actor=demo.actor, billing_date=billing_date)
        invoices += run.invoice_count
        pay(demo, rng, billing_date, index, payers)
        if group is not None:
            pay_for_group(demo, group, billing_date, last=index == len(dates) - 1)
    demo.summary.billing = (
        f"Billed {len(dates)} months ({dates[0]:%b %Y} to {dates[-1]:%b %Y}): "
        f"{invoices} invoices, most of them paid."
    )


def make_catalogue(demo) -> dict[str, Service]:
    a = demo.actor
    for name, rate, default, position in TAX_RATES:
        get_or_create(
            TaxRate,
            {"name__iexact": name},
            lambda name=name, rate=rate, default=default, position=position: tax_rate_create(
                actor=a,
                data={
                    "name": name,
                    "rate": Decimal(rate),
                    "is_default": default,
                    "position": position,
                },
            ),
        )
    types = {}
    for name, description, position in INVENTORY_TYPES:
        types[name] = get_or_create(
            InventoryType,
            {"name__iexact": name},
            lambda name=name, description=description, position=position: inventory_type_create(
                actor=a, data={"name": name, "description": description, "position": position}
            ),
        )
    business = demo.customer_groups.get("Business")
    catalogue = {}
    for code, name, kind, price, inventory, unit, restricted in SERVICES:
        data = {
            "code": code,
            "name": name,
            "kind": kind,
            "price": Decimal(price),
            "unit": unit,
            "inventory_type": types[inventory],
            "allowed_groups": [business] if restricted and business is not None else [],
        }
        catalogue[code] = get_or_create(
            Service,
            {"code__iexact": code},
            lambda data=data: service_create(actor=a, data=data),
        )
    return catalogue


def make_services(demo, rng, catalogue: dict, customers: list, dates: list) -> None:
    """One to three monthly services each, started before the first run; a few one-offs."""
    first = dates[0]
    business = demo.customer_groups.get("Business")
    business_ids = set(business.customers.values_list("pk", flat=True)) if business else set()
    static_ip = demo.tags.get("Static IP")
    static_ids = set(static_ip.customers.values_list("pk", flat=True)) if static_ip else set()
    wholesale = demo.customer_groups.get("Wholesale")
    wholesale_ids = set(wholesale.customers.values_list("pk", flat=True)) if wholesale else set()

    items: list[tuple] = []

    def add(customer, code, start, **data):
        items.append((customer, catalogue[code], {"start_date": start, **data}))

    for customer in customers:
        since = customer.created.date()
        start = min(since, first - datetime.timedelta(days=rng.randrange(1, 29)))
        company = customer.kind == "company"
        if customer.pk in wholesale_ids:
            add(customer, "FIBRE100", start, quantity=rng.randrange(5, 21))
        else:
            plan = "FIBRE500" if rng.random() < (0.6 if company else 0.35) else "FIBRE100"
            add(customer, plan, start)
            if rng.random() < (0.3 if company else 0.06):
                add(customer, "FIBRE100", start, note="Second line")
        if customer.pk in business_ids and customer.pk in static_ids:
            add(customer, "STATICIP", start, quantity=rng.choice([1, 1, 1, 2, 4]))
        # One-off items bought during the six months (billed by the next run).
        if rng.random() < 0.12:
            bought = first + datetime.timedelta(days=rng.randrange(0, (demo.today - first).days))
            add(customer, "ROUTER", bought, note="Replacement router")
        if rng.random() < 0.08:
            visit = first + datetime.timedelta(days=rng.randrange(0, (demo.today - first).days))
            add(customer, "INSTALL", visit, note="Engineer visit: internal wiring")
    services_add(demo, items)


def services_add(demo, items: list[tuple]) -> None:
    """What `customer_service_add` writes for each (customer, service, data), set-based:
    the rows in one bulk insert and an event per service on its customer, as the
    service function records it. The allowed-groups rule is checked the same way
    (`Service.allowed_for`), so a restricted service goes only to its groups."""
    restricted = set(
        Service.allowed_groups.through.objects.values_list("service_id", flat=True).distinct()
    )
    rows = []
    for customer, service, data in items:
        if service.pk in restricted and not service.allowed_for(customer):
            raise ValueError(f"The demo gave {service} to {customer}, outside its groups.")
        row = CustomerService(customer=customer, service=service, **data)
        row.clean()
        rows.append(row)
    CustomerService.objects.bulk_create(rows, batch_size=500)
    fields = audited_fields(CustomerService)
    events = []
    for row in rows:
        after = audit.snapshot(row, fields)
        events.append(
            audit.build(
                actor=demo.actor,
                action="created",
                obj=row,
                customer=row.customer,
                changes={k: [None, v] for k, v in after.items() if v not in (None, "", [], False)},
                message=f"Added service {row}",
            )
        )
    audit.record_many(events)


def make_usage(demo, rng, catalogue: dict, customers: list, dates: list) -> None:
    """Calls for a tenth of the customers, one usage charge a month, in one request."""
    callers = customers[::10]
    rows = []
    periods = list(zip(dates, [*dates[1:], None], strict=True))
    for customer in callers:
        for period_start, next_start in periods:
            # The last month is not billed yet: its calls so far wait for the next run.
            until = (next_start or demo.today) - datetime.timedelta(days=1)
            if until < period_start:
                continue
            minutes = rng.randrange(20, 900)
            rows.append(
                {
                    "customer": customer.pk,
                    "service": catalogue["UKCALLS"].code,
                    "date": until,
                    "description": f"UK calls, {period_start:%B %Y}",
                    "quantity": minutes,
                    "amount": str(catalogue["UKCALLS"].price * minutes),
                    "reference": f"demo-calls-{period_start:%Y-%m}",
                }
            )
    if rows:
        usage_charges_add(actor=demo.actor, rows=rows)


def payer(rng) -> tuple[str, int]:
    """How a customer pays: (habit, the run from which a late payer stops paying)."""
    roll = rng.random()
    if roll < 0.10:
        return "stops", rng.randrange(2, MONTHS)
    if roll < 0.15:
        return "short", 0
    if roll < 0.18:
        return "over", 0
    return "prompt", 0


def pay(demo, rng, billing_date: datetime.date, run_index: int, payers: dict) -> None:
    """Pay this run's invoices as each customer's habit says, up to today, through
    `payment_record` (oldest open invoice first, the rest held as credit)."""
    invoices = list(
        Invoice.objects.filter(run__billing_date=billing_date)
        .order_by("customer_id")
        .only("id", "customer_id", "gross", "number", "issue_date")
        .select_related("customer")
    )
    methods = {m.name: m for m in PaymentMethod.objects.all()}
    names = [m for m, _ in PAYMENT_METHODS]
    weights = [w for _, w in PAYMENT_METHODS]
    terms = int(getattr(settings, "PATRON_PAYMENT_TERMS_DAYS", 14))
    for invoice in invoices:
        habit, stop = payers.get(invoice.customer_id, ("prompt", 0))
        method = methods[rng.choices(names, weights)[0]]
        # Some pay late: up to three weeks after the due date.
        late = rng.random() < 0.15
        day = invoice.issue_date + datetime.timedelta(
            days=rng.randrange(terms + 1, terms + 22) if late else rng.randrange(3, terms + 1)
        )
        if habit == "group" or (habit == "stops" and run_index >= stop) or day > demo.today:
            continue
        amount = invoice.gross
        if habit == "short":
            amount = Decimal(int(invoice.gross) // 10 * 10) or invoice.gross
        elif habit == "over":
            amount = Decimal(int(invoice.gross) // 10 * 10 + 10)
        payment_record(
            actor=demo.actor,
            customer=invoice.customer,
            amount=amount,
            method=method,
            received_date=day,
            reference=invoice.number,
        )


def pay_for_group(demo, group, billing_date: datetime.date, *, last: bool) -> None:
    """The payment group pays its members' invoices of this run in one bank transfer
    (the latest month: half of it), ten days after they were issued."""
    invoices = Invoice.objects.filter(
        run__billing_date=billing_date,
        customer__in=GroupMembership.objects.filter(group=group).values("customer_id"),
    )
    total = sum((i.gross for i in invoices), Decimal(0))
    day = billing_date + datetime.timedelta(days=10)
    if not total or day > demo.today:
        return
    amount = (total / 2).quantize(Decimal("1")) if last else total
    payment_record(
        actor=demo.actor,
        group=group,
        amount=amount or total,
        method=PaymentMethod.objects.get(name="Bank transfer"),
        received_date=day,
        reference=f"{group.name[:20].upper()} {billing_date:%b %Y}",
    )
