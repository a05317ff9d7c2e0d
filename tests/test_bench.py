"""`patron bench`: builds a scratch SQLite database, times every operation, writes JSON."""

import json
import re
import tempfile

import pytest
from django.core.management import CommandError, call_command

from patron.ops.bench import table

KEYS = {"operation", "patron_ms", "sql_ms", "ratio", "database", "customers"}


def test_bench_300_customers_writes_every_row(tmp_path, monkeypatch, capsys):
    """Runs in a scratch SQLite file: the user's database is never touched."""
    monkeypatch.delenv("PATRON_DATABASE_URL", raising=False)
    monkeypatch.setenv("PATRON_DATA_DIR", str(tmp_path / "own-data"))
    scratch_parent = tmp_path / "tmp"
    scratch_parent.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch_parent))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch_parent))
    target = tmp_path / "bench.json"
    call_command(
        "bench", customers=300, json=str(target), import_rows=20, load_seconds=1, load_clients=2
    )
    rows = json.loads(target.read_text())
    assert all(set(row) >= KEYS for row in rows)
    assert {row["database"] for row in rows} == {"sqlite"}
    assert {row["customers"] for row in rows} == {300}
    operations = [row["operation"] for row in rows]
    for expected in (
        "data load",
        "segment count",
        "customer list page",
        "API list page",
        "search by phone fragment",
        "search by name",
        "bulk add tag",
        "bulk status change",
        "CSV export",
        "customer overview page",
        "import CSV",
        "billing run",
        "ledger page",
        "segment count (balance>50 and status:Active)",
        "cashback relative +5 to 300 customers",
        "group payment (100 members",
        "payment through the API",
        "load, 1 web process",
    ):
        assert any(op.startswith(expected) for op in operations), expected
    failed = [row for row in rows if row.get("note", "").startswith("failed")]
    assert failed == []
    for row in rows:
        if row["operation"].startswith("load"):
            assert row["errors"] == 0 and row["sql_ms"] is None
        elif row["patron_ms"] is not None:
            assert row["patron_ms"] > 0 and row["sql_ms"] >= 0
            if row["sql_ms"]:
                assert row["ratio"] == round(row["patron_ms"] / row["sql_ms"], 2)
    printed = capsys.readouterr().out
    assert "| operation" in printed and "Scratch database: SQLite file" in printed
    assert not (tmp_path / "own-data").exists()  # nothing written to the user's data dir
    assert list(scratch_parent.iterdir()) == []  # the scratch database is gone


def test_bench_refuses_too_few_customers():
    with pytest.raises(CommandError, match="at least 100"):
        call_command("bench", customers=5)


def test_table_shows_missing_values_as_dashes():
    rows = [
        {
            "operation": "CSV export",
            "patron_ms": None,
            "sql_ms": None,
            "ratio": None,
            "note": "not available",
        },
        {"operation": "search", "patron_ms": 12.5, "sql_ms": 2.5, "ratio": 5.0},
    ]
    text = table(rows)
    assert "| CSV export |         — |      — |     — |" in text
    assert "- CSV export: not available" in text


LOAD_LINE = re.compile(
    r"^  load, (?P<workers>\d+) web process(?:es)?: (?P<clients>\d+) clients for "
    r"(?P<seconds>[\d.]+) s over list, search, overview and API: (?P<rate>[\d,.]+) requests/s, "
    r"p50 (?P<p50>[\d,]+) ms, p95 (?P<p95>[\d,]+) ms, (?P<errors>\d+) errors "
    r"\((?P<requests>[\d,]+) requests\)$",
    re.M,
)


def test_bench_load_row_serves_every_request_on_2_and_1_web_processes(
    tmp_path, monkeypatch, capsys
):
    """`--only load`: `patron serve --workers 2`, then `--workers 1`, on the scratch database;
    concurrent clients over the list, a search, an overview and the API; no errors."""
    monkeypatch.delenv("PATRON_DATABASE_URL", raising=False)
    monkeypatch.setenv("PATRON_DATA_DIR", str(tmp_path / "own-data"))
    target = tmp_path / "bench.json"
    call_command(
        "bench",
        customers=100,
        import_rows=0,
        only="load",
        load_clients=3,
        load_seconds=2,
        load_workers="2,1",
        json=str(target),
    )
    printed = capsys.readouterr().out
    lines = [m.groupdict() for m in LOAD_LINE.finditer(printed)]
    assert [(m["workers"], m["clients"], m["seconds"]) for m in lines] == [
        ("2", "3", "2"),
        ("1", "3", "2"),
    ], printed
    assert all(m["errors"] == "0" and int(m["requests"].replace(",", "")) > 0 for m in lines)
    rows = [r for r in json.loads(target.read_text()) if r["operation"].startswith("load")]
    assert [(r["workers"], r["errors"]) for r in rows] == [(2, 0), (1, 0)]
    for row in rows:
        assert row["requests_per_second"] > 0 and 0 < row["p50_ms"] <= row["p95_ms"]
        assert row["patron_ms"] == row["p50_ms"] and row["sql_ms"] is None
    assert "× one web process" in rows[0]["note"]


def test_bench_refuses_an_unknown_operation():
    with pytest.raises(CommandError, match="Unknown operation loud"):
        call_command("bench", customers=100, only="loud")
