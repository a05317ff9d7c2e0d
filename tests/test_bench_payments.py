"""The payments bench rows run, and Patron and the hand-written SQL agree (small scale)."""

import pytest

from patron.ops.bench import payments as bench_payments
from patron.ops.bench.operations import Result, once_rolled_back, timed
from patron.payments.models import Payment
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


class FakeBench:
    def __init__(self, owner):
        self.owner = owner
        self.results = []

    def add(self, result):
        self.results.append(result)


def test_group_payment_and_api_payment_rows(owner):
    for _ in range(6):
        CustomerFactory()
    bench = FakeBench(owner)
    bench_payments.group_payment(bench, Result, once_rolled_back, members=5)
    bench_payments.api_payment(bench, Result, timed)
    names = [r.operation for r in bench.results]
    assert names == ["group payment (5 members, 15 invoices)", "payment through the API"]
    assert all(r.patron_ms is not None and r.sql_ms is not None for r in bench.results)
    assert not Payment.objects.exists()  # everything rolled back
