"""`patron bench`: time Patron against hand-written SQL on a scratch database.

The command never touches the user's own data. It creates a scratch
database (a temporary SQLite file, or `patron_bench_<pid>` on the PostgreSQL
server `PATRON_DATABASE_URL` points at), runs a child process of itself
against it (migrate, load N customers, time the operations), prints the
table, writes the rows as JSON with `--json`, and then drops the scratch
database unless `--keep` is given. docs/performance.md explains the numbers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from django.core.management import call_command
from django.db import connection

from patron.ops.bench import data as bench_data
from patron.ops.bench.operations import Bench, LoadOptions, Result

SCRATCH_FLAG = "--in-scratch-database"
HEADERS = ("operation", "Patron ms", "SQL ms", "ratio")


def _is_postgres(url: str) -> bool:
    return urlsplit(url).scheme in {"postgres", "postgresql", "pgsql", "postgis"}


def _pg_admin(url: str):
    """An autocommit connection to the server's maintenance database (to create/drop)."""
    parts = urlsplit(url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    return psycopg.connect(admin_url, autocommit=True)


@contextmanager
def scratch_database(keep: bool = False, out=sys.stdout):
    """Environment variables that point Patron at a new, empty scratch database."""
    url = os.environ.get("PATRON_DATABASE_URL", "")
    data_dir = tempfile.mkdtemp(prefix="patron-bench-")
    env = {**os.environ, "PATRON_DATA_DIR": data_dir, "DJANGO_SETTINGS_MODULE": "patron.settings"}
    name = None
    if url and _is_postgres(url):
        name = f"patron_bench_{os.getpid()}"
        with _pg_admin(url) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
            admin.execute(f'CREATE DATABASE "{name}"')
        env["PATRON_DATABASE_URL"] = urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
        where = f"PostgreSQL database {name}"
    else:
        env.pop("PATRON_DATABASE_URL", None)
        where = f"SQLite file {Path(data_dir) / 'patron.sqlite3'}"
    print(f"Scratch database: {where}", file=out, flush=True)
    try:
        yield env
    finally:
        if keep:
            print(f"Kept the scratch database: {where}", file=out, flush=True)
        else:
            if name:
                with _pg_admin(url) as admin:
                    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            shutil.rmtree(data_dir, ignore_errors=True)


def load_arguments(options) -> list[str]:
    """The `load` and `--only` options, as the child's command line takes them again."""
    args = ["--load-clients", str(options.clients), "--load-seconds", f"{options.seconds:g}"]
    if options.workers:
        args += ["--load-workers", ",".join(str(n) for n in options.workers)]
    return args


def run(
    customers: int,
    json_path: str | None = None,
    keep: bool = False,
    out=sys.stdout,
    import_rows: int | None = None,
    load=None,
    only: list[str] | None = None,
) -> list:
    """Run the whole benchmark in a scratch database; the result rows."""
    load = load or LoadOptions()
    with scratch_database(keep=keep, out=out) as env:
        rows_file = Path(env["PATRON_DATA_DIR"]) / "bench-rows.json"
        command = [
            sys.executable,
            "-m",
            "django",
            "bench",
            SCRATCH_FLAG,
            "--customers",
            str(customers),
            "--json",
            str(rows_file),
            "--import-rows",
            str(customers if import_rows is None else import_rows),
            *load_arguments(load),
            *(["--only", ",".join(only)] if only else []),
        ]
        # The child's output is relayed line by line, so progress shows as it happens.
        with subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        ) as child:
            for line in child.stdout:
                out.write(line)
                out.flush()
        if child.returncode != 0 or not rows_file.exists():
            raise RuntimeError(f"the benchmark failed (exit status {child.returncode})")
        rows = json.loads(rows_file.read_text())
    if json_path:
        Path(json_path).write_text(json.dumps(rows, indent=2) + "\n")
    return rows


def _fmt(value) -> str:
    if value is None:
        return "—"
    return f"{value:,.1f}" if isinstance(value, float) else str(value)


def table(rows: list[dict]) -> str:
    """The rows as a plain-text table (also valid Markdown)."""
    lines = [
        [r["operation"], _fmt(r["patron_ms"]), _fmt(r["sql_ms"]), _fmt(r["ratio"])] for r in rows
    ]
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(HEADERS)]

    def fmt(cells):
        return (
            "| "
            + " | ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(cells, widths, strict=True))
            )
            + " |"
        )

    out = [fmt(HEADERS), "|" + "|".join(("-" * (w + 2)) for w in widths) + "|"]
    out += [fmt(line) for line in lines]
    notes = [f"- {r['operation']}: {r['note']}" for r in rows if r.get("note")]
    return "\n".join(out + ([""] + notes if notes else []))


def run_in_scratch(
    customers: int,
    json_path: str,
    out=sys.stdout,
    import_rows: int = 0,
    load_options=None,
    only=None,
) -> list[dict]:
    """The child's part: migrate, load, time; rows written to `json_path`."""
    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    print(
        f"Migrated in {time.perf_counter() - started:.1f} s; loading {customers:,} customers…",
        file=out,
        flush=True,
    )
    data = bench_data.load(customers)
    print(f"Loaded in {data.load_seconds:.1f} s; timing…", file=out, flush=True)
    bench = Bench(data, out=out, load=load_options, only=only)
    results = [
        Result(
            f"data load ({customers:,} customers, search index rebuilt)",
            round(data.load_seconds * 1000, 1),
            round(data.sql_seconds * 1000, 1),
            "the benchmark's own set-based loader (reference data, rows, search index rebuild, "
            "ANALYZE); SQL side is its row INSERTs alone. Patron's own importer has the "
            "import CSV row.",
        )
    ]
    results += bench.run_all(import_rows)
    vendor = connection.vendor
    rows = [
        {
            "operation": r.operation,
            "patron_ms": r.patron_ms,
            "sql_ms": r.sql_ms,
            "ratio": r.ratio,
            "database": vendor,
            "customers": customers,
            **({"note": r.note} if r.note else {}),
            **r.extra,
        }
        for r in results
    ]
    Path(json_path).write_text(json.dumps(rows, indent=2) + "\n")
    print(f"\n{vendor}, {customers:,} customers\n\n{table(rows)}", file=out, flush=True)
    return rows
