"""`patron bench`'s billing rows: the billing run, a long ledger page and a balance segment,
each beside hand-written SQL that must agree with what Patron wrote."""

import json

import pytest
from django.core.management import call_command

from patron.ops.bench.operations import Bench

ROWS = ("billing run", "ledger page", "segment count (balance>50 and status:Active)")


def test_billing_rows_have_patron_and_sql_numbers(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("PATRON_DATABASE_URL", raising=False)
    monkeypatch.setenv("PATRON_DATA_DIR", str(tmp_path / "own-data"))
    target = tmp_path / "bench.json"
    call_command(
        "bench",
        customers=300,
        import_rows=0,
        load_seconds=0,
        only="billing,ledger,balance-segment",
        json=str(target),
    )
    rows = {r["operation"]: r for r in json.loads(target.read_text())}
    failed = [r for r in rows.values() if r.get("note", "").startswith("failed")]
    assert failed == []
    for name in ROWS:
        (row,) = [r for op, r in rows.items() if op.startswith(name)]
        assert row["patron_ms"] > 0 and row["sql_ms"] > 0, row
        assert row["ratio"] == round(row["patron_ms"] / row["sql_ms"], 2)
    billing = next(r for op, r in rows.items() if op.startswith("billing run"))
    # 300 customers: 1-3 services each (600 lines), usage for a tenth; who is billed
    # follows the statuses (prospects and ceased accounts are not).
    assert "300 customers" in billing["operation"] and " invoices, " in billing["operation"]
    assert "within 3× its SQL" in billing["note"] and "rolled back" in billing["note"]
    ledger = next(r for op, r in rows.items() if op.startswith("ledger page"))
    assert ledger["operation"].startswith("ledger page (5,0")
    assert "≤ 100 ms" in ledger["note"]
    segment = rows["segment count (balance>50 and status:Active)"]
    assert int(segment["note"].split()[0]) > 0  # billed customers owe more than 50
    assert "within 2×" in segment["note"]


def test_balance_segment_alone_bills_first(tmp_path, monkeypatch):
    """`--only balance-segment` runs the billing run (untimed) so there are balances."""
    monkeypatch.delenv("PATRON_DATABASE_URL", raising=False)
    monkeypatch.setenv("PATRON_DATA_DIR", str(tmp_path / "own-data"))
    target = tmp_path / "bench.json"
    call_command(
        "bench",
        customers=150,
        import_rows=0,
        load_seconds=0,
        only="balance-segment",
        json=str(target),
    )
    rows = json.loads(target.read_text())
    (segment,) = [r for r in rows if r["operation"].startswith("segment count (balance")]
    assert not segment.get("note", "").startswith("failed")
    assert int(segment["note"].split()[0]) > 0


@pytest.mark.parametrize("step", ["billing", "ledger", "balance-segment"])
def test_billing_steps_can_be_chosen(step):
    assert step in Bench.STEPS
