"""`patron restore PATH`: put a `patron backup` back in place of the configured database.

Everything in the database is replaced by the backup. A safety backup of what
is there now is written first (PATRON_DATA_DIR/backups/patron-before-restore-*),
unless --no-safety-copy. Stop `patron serve` and `patron worker` first: a write
they make during the restore is lost, and what they hold in memory no longer
matches the database (docs/backup.md).
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.utils import timezone

from patron.ops.management.commands.backup import (
    SUFFIXES,
    database,
    pg_backup,
    pg_run,
    sqlite_backup,
    sqlite_check,
    sqlite_copy,
)

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_CUSTOM_MAGIC = b"PGDMP"


def backup_kind(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(16)
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_CUSTOM_MAGIC):
        return "postgresql"
    raise CommandError(
        f"{path} is neither a SQLite database nor a pg_dump custom-format file; "
        "give a file written by `patron backup`."
    )


def confirm(where: str, path: Path) -> None:
    question = (
        f"This replaces everything in {where} with {path}.\n"
        "Stop `patron serve` and `patron worker` first. Type 'yes' to restore: "
    )
    try:
        interactive = sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError, OSError):
        interactive = False
    if not interactive:
        raise CommandError(
            f"Restoring replaces everything in {where}; run it again with --yes to confirm "
            "(after stopping `patron serve` and `patron worker`)."
        )
    if input(question).strip().lower() != "yes":
        raise CommandError("Restore cancelled; nothing was changed.")


def safety_copy(connection, vendor: str) -> Path | None:
    """Back up what the database holds now, unless it holds nothing (a fresh SQLite file)."""
    if vendor == "sqlite":
        connection.ensure_connection()
        tables = connection.connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if not tables[0]:
            return None
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    path = Path(settings.DATA_DIR) / "backups" / f"patron-before-restore-{stamp}{SUFFIXES[vendor]}"
    (sqlite_backup if vendor == "sqlite" else pg_backup)(connection, path)
    return path


def sqlite_restore(connection, path: Path) -> None:
    try:
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise CommandError(f"Cannot open {path}: {exc}") from exc
    try:
        sqlite_check(source, path)
        found = source.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'django_migrations'"
        ).fetchone()
        if found is None:
            raise CommandError(f"{path} is a SQLite database but not a Patron backup.")
        connection.ensure_connection()
        try:
            sqlite_copy(source, connection.connection)
        except sqlite3.Error as exc:
            raise CommandError(
                f"The restore into {connection.settings_dict['NAME']} failed: {exc}. "
                "Is Patron still running?"
            ) from exc
        sqlite_check(connection.connection, connection.settings_dict["NAME"])
    finally:
        source.close()


def pg_restore(connection, path: Path) -> None:
    name = connection.settings_dict["NAME"]
    connections.close_all()
    pg_run(
        "pg_restore",
        [
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--single-transaction",
            "--exit-on-error",
            "--no-password",
            f"--dbname={name}",
            str(path),
        ],
        connection.settings_dict,
        what=f"The restore into database {name} (nothing was changed)",
    )


class Command(BaseCommand):
    help = (
        "Replace the database with a backup written by `patron backup`, after writing a "
        "safety backup of the current one. Stop Patron first. See docs/backup.md."
    )
    requires_system_checks = []
    requires_migrations_checks = False

    def add_arguments(self, parser):
        parser.add_argument("path", help="The backup file (.sqlite3 or .dump).")
        parser.add_argument(
            "--yes", action="store_true", help="Do not ask before replacing the database."
        )
        parser.add_argument(
            "--no-safety-copy",
            action="store_true",
            help="Do not back up the current database first.",
        )

    def handle(self, *args, path, yes=False, no_safety_copy=False, **options):
        connection = database()
        vendor = connection.vendor
        path = Path(path).expanduser().resolve()
        if not path.is_file():
            raise CommandError(f"There is no backup file at {path}.")
        kind = backup_kind(path)
        if kind != vendor:
            raise CommandError(
                f"{path} is a {kind} backup, but this Patron uses {vendor} "
                "(PATRON_DATABASE_URL); restore it into a Patron configured for "
                f"{kind}."
            )
        where = f"the {vendor} database {connection.settings_dict['NAME']}"
        if not yes:
            confirm(where, path)
        saved = None if no_safety_copy else safety_copy(connection, vendor)
        if saved is not None:
            self.stdout.write(f"Saved the current database to {saved}.")
        if vendor == "sqlite":
            sqlite_restore(connection, path)
        else:
            pg_restore(connection, path)
        connections.close_all()
        self.stdout.write(
            f"Restored {path} into {where}. "
            "Run `patron migrate` if the backup comes from an older Patron."
        )
