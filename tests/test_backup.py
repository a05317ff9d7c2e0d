"""`patron backup` and `patron restore` (#15 item 14).

A backup taken while rows are being committed holds every row committed
before it started, and is one consistent snapshot: the rows it holds are the
first N the writer committed, with no gaps. Restored into a new database, it
passes SQLite's integrity check (or pg_restore's single transaction).

The round trips run the real `patron` command in a subprocess against a
database of their own (a SQLite file; a scratch PostgreSQL database when the
server and pg_dump are there), while a thread of the test keeps writing.
"""

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from conftest import env_flag, service_url
from patron.ops.management.commands import backup as backup_command

REPO_ROOT = Path(__file__).resolve().parent.parent


def patron(*args, env_extra: dict, timeout=120) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "patron.settings",
        "PYTHONPATH": str(REPO_ROOT),
        **env_extra,
    }
    return subprocess.run(
        [sys.executable, "-m", "patron.cli", *args],
        env=env,
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


class Writer(threading.Thread):
    """Commits one row at a time until stopped; `committed` lists the ids, in order,
    each appended only after its commit returned."""

    def __init__(self, connect):
        super().__init__(daemon=True)
        self.connect = connect
        self.committed: list[int] = []
        self.stop = threading.Event()
        self.error = None

    def run(self):
        try:
            insert = self.connect()
            n = 0
            while not self.stop.is_set():
                n += 1
                insert(n)
                self.committed.append(n)
        except BaseException as exc:  # noqa: BLE001 - re-raised by finish()
            self.error = exc

    def wait_for(self, count: int, timeout: float = 30):
        deadline = time.monotonic() + timeout
        while len(self.committed) < count:
            assert self.error is None, self.error
            assert time.monotonic() < deadline, "the writer did not get going"
            time.sleep(0.01)

    def finish(self):
        self.stop.set()
        self.join(timeout=30)
        if self.error is not None:
            raise self.error
        return list(self.committed)


def assert_a_consistent_snapshot(ids: set[int], committed_before: list[int], committed: list[int]):
    assert set(committed_before) <= ids, "a row committed before the backup started is missing"
    assert ids <= set(committed), "the backup holds a row that was never committed"
    assert ids == set(range(1, len(ids) + 1)), "the backup is not one snapshot: rows are missing"


# --- SQLite -------------------------------------------------------------------------


def make_sqlite_database(path: Path) -> None:
    """A database shaped enough like Patron's for backup and restore: WAL, a
    django_migrations table, and a table for the writer."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app, name, applied)")
    db.execute("INSERT INTO django_migrations (app, name, applied) VALUES ('core', '0001', 0)")
    db.execute("CREATE TABLE probe (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)")
    db.commit()
    db.close()


def sqlite_writer(path: Path) -> Writer:
    def connect():
        db = sqlite3.connect(path, isolation_level=None, timeout=20, check_same_thread=False)
        # As in a busy Patron whose readers keep SQLite from checkpointing: every commit
        # stays in the WAL file, where a plain copy of patron.sqlite3 does not look.
        db.execute("PRAGMA wal_autocheckpoint=0")

        def insert(n):
            db.execute("INSERT INTO probe (id, payload) VALUES (?, ?)", (n, "x" * 500))
            time.sleep(0.001)

        return insert

    return Writer(connect)


def test_sqlite_backup_under_writes_restores_every_committed_row(tmp_path):
    live = tmp_path / "live"
    make_sqlite_database(live / "patron.sqlite3")
    output = tmp_path / "saved" / "patron.sqlite3"
    writer = sqlite_writer(live / "patron.sqlite3")
    writer.start()
    try:
        writer.wait_for(300)
        committed_before = list(writer.committed)
        plain_copy = tmp_path / "plain-copy.sqlite3"
        shutil.copyfile(live / "patron.sqlite3", plain_copy)
        result = patron(
            "backup",
            "--output",
            str(output),
            env_extra={"PATRON_DATA_DIR": str(live), "PATRON_DATABASE_URL": ""},
        )
        during = len(writer.committed)
    finally:
        committed = writer.finish()
    assert result.returncode == 0, result.stderr
    assert f"to {output} (" in result.stdout
    assert during > len(committed_before), "the writer did not write while the backup ran"
    assert not output.with_name(output.name + ".partial").exists()

    fresh = tmp_path / "fresh"
    fresh.mkdir()
    result = patron(
        "restore",
        str(output),
        "--yes",
        env_extra={"PATRON_DATA_DIR": str(fresh), "PATRON_DATABASE_URL": ""},
    )
    assert result.returncode == 0, result.stderr
    assert "Restored" in result.stdout

    restored = sqlite3.connect(fresh / "patron.sqlite3")
    assert restored.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    ids = {row[0] for row in restored.execute("SELECT id FROM probe")}
    restored.close()
    assert_a_consistent_snapshot(ids, committed_before, committed)

    # What copying the file instead would have lost: the commits still in the WAL.
    copied = sqlite3.connect(f"file:{plain_copy}?mode=ro", uri=True)
    missing = set(committed_before) - {r[0] for r in copied.execute("SELECT id FROM probe")}
    copied.close()
    assert missing, "the plain copy held every row: the test would not catch a lost write"


def test_sqlite_restore_keeps_a_safety_copy_of_the_database_it_replaces(tmp_path):
    """Restoring over a database with data first backs that data up."""
    live = tmp_path / "live"
    make_sqlite_database(live / "patron.sqlite3")
    env = {"PATRON_DATA_DIR": str(live), "PATRON_DATABASE_URL": ""}
    saved = tmp_path / "before.sqlite3"
    assert patron("backup", "-o", str(saved), env_extra=env).returncode == 0
    db = sqlite3.connect(live / "patron.sqlite3")
    db.execute("INSERT INTO probe (id, payload) VALUES (1, 'after the backup')")
    db.commit()
    db.close()

    result = patron("restore", str(saved), "--yes", env_extra=env)

    assert result.returncode == 0, result.stderr
    copies = list((live / "backups").glob("patron-before-restore-*.sqlite3"))
    assert len(copies) == 1 and f"Saved the current database to {copies[0]}" in result.stdout
    kept = sqlite3.connect(copies[0])
    assert kept.execute("SELECT payload FROM probe").fetchall() == [("after the backup",)]
    kept.close()
    db = sqlite3.connect(live / "patron.sqlite3")
    assert db.execute("SELECT count(*) FROM probe").fetchone() == (0,)
    db.close()


# --- the commands' errors -------------------------------------------------------------


def test_backup_to_an_unwritable_place_says_so(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    target = blocker / "backup.sqlite3"

    with pytest.raises(CommandError, match=r"Cannot write the backup to .*a-file/backup\.sqlite3"):
        call_command("backup", output=str(target))
    assert blocker.read_text() == "not a directory"


def test_backup_never_replaces_an_existing_file(tmp_path):
    existing = tmp_path / "patron.sqlite3"
    existing.write_text("an older backup")

    with pytest.raises(CommandError, match="already exists; choose another --output"):
        call_command("backup", output=str(existing))
    assert existing.read_text() == "an older backup"


def test_backup_names_its_file_by_the_time_in_the_data_directory(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    path = backup_command.default_output(connection.vendor)
    assert path.parent == tmp_path / "backups"
    suffix = ".sqlite3" if connection.vendor == "sqlite" else ".dump"
    assert path.name.startswith("patron-") and path.suffix == suffix
    assert len(path.stem) == len("patron-YYYYmmdd-HHMMSS")


def test_restore_of_a_missing_file_says_so(tmp_path):
    with pytest.raises(CommandError, match="There is no backup file at"):
        call_command("restore", str(tmp_path / "nothing.sqlite3"), yes=True)


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    with pytest.raises(CommandError, match="neither a SQLite database nor a pg_dump"):
        call_command("restore", str(notes), yes=True)


def test_restore_refuses_a_backup_of_the_other_database_kind(tmp_path):
    other = tmp_path / "other"
    if connection.vendor == "sqlite":
        other.write_bytes(b"PGDMP" + b"\0" * 100)
        kind = "postgresql"
    else:
        make_sqlite_database(other)
        kind = "sqlite"
    with pytest.raises(CommandError, match=f"is a {kind} backup, but this Patron uses"):
        call_command("restore", str(other), yes=True)


def _backup_of_this_kind(tmp_path) -> Path:
    path = tmp_path / "backup"
    if connection.vendor == "sqlite":
        make_sqlite_database(path)
    else:
        path.write_bytes(b"PGDMP" + b"\0" * 100)
    return path


def test_restore_without_yes_asks_and_refuses_when_nobody_can_answer(tmp_path, monkeypatch):
    path = _backup_of_this_kind(tmp_path)
    monkeypatch.setattr(sys, "stdin", open(os.devnull))  # noqa: SIM115 - closed by pytest

    with pytest.raises(CommandError, match="run it again with --yes"):
        call_command("restore", str(path))


def test_restore_stops_when_the_answer_is_not_yes(tmp_path, monkeypatch):
    path = _backup_of_this_kind(tmp_path)

    class Terminal:
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr("builtins.input", lambda question: "no")

    with pytest.raises(CommandError, match="Restore cancelled; nothing was changed"):
        call_command("restore", str(path))


@pytest.mark.skipif(connection.vendor != "sqlite", reason="a SQLite check")
def test_restore_refuses_a_sqlite_file_that_is_not_a_patron_backup(tmp_path):
    other = tmp_path / "other.sqlite3"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE something (id)")
    db.commit()
    db.close()
    with pytest.raises(CommandError, match="is a SQLite database but not a Patron backup"):
        call_command("restore", str(other), yes=True, no_safety_copy=True)


def test_missing_postgresql_tools_are_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CommandError, match="pg_dump was not found. Install the PostgreSQL client"):
        backup_command.pg_run("pg_dump", [], {"NAME": "patron"}, what="The backup")


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
def test_a_failing_pg_dump_is_reported_with_its_message(tmp_path):
    unreachable = {"NAME": "patron", "HOST": "127.0.0.1", "PORT": 1, "USER": "nobody"}
    output = tmp_path / "x.dump"
    with pytest.raises(CommandError, match=r"The backup of database patron failed \(pg_dump\): "):
        backup_command.pg_run(
            "pg_dump",
            ["--format=custom", f"--file={output}"],
            unreachable,
            what="The backup of database patron",
        )


# --- PostgreSQL ---------------------------------------------------------------------


@pytest.fixture
def scratch_postgres():
    """A new PostgreSQL database with the writer's table; its URL. Dropped afterwards."""
    import psycopg

    for tool in ("pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            message = f"{tool} is not installed (apt-get install postgresql-client)"
            if env_flag("PATRON_REQUIRE_SERVICES"):
                pytest.fail(f"{message} and PATRON_REQUIRE_SERVICES=1")
            pytest.skip(message)
    admin_url = service_url("postgresql")
    name = f"patron_backup_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(admin_url)
    url = urlunsplit(parts._replace(path=f"/{name}"))
    admin = psycopg.connect(admin_url, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(url, autocommit=True) as db:
            db.execute(
                "CREATE TABLE django_migrations "
                "(id serial PRIMARY KEY, app text, name text, applied timestamptz)"
            )
            db.execute("CREATE TABLE probe (id integer PRIMARY KEY, payload text NOT NULL)")
        yield url
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.mark.services("postgresql")
def test_postgresql_backup_under_writes_and_restore(tmp_path, scratch_postgres):
    import psycopg

    def connect():
        db = psycopg.connect(scratch_postgres, autocommit=True)

        def insert(n):
            db.execute("INSERT INTO probe (id, payload) VALUES (%s, %s)", (n, "x" * 500))

        return insert

    env = {"PATRON_DATA_DIR": str(tmp_path / "var"), "PATRON_DATABASE_URL": scratch_postgres}
    output = tmp_path / "patron.dump"
    writer = Writer(connect)
    writer.start()
    try:
        writer.wait_for(200)
        committed_before = list(writer.committed)
        result = patron("backup", "--output", str(output), env_extra=env)
    finally:
        committed = writer.finish()
    assert result.returncode == 0, result.stderr
    assert output.read_bytes().startswith(b"PGDMP")

    # Change the database after the backup: the restore must undo all of it.
    with psycopg.connect(scratch_postgres, autocommit=True) as db:
        db.execute("DELETE FROM probe WHERE id <= 10")
        db.execute("INSERT INTO probe (id, payload) VALUES (-1, 'after the backup')")

    result = patron("restore", str(output), "--yes", env_extra=env)
    assert result.returncode == 0, result.stderr
    assert list((tmp_path / "var" / "backups").glob("patron-before-restore-*.dump"))

    with psycopg.connect(scratch_postgres) as db:
        ids = {row[0] for row in db.execute("SELECT id FROM probe")}
    assert -1 not in ids
    assert_a_consistent_snapshot(ids, committed_before, committed)


@pytest.mark.services("postgresql")
def test_a_failing_pg_restore_changes_nothing(tmp_path, scratch_postgres):
    import psycopg

    with psycopg.connect(scratch_postgres, autocommit=True) as db:
        db.execute("INSERT INTO probe (id, payload) VALUES (1, 'kept')")
    broken = tmp_path / "broken.dump"
    broken.write_bytes(b"PGDMP" + b"\0" * 100)
    env = {"PATRON_DATA_DIR": str(tmp_path / "var"), "PATRON_DATABASE_URL": scratch_postgres}

    result = patron("restore", str(broken), "--yes", "--no-safety-copy", env_extra=env)

    assert result.returncode != 0
    assert "failed (pg_restore)" in result.stderr and "nothing was changed" in result.stderr
    with psycopg.connect(scratch_postgres) as db:
        assert db.execute("SELECT payload FROM probe").fetchall() == [("kept",)]
