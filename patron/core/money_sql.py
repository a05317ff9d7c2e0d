"""Money in SQL: whole minor units, so both databases add exactly.

SQLite keeps a decimal column as a floating-point number; summing or adding
such values in SQL could drift by a fraction of a penny. Set-based money
statements (the billing run, posting a run to the ledger) therefore turn
each amount into whole minor units (`ROUND(amount × 100)` for pounds), work
with integers, and turn the result back into an amount for the column.
"""

from __future__ import annotations

from django.db import connection

from patron.core.money import minor_unit


def scale() -> int:
    """Minor units in one major unit: 100 for GBP, 1 for JPY, 1000 for KWD."""
    return 10 ** minor_unit()


def sql_int(expr: str) -> str:
    return f"CAST({expr} AS BIGINT)"


def sql_minor(column: str) -> str:
    """A money column as whole minor units (exact on SQLite's REAL storage too)."""
    return sql_int(f"ROUND({column} * {scale()})")


def sql_from_minor(expr: str) -> str:
    """Whole minor units back to an amount for a money column."""
    if connection.vendor == "postgresql":
        return f"(CAST({expr} AS NUMERIC) / {scale()})"
    return f"(CAST({expr} AS REAL) / {scale()})" if scale() != 1 else f"({expr})"
