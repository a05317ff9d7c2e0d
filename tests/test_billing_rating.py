"""The billing run's SQL arithmetic gives exactly what `rating.line_amounts` gives in Python,
on both databases, for any price, quantity, proration and tax rate."""

from decimal import Decimal

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from patron.billing import rating
from patron.core import money_sql

pytestmark = pytest.mark.django_db

prices = st.integers(min_value=0, max_value=10_000_000).map(lambda p: Decimal(p) / 100)
rates = st.sampled_from(
    [
        Decimal("0"),
        Decimal("5.00"),
        Decimal("12.50"),
        Decimal("17.5"),
        Decimal("20.00"),
        Decimal("21.00"),
        Decimal("99.99"),
    ]
)


def sql_line(price: Decimal, quantity: int, rate: Decimal, includes_tax: bool, days, period):
    amount = f"{money_sql.sql_minor(str(price))} * {quantity}"
    if days is not None:
        amount = rating.sql_half_up_div(f"({amount}) * {days}", str(period))
    rate_bp = money_sql.sql_int(f"ROUND({rate} * 100)")
    net, tax, gross = rating.sql_split(amount, rate_bp, "TRUE" if includes_tax else "FALSE")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {net}, {tax}, {gross}")
        row = cursor.fetchone()
    s = Decimal(money_sql.scale())
    return tuple(Decimal(int(v)) / s for v in row)


@settings(max_examples=150, deadline=None)
@given(
    price=prices,
    quantity=st.integers(min_value=1, max_value=50),
    rate=rates,
    includes_tax=st.booleans(),
    proration=st.one_of(
        st.none(),
        st.integers(min_value=28, max_value=31).flatmap(
            lambda period: st.tuples(st.integers(min_value=1, max_value=period), st.just(period))
        ),
    ),
)
def test_sql_rounding_is_python_rounding(price, quantity, rate, includes_tax, proration):
    days, period = proration if proration else (None, None)
    expected = rating.line_amounts(
        price, quantity, rate, includes_tax=includes_tax, days=days, period_days=period
    )
    assert sql_line(price, quantity, rate, includes_tax, days, period) == expected
    net, tax, gross = expected
    assert net + tax == gross


def test_half_a_penny_goes_up():
    # 45.00 × 22 / 31 = 31.9354… → 31.94; 10 % of 0.05 is 0.005 → 0.01 (half up); gross
    # 0.99 at 20 % is 0.825 net → 0.83 (half up), tax 0.16.
    assert rating.line_amounts(
        Decimal("45.00"), 1, Decimal("20"), includes_tax=False, days=22, period_days=31
    )[0] == Decimal("31.94")
    assert rating.line_amounts(Decimal("0.05"), 1, Decimal("10"), includes_tax=False)[1] == (
        Decimal("0.01")
    )
    assert rating.line_amounts(Decimal("0.99"), 1, Decimal("20"), includes_tax=True) == (
        Decimal("0.83"),
        Decimal("0.16"),
        Decimal("0.99"),
    )
    assert sql_line(Decimal("0.99"), 1, Decimal("20"), True, None, None) == (
        Decimal("0.83"),
        Decimal("0.16"),
        Decimal("0.99"),
    )
