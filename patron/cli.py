"""The `patron` command: a thin front to Patron's management commands.

    patron serve         serve on PATRON_HOST:PATRON_PORT (default 127.0.0.1:8000)
    patron migrate       create or update the database tables
    patron createowner   create the first Owner and print its password once
    patron demo          load the demo data into an empty database
    patron check         system checks, database reachable, migrations applied
    patron worker        run background jobs from PATRON_BROKER_URL (Redis or RabbitMQ)
    patron bench         time Patron beside hand-written SQL on a scratch database
    patron backup        copy the database safely while Patron runs (docs/backup.md)
    patron restore FILE  put a backup back in place of the database
    patron manage ...    any other management command (e.g. `patron manage shell`)

Settings come from environment variables; a `.env` file in the current
directory is read first, without overriding variables already set.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

# `patron <name>` -> management command; everything else passes through unchanged.
ALIASES = {"check": "healthcheck"}

USAGE = __doc__.split("\n\n")[1]


def load_env_file(path: Path, environ=os.environ) -> list[str]:
    """Set the KEY=VALUE lines of `path` that are not already set; return their names."""
    if not path.is_file():
        return []
    loaded = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        key, value = key.strip(), value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if key and key not in environ:
            environ[key] = value
            loaded.append(key)
    return loaded


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print("Usage: patron <command> [options]\n\nCommands:")
        print(USAGE)
        print("\n`patron <command> --help` describes a command's options.")
        return
    load_env_file(Path.cwd() / ".env")
    os.environ["DJANGO_SETTINGS_MODULE"] = "patron.settings"
    if argv[0] == "worker":
        # Every option after `worker` belongs to `celery worker`, so no Django parser here.
        import django

        django.setup()
        from patron.jobs.runner import run_celery_worker

        sys.exit(run_celery_worker(argv[1:]))
    if argv[0] == "manage":
        argv = argv[1:] or ["help"]
    else:
        argv[0] = ALIASES.get(argv[0], argv[0])

    from django.core.management import execute_from_command_line

    execute_from_command_line(["patron", *argv])


if __name__ == "__main__":
    main()
