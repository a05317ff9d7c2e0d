"""Invoices to pay, payment groups and members: shared by the payments tests."""

import datetime
from decimal import Decimal

from patron.billing.models import Invoice
from patron.core.models import Sequence
from patron.customers.models import GroupMembership
from patron.ledger.models import Kind
from patron.ledger.services import ledger_post
from patron.payments.models import PaymentMethod
from tests.factories import CustomerFactory, GroupFactory, GroupSetFactory

D = Decimal
DAY = datetime.date(2026, 10, 1)


def make_invoice(actor, customer, gross, issue_date=DAY) -> Invoice:
    """An issued invoice of `gross`, posted to the ledger as the billing run does."""
    n = Sequence.next_value("test-invoice")
    invoice = Invoice.objects.create(
        number=f"T-{n:06d}",
        customer=customer,
        issue_date=issue_date,
        due_date=issue_date + datetime.timedelta(days=14),
        net=D(gross),
        tax=D("0"),
        gross=D(gross),
    )
    ledger_post(
        actor=actor,
        customer=customer,
        kind=Kind.INVOICE,
        amount=D(gross),
        effective_date=issue_date,
        description=f"Invoice {invoice.number}",
        source=invoice,
    )
    return invoice


def cash() -> PaymentMethod:
    return PaymentMethod.objects.get(name="Cash")


def cheque() -> PaymentMethod:
    return PaymentMethod.objects.get(name="Cheque")


def payment_group(name="Acme Holdings", *, apply_credits=False, members=0):
    group = GroupFactory(
        name=name,
        group_set=GroupSetFactory(name=f"{name} set", single_choice=False),
        payment_group=True,
        apply_member_credits=apply_credits,
    )
    people = []
    for index in range(members):
        customer = CustomerFactory(name=f"{name} member {index + 1}")
        add_member(group, customer)
        people.append(customer)
    return group, people


def add_member(group, customer):
    GroupMembership.objects.create(
        customer=customer, group=group, group_set=group.group_set, exclusive=False
    )
