"""`patron check`: system checks, database reachable, migrations applied."""

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor


class Command(BaseCommand):
    help = "Run Django's system checks, then make sure the database answers and is up to date."

    def handle(self, *args, **options):
        call_command("check", stdout=self.stdout, stderr=self.stderr)
        connection = connections[DEFAULT_DB_ALIAS]
        try:
            connection.ensure_connection()
        except Exception as exc:
            raise CommandError(
                f"Cannot reach the {connection.vendor} database: {exc}. "
                "Check PATRON_DATABASE_URL (empty means SQLite in PATRON_DATA_DIR)."
            ) from exc
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
        where = connection.settings_dict["NAME"]
        if pending:
            raise CommandError(
                f"The {connection.vendor} database {where} answers but has {len(pending)} "
                "migration(s) to apply. Run `patron migrate`."
            )
        self.stdout.write(f"Database OK: {connection.vendor} ({where}), all migrations applied.")
