"""How a charge becomes net, tax and gross: the one rounding rule, in Python and in SQL.

Amounts are worked in whole minor units (pence) so both databases compute
exactly, with integers, what Python computes with `Decimal`:

- a monthly service billed for part of a period is charged
  `price × quantity × days ÷ days in the period`, rounded half-up to the
  minor unit (half a penny goes up, away from zero);
- net prices: tax = `net × rate ÷ 100`, rounded half-up; gross = net + tax;
- gross prices (`price_includes_tax`): net = `gross ÷ (1 + rate ÷ 100)`,
  rounded half-up; tax = gross − net.

Each line is rounded on its own; an invoice's totals are the sums of its
lines (docs/billing.md). `line_amounts` is the reference the billing run's
SQL is tested against.
"""

from __future__ import annotations

from decimal import Decimal

from patron.core.money_sql import scale


def half_up_div(x: int, y: int) -> int:
    """x ÷ y rounded half away from zero, for integers (y > 0)."""
    if x >= 0:
        return (2 * x + y) // (2 * y)
    return -((-2 * x + y) // (2 * y))


def to_minor(amount: Decimal) -> int:
    """An exact amount in minor units (the caller has checked it has no more decimals)."""
    return int((Decimal(amount) * scale()).to_integral_value())


def rate_basis_points(rate: Decimal) -> int:
    """20.00 % → 2000."""
    return int((Decimal(rate) * 100).to_integral_value())


def split_minor(amount: int, rate_bp: int, includes_tax: bool) -> tuple[int, int, int]:
    """(net, tax, gross) in minor units of a charge entered net or gross."""
    if includes_tax:
        net = half_up_div(amount * 10000, 10000 + rate_bp)
        return net, amount - net, amount
    tax = half_up_div(amount * rate_bp, 10000)
    return amount, tax, amount + tax


def line_amounts(
    price: Decimal,
    quantity: int | Decimal,
    rate: Decimal,
    *,
    includes_tax: bool,
    days: int | None = None,
    period_days: int | None = None,
) -> tuple[Decimal, Decimal, Decimal]:
    """(net, tax, gross) of one line as `Decimal`s; `days`/`period_days` prorate it."""
    amount = to_minor(price) * int(quantity)
    if days is not None and period_days:
        amount = half_up_div(amount * days, period_days)
    net, tax, gross = split_minor(amount, rate_basis_points(rate), includes_tax)
    s = Decimal(scale())
    return Decimal(net) / s, Decimal(tax) / s, Decimal(gross) / s


# --- The same arithmetic as SQL expressions, for INSERT … SELECT -------------------


def sql_half_up_div(x: str, y: str) -> str:
    """SQL for `half_up_div(x, y)`; both are integer expressions, y > 0."""
    return (
        f"(CASE WHEN ({x}) >= 0 THEN (2 * ({x}) + ({y})) / (2 * ({y})) "
        f"ELSE -((-2 * ({x}) + ({y})) / (2 * ({y}))) END)"
    )


def sql_split(amount: str, rate_bp: str, includes_tax: str) -> tuple[str, str, str]:
    """SQL for `split_minor`: (net, tax, gross) integer expressions."""
    from_gross = sql_half_up_div(f"({amount}) * 10000", f"10000 + ({rate_bp})")
    net = f"(CASE WHEN {includes_tax} THEN {from_gross} ELSE ({amount}) END)"
    gross = (
        f"(CASE WHEN {includes_tax} THEN ({amount}) "
        f"ELSE ({amount}) + {sql_half_up_div(f'({amount}) * ({rate_bp})', '10000')} END)"
    )
    tax = f"({gross} - {net})"
    return net, tax, gross
