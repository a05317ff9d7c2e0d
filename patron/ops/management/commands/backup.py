"""`patron backup`: a consistent copy of the database, safe to take while Patron runs.

SQLite: SQLite's online backup API copies the database as one snapshot,
including the writes still in the WAL file (which a plain copy of
patron.sqlite3 misses). PostgreSQL: `pg_dump --format=custom`, itself one
snapshot. `patron restore` puts a backup back (docs/backup.md).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils import timezone

SUFFIXES = {"sqlite": ".sqlite3", "postgresql": ".dump"}
PG_TOOLS_HINT = (
    "Install the PostgreSQL client tools of the server's major version or newer "
    "(Debian/Ubuntu: apt-get install postgresql-client) and make sure {tool} is on PATH."
)


def database():
    """The default connection, with a clear error for a database Patron cannot back up."""
    connection = connections[DEFAULT_DB_ALIAS]
    if connection.vendor not in SUFFIXES:
        raise CommandError(
            f"patron backup and restore support SQLite and PostgreSQL, not {connection.vendor}."
        )
    return connection


def default_output(vendor: str) -> Path:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return Path(settings.DATA_DIR) / "backups" / f"patron-{stamp}{SUFFIXES[vendor]}"


def describe(path: Path) -> str:
    size = path.stat().st_size
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    return ""  # pragma: no cover


def prepare_output(path: Path) -> Path:
    """Make sure `path` can be written without replacing anything; return the temporary
    file the backup is written to first (renamed to `path` once complete)."""
    if path.exists():
        raise CommandError(f"{path} already exists; choose another --output.")
    partial = path.with_name(path.name + ".partial")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.unlink(missing_ok=True)
        partial.touch()
    except OSError as exc:
        raise CommandError(
            f"Cannot write the backup to {path}: {exc.strerror or exc}. "
            "Choose a writable place with --output."
        ) from exc
    return partial


# --- SQLite -------------------------------------------------------------------------


def sqlite_copy(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    """Copy `source` into `target` with the backup API, in one step (one snapshot)."""
    source.backup(target, pages=-1)


def sqlite_check(target: sqlite3.Connection, where) -> None:
    try:
        result = target.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        raise CommandError(f"{where} is not a SQLite database: {exc}") from exc
    if result != [("ok",)]:
        problems = "; ".join(row[0] for row in result[:5])
        raise CommandError(f"{where} failed SQLite's integrity check: {problems}")


def sqlite_backup(connection, output: Path) -> None:
    partial = prepare_output(output)
    connection.ensure_connection()
    target = sqlite3.connect(partial)
    try:
        sqlite_copy(connection.connection, target)
        # A backup is one self-contained file, whatever the live database's journal.
        target.execute("PRAGMA journal_mode=DELETE")
        sqlite_check(target, output)
    except sqlite3.Error as exc:
        target.close()
        partial.unlink(missing_ok=True)
        raise CommandError(f"The backup to {output} failed: {exc}") from exc
    except BaseException:
        target.close()
        partial.unlink(missing_ok=True)
        raise
    target.close()
    os.replace(partial, output)


# --- PostgreSQL ---------------------------------------------------------------------


def pg_environment(settings_dict: dict) -> dict:
    """libpq's variables for the configured database: the password stays out of argv."""
    env = dict(os.environ)
    values = {
        "PGHOST": settings_dict.get("HOST"),
        "PGPORT": settings_dict.get("PORT"),
        "PGUSER": settings_dict.get("USER"),
        "PGPASSWORD": settings_dict.get("PASSWORD"),
        "PGDATABASE": settings_dict.get("NAME"),
    }
    options = settings_dict.get("OPTIONS") or {}
    for option, variable in (
        ("sslmode", "PGSSLMODE"),
        ("sslrootcert", "PGSSLROOTCERT"),
        ("sslcert", "PGSSLCERT"),
        ("sslkey", "PGSSLKEY"),
        ("connect_timeout", "PGCONNECT_TIMEOUT"),
    ):
        values[variable] = options.get(option)
    env.update({k: str(v) for k, v in values.items() if v not in (None, "")})
    return env


def pg_run(tool: str, args: list[str], settings_dict: dict, *, what: str) -> None:
    """Run pg_dump or pg_restore against the configured database; CommandError on failure."""
    program = shutil.which(tool)
    if program is None:
        raise CommandError(f"{tool} was not found. " + PG_TOOLS_HINT.format(tool=tool))
    try:
        result = subprocess.run(
            [program, *args],
            env=pg_environment(settings_dict),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
        )
    except OSError as exc:
        raise CommandError(f"Could not run {program}: {exc}") from exc
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip() or f"exit status {result.returncode}"
        raise CommandError(f"{what} failed ({tool}): {detail}")


def pg_backup(connection, output: Path) -> None:
    partial = prepare_output(output)
    try:
        pg_run(
            "pg_dump",
            ["--format=custom", "--no-password", f"--file={partial}"],
            connection.settings_dict,
            what=f"The backup of database {connection.settings_dict['NAME']}",
        )
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, output)


class Command(BaseCommand):
    help = (
        "Write a consistent backup of the database, safe while Patron runs: SQLite's "
        "online backup, or pg_dump --format=custom for PostgreSQL. See docs/backup.md."
    )
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            "-o",
            help="Where to write it (default: PATRON_DATA_DIR/backups/patron-YYYYmmdd-HHMMSS"
            ".sqlite3, or .dump for PostgreSQL). An existing file is never replaced.",
        )

    def handle(self, *args, output=None, **options):
        connection = database()
        path = Path(output).expanduser().resolve() if output else default_output(connection.vendor)
        if connection.vendor == "sqlite":
            sqlite_backup(connection, path)
        else:
            pg_backup(connection, path)
        name = connection.settings_dict["NAME"]
        self.stdout.write(
            f"Backed up the {connection.vendor} database {name} to {path} ({describe(path)}).\n"
            f"Restore it with: patron restore {path}"
        )
