"""The demo's cashback promo: the group "Summer promo 2026" and credits through the service."""

from decimal import Decimal

import pytest

from patron.cashback.models import CashbackRun
from patron.customers.models import GroupMembership
from patron.groups.models import Group
from patron.ledger.models import Balance, Book, LedgerEntry
from patron.ledger.services import balances_out_of_step
from patron.ops.demo import load_demo

pytestmark = pytest.mark.django_db


def test_demo_has_a_summer_promo_with_cashback_credits():
    load_demo(customers=40)
    promo = Group.objects.get(name="Summer promo 2026")
    assert promo.group_set.name == "Region" and not promo.is_dynamic
    members = set(GroupMembership.objects.filter(group=promo).values_list("customer_id", flat=True))
    assert len(members) == 5
    runs = CashbackRun.objects.filter(group=promo).order_by("pk")
    assert [r.comment for r in runs] == ["Summer promo 2026 welcome credit", "Referral bonus"]
    entries = LedgerEntry.objects.filter(book=Book.CASHBACK)
    assert set(entries.values_list("customer_id", flat=True)) == members
    assert entries.count() == 5 + 2
    held = sorted(Balance.objects.filter(book=Book.CASHBACK).values_list("amount", flat=True))
    assert held == [Decimal("5.00")] * 3 + [Decimal("7.50")] * 2
    assert balances_out_of_step(Book.CASHBACK) == []
    assert set(entries.values_list("actor_label", flat=True)) == {"demo loader"}

    load_demo(customers=10, force=True)
    assert CashbackRun.objects.filter(group=promo).count() == 2
