"""The `patron` command line: createowner, demo, check, serve and the dispatcher."""

import io
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from patron import cli
from patron.accounts.models import LoginFailure, Role, User
from patron.customers.models import Customer
from patron.events.models import Event
from tests.factories import user_with_role

PASSWORD_LINE = re.compile(r"Password: ([a-z2-9]{4}(?:-[a-z2-9]{4}){3})$", re.M)
ROOT = Path(__file__).resolve().parent.parent


def run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


# --- createowner -------------------------------------------------------------------


@pytest.mark.django_db
def test_createowner_creates_owner_and_prints_password_once():
    """The first run creates `owner` with the Owner role and prints a working password."""
    output = run("createowner")

    password = PASSWORD_LINE.search(output).group(1)
    assert "Username: owner" in output
    assert "URL:      http://127.0.0.1:8000/" in output
    user = User.objects.get(username="owner")
    assert user.is_owner is True
    assert authenticate(username="owner", password=password) == user
    event = Event.objects.get(action="created", object_id=str(user.pk))
    assert (event.actor_kind, event.actor_label) == ("system", "patron createowner")


@pytest.mark.django_db
def test_createowner_again_says_the_owner_exists_and_how_to_reset():
    """A second run changes nothing and tells how to get a new password."""
    password = PASSWORD_LINE.search(run("createowner")).group(1)

    output = run("createowner")

    assert output.strip() == (
        "An Owner already exists (owner). Sign in with the password printed when it was "
        "created. Forgotten it? Run `patron createowner --reset` to print a new one."
    )
    assert PASSWORD_LINE.search(output) is None
    assert User.objects.filter(role__is_owner=True).count() == 1
    assert authenticate(username="owner", password=password) is not None


@pytest.mark.django_db
def test_createowner_reset_prints_a_new_password_and_unlocks_the_login():
    """--reset replaces the password (the old one stops working) and clears failed logins."""
    old = PASSWORD_LINE.search(run("createowner")).group(1)
    LoginFailure.objects.create(username="owner", address="127.0.0.1")

    output = run("createowner", "--reset")

    new = PASSWORD_LINE.search(output).group(1)
    assert "New Owner password set" in output
    assert new != old
    assert authenticate(username="owner", password=old) is None
    assert authenticate(username="owner", password=new) is not None
    assert LoginFailure.objects.count() == 0


@pytest.mark.django_db
def test_createowner_reset_of_an_unknown_owner_names_the_owners():
    """Resetting a user who is not an Owner fails with the Owners' names; nothing changes."""
    user_with_role(Role.OWNER, username="olivia")
    staff = user_with_role(Role.STAFF, username="sam")
    hash_before = staff.password

    with pytest.raises(CommandError) as caught:
        run("createowner", "--reset", "--username", "sam")

    assert str(caught.value) == (
        "There is no active Owner named “sam”. Owners: olivia; pass one with --username."
    )
    staff.refresh_from_db()
    assert staff.password == hash_before


@pytest.mark.django_db
def test_createowner_when_another_owner_exists_creates_nothing():
    """An existing active Owner with another name counts as the first Owner."""
    user_with_role(Role.OWNER, username="olivia")

    output = run("createowner")

    assert output.startswith("An Owner already exists (olivia).")
    assert not User.objects.filter(username="owner").exists()


# --- demo --------------------------------------------------------------------------


@pytest.mark.django_db
def test_demo_command_loads_once_and_refuses_a_second_time():
    """`patron demo` loads; a second run is refused with the count and adds nothing."""
    output = run("demo", "--customers", "6")

    assert "Loaded 6 customers with" in output
    with pytest.raises(CommandError) as caught:
        run("demo", "--customers", "6")
    assert str(caught.value) == (
        "The database already holds 6 customer(s), so the demo data was not loaded. "
        "Use --force to add the demo customers anyway."
    )
    assert Customer.objects.count() == 6


@pytest.mark.django_db
def test_demo_if_empty_skips_quietly_and_force_adds():
    """--if-empty succeeds without loading when customers exist; --force adds more."""
    run("demo", "--customers", "4")

    skipped = run("demo", "--if-empty", "--customers", "4")
    assert skipped.strip() == "Demo data not loaded: the database already holds 4 customer(s)."
    assert Customer.objects.count() == 4

    run("demo", "--force", "--customers", "3")
    assert Customer.objects.count() == 7


# --- check -------------------------------------------------------------------------


@pytest.mark.django_db
def test_check_reports_the_database_and_migrations():
    """`patron check` runs the system checks and names the database it reached."""
    output = run("healthcheck")

    assert "System check identified no issues" in output
    assert f"Database OK: {connection.vendor} (" in output
    assert output.rstrip().endswith("all migrations applied.")


@pytest.mark.django_db
def test_check_fails_when_migrations_are_pending(monkeypatch):
    """Unapplied migrations are an error that says what to run."""
    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: ["one"])

    with pytest.raises(CommandError, match=r"has 1 migration\(s\) to apply. Run `patron migrate`"):
        run("healthcheck")


def test_tests_run_on_the_configured_database():
    """PATRON_DATABASE_URL=postgres://... really runs the suite on PostgreSQL."""
    url = os.environ.get("PATRON_DATABASE_URL", "")
    expected = "postgresql" if url.startswith(("postgres://", "postgresql://")) else "sqlite"
    assert connection.vendor == expected


# --- the dispatcher ----------------------------------------------------------------


def test_cli_maps_commands_to_management_commands(monkeypatch):
    """`patron check` runs healthcheck; `patron manage X` runs X; others pass through."""
    calls = []
    monkeypatch.setattr(
        "django.core.management.execute_from_command_line", lambda argv: calls.append(argv)
    )
    monkeypatch.chdir(ROOT / "tests")  # no .env here

    cli.main(["check"])
    cli.main(["manage", "shell", "-c", "1"])
    cli.main(["createowner", "--reset"])
    cli.main(["manage"])

    assert calls == [
        ["patron", "healthcheck"],
        ["patron", "shell", "-c", "1"],
        ["patron", "createowner", "--reset"],
        ["patron", "help"],
    ]
    assert os.environ["DJANGO_SETTINGS_MODULE"] == "patron.settings"


def test_cli_worker_passes_every_option_to_celery(monkeypatch):
    """`patron worker --concurrency=4` hands the options to the job runner unparsed."""
    calls = []
    monkeypatch.setattr(
        "patron.jobs.runner.run_celery_worker", lambda argv: calls.append(argv) or 0
    )
    monkeypatch.chdir(ROOT / "tests")

    with pytest.raises(SystemExit) as exited:
        cli.main(["worker", "--concurrency=4", "-Q", "patron"])

    assert exited.value.code == 0
    assert calls == [["--concurrency=4", "-Q", "patron"]]


def test_cli_help_lists_the_commands(capsys):
    """`patron` alone prints the commands Patron adds."""
    cli.main([])

    output = capsys.readouterr().out
    for command in ("serve", "migrate", "createowner", "demo", "check", "worker", "manage"):
        assert f"  patron {command}" in output


def test_env_file_sets_only_missing_variables(tmp_path):
    """A .env fills in unset variables, strips quotes and `export`, skips comments."""
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# comment\n"
        "PATRON_PORT=9001\n"
        "export PATRON_HOST='0.0.0.0'\n"
        'PATRON_TIME_ZONE="Europe/Dublin"\n'
        "\n"
        "not a setting\n"
    )
    environ = {"PATRON_PORT": "8123"}

    loaded = cli.load_env_file(env_file, environ)

    assert loaded == ["PATRON_HOST", "PATRON_TIME_ZONE"]
    assert environ == {
        "PATRON_PORT": "8123",
        "PATRON_HOST": "0.0.0.0",
        "PATRON_TIME_ZONE": "Europe/Dublin",
    }


def test_env_file_missing_is_fine(tmp_path):
    """No .env file: nothing is loaded."""
    assert cli.load_env_file(tmp_path / ".env", {}) == []


# --- serve (a real server process) ---------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def patron_env(tmp_path: Path, port: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PATRON_")}
    env.update(PATRON_DATA_DIR=str(tmp_path / "var"), PATRON_PORT=str(port), PYTHONPATH=str(ROOT))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    return env


def patron(*args, env, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "patron.cli", *args],
        env=env,
        cwd=Path(env["PATRON_DATA_DIR"]).parent,
        capture_output=True,
        text=True,
        timeout=120,
        **kwargs,
    )


def fetch(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.headers.get("Content-Type", ""), response.read()


def test_serve_answers_with_styled_pages_and_static_files(tmp_path):
    """`patron serve` serves the login page and its CSS (no collectstatic) on PATRON_PORT."""
    port = free_port()
    env = patron_env(tmp_path, port)
    migrated = patron("migrate", "--verbosity", "0", env=env)
    assert migrated.returncode == 0, migrated.stderr
    server = subprocess.Popen(
        [sys.executable, "-m", "patron.cli", "serve", "--no-scheduler"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                status, content_type, body = fetch(f"{base}/accounts/login/")
                break
            except OSError:
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "server did not answer within 60 s"
                time.sleep(0.3)
        assert status == 200
        assert content_type.startswith("text/html")
        html = body.decode()
        assert 'href="/static/bootstrap/css/bootstrap.min.css"' in html
        for path in ("/static/bootstrap/css/bootstrap.min.css", "/static/patron/patron.css"):
            status, content_type, body = fetch(base + path)
            assert (status, content_type.split(";")[0]) == (200, "text/css")
            assert len(body) > 100
    finally:
        server.terminate()
        output = server.communicate(timeout=20)[0]
    assert f"Patron is serving at http://127.0.0.1:{port}/ on sqlite" in output


def test_serve_on_a_busy_port_says_how_to_choose_another(tmp_path):
    """A port already taken gives a one-line error naming PATRON_PORT, not a traceback."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = patron("serve", "--no-scheduler", env=patron_env(tmp_path, port))

    assert result.returncode == 1
    assert f"Cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "PATRON_PORT" in result.stderr
    assert "Traceback" not in result.stderr
