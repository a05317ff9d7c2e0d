"""Jobs picked up by real workers: the embedded thread, and Celery over Redis and RabbitMQ.

The Celery tests need the servers on this machine; they skip when a server is
not reachable, unless PATRON_REQUIRE_SERVICES=1 (CI), where they fail instead.
"""

import os
import socket
import threading
import uuid
from pathlib import Path

import pytest
from celery import Celery
from celery.contrib.testing.worker import start_worker

from patron.core.actor import Actor
from patron.customers.models import CustomerTag
from patron.events.models import Event
from patron.jobs import dispatch, runner, services
from patron.jobs.models import Job
from patron.jobs.services import job_enqueue
from tests.factories import CustomerFactory, TagFactory

REPO_ROOT = Path(__file__).resolve().parent.parent
REDIS_URL = os.environ.get("PATRON_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
AMQP_URL = os.environ.get("PATRON_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672//")


def require_server(name: str, host: str, port: int) -> None:
    """Skip when the server is down, or fail when PATRON_REQUIRE_SERVICES=1."""
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        message = f"{name} is not reachable at {host}:{port}"
        if os.environ.get("PATRON_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message} and PATRON_REQUIRE_SERVICES=1")
        pytest.skip(message)


@pytest.fixture
def finished_runs(monkeypatch):
    """An Event set each time a worker finishes `job_run`, so tests wait without polling.

    Reading the job table while a worker thread writes it would contend for
    SQLite's lock on the shared in-memory test database.
    """
    done = threading.Event()
    real_run = services.job_run

    def run_and_signal(job_id):
        try:
            return real_run(job_id)
        finally:
            done.set()

    monkeypatch.setattr(services, "job_run", run_and_signal)
    return done


def start_bulk_tag(owner):
    tag = TagFactory(name="VIP")
    customers = [CustomerFactory() for _ in range(3)]
    job = job_enqueue(
        actor=Actor(user=owner),
        kind="customers.bulk_add_tag",
        params={"tag": tag.pk, "ids": [c.pk for c in customers]},
    )
    return job, tag, customers


def assert_ran_once(job, tag, customers):
    job.refresh_from_db()
    assert (job.state, job.percent, job.attempts, job.error) == ("succeeded", 100, 1, "")
    assert set(CustomerTag.objects.filter(tag=tag).values_list("customer_id", flat=True)) == {
        c.pk for c in customers
    }
    assert Event.objects.filter(action="tags_changed").count() == 3


@pytest.mark.django_db(transaction=True)
def test_embedded_worker_thread_picks_up_a_queued_job(owner, finished_runs):
    """With no broker, the thread `patron serve` starts runs queued jobs from the table."""
    job, tag, customers = start_bulk_tag(owner)
    worker = runner.start_embedded_worker(poll_interval=0.05)
    try:
        assert worker is not None and worker.is_alive()
        assert runner.start_embedded_worker() is worker
        assert finished_runs.wait(15), "the embedded worker did not run the job"
    finally:
        runner.stop_embedded_worker()
    assert not worker.is_alive()
    assert_ran_once(job, tag, customers)


def test_no_embedded_worker_when_a_broker_is_configured(settings):
    """With PATRON_BROKER_URL set, `patron serve` leaves jobs to `patron worker`."""
    settings.PATRON_BROKER_URL = REDIS_URL
    assert runner.start_embedded_worker() is None


def test_patron_worker_refuses_to_start_without_a_broker(settings, capsys):
    """`patron worker` explains that the embedded worker runs jobs when no broker is set."""
    settings.PATRON_BROKER_URL = ""
    assert runner.run_celery_worker([]) == 2
    assert "PATRON_BROKER_URL is not set" in capsys.readouterr().out


def test_celery_app_takes_its_broker_and_safety_settings_from_django(settings):
    """Jobs are acknowledged after they run, so a worker that dies gives its job back."""
    from patron.celery import app

    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert "patron.jobs.run" in app.tasks


def test_the_celery_app_knows_the_job_task_without_a_worker():
    """A fresh process that imports only the Celery app can send and inspect `patron.jobs.run`.

    Whether the task was registered must not depend on which module a test (or
    a web process) happened to import first.
    """
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", "from patron.celery import app; print(sorted(app.tasks))"],
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "patron.settings",
            "PYTHONPATH": str(REPO_ROOT),
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "'patron.jobs.run'" in result.stdout


def _run_with_celery(url, owner, finished_runs, monkeypatch, settings):
    test_app = Celery("patron-tests", broker=url, set_as_current=False)
    test_app.conf.update(
        task_default_queue=f"patron-tests-{uuid.uuid4().hex[:8]}",
        task_acks_late=True,
        task_ignore_result=True,
        broker_connection_retry_on_startup=False,
        worker_hijack_root_logger=False,
    )
    test_app.autodiscover_tasks(["patron.jobs"], force=True)
    settings.PATRON_BROKER_URL = url
    monkeypatch.setattr(dispatch, "celery_app", lambda: test_app)
    with start_worker(
        test_app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30
    ):
        job, tag, customers = start_bulk_tag(owner)
        assert finished_runs.wait(20), f"no Celery worker ran the job sent through {url}"
    assert_ran_once(job, tag, customers)
    assert Job.objects.count() == 1


@pytest.mark.services("redis")
@pytest.mark.django_db(transaction=True)
def test_celery_worker_over_redis_runs_the_job(owner, finished_runs, monkeypatch, settings):
    """job_enqueue sends the job id through Redis; a real Celery worker runs it once."""
    require_server("Redis", "127.0.0.1", 6379)
    _run_with_celery(REDIS_URL, owner, finished_runs, monkeypatch, settings)


@pytest.mark.services("rabbitmq")
@pytest.mark.django_db(transaction=True)
def test_celery_worker_over_rabbitmq_runs_the_job(owner, finished_runs, monkeypatch, settings):
    """job_enqueue sends the job id through RabbitMQ; a real Celery worker runs it once."""
    require_server("RabbitMQ", "127.0.0.1", 5672)
    _run_with_celery(AMQP_URL, owner, finished_runs, monkeypatch, settings)


WORKER_SCRIPT = r"""
import os, sys, time
import django

django.setup()
from django.conf import settings
from patron.core.actor import Actor
from patron.customers.models import Customer
from patron.jobs import services
from patron.jobs.registry import job_type
from patron.bulk.bulk_tag import run_former_bulk_tag
from patron.bulk.engine import run_bulk_action, validator
from patron.statuses.models import Status
from patron.tags.models import Tag


def pause():
    if os.environ.get("PAUSE_FILE"):
        open(os.environ["PAUSE_FILE"], "w").close()
        time.sleep(120)


@job_type("tests.slow_former_bulk_tag")
def slow_former_bulk_tag(job, context):
    summary = run_former_bulk_tag(job, context)
    pause()
    return summary


@job_type("tests.slow_bulk_add_tag", validate=validator("add_tag"))
def slow_bulk_add_tag(job, context):
    summary = run_bulk_action("add_tag", job, context)
    pause()
    return summary


mode = sys.argv[1]
if mode == "setup":
    status = Status.objects.first()
    ids = [
        Customer.objects.create(account_number=f"K{n}", name=f"Kim {n}", status=status).pk
        for n in range(3)
    ]
    tag = Tag.objects.create(name="VIP")
    kind = sys.argv[2]
    job = services.job_enqueue(
        actor=Actor.system_actor("tests"),
        kind=kind,
        params={"tag": tag.pk, "customers" if kind == "tests.slow_former_bulk_tag" else "ids": ids},
    )
    print(job.pk)
elif mode == "run":
    services.job_run(int(sys.argv[2]))
elif mode == "recover":
    print(services.jobs_recover_stale())
elif mode == "counts":
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT state, attempts FROM jobs_job")
        state, attempts = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM customers_customertag")
        links = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM events_event WHERE action = 'tags_changed'")
        events = cursor.fetchone()[0]
    print(f"{state} {attempts} {links} {events}")
"""


@pytest.fixture
def scratch_database(tmp_path):
    """A database of its own for the worker processes: a file on SQLite, or a new PostgreSQL db.

    The test database of this run lives inside its transaction (or in memory),
    where another process cannot see it.
    """
    url = os.environ.get("PATRON_DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield {"PATRON_DATABASE_URL": ""}
        return
    import psycopg
    from django.db import connection

    settings_dict = connection.settings_dict
    name = f"{settings_dict['NAME']}_worker_{uuid.uuid4().hex[:8]}"
    admin = psycopg.connect(
        host=settings_dict["HOST"] or "127.0.0.1",
        port=settings_dict["PORT"] or 5432,
        user=settings_dict["USER"],
        password=settings_dict["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )
    admin.execute(f'CREATE DATABASE "{name}"')
    base = url.rsplit("/", 1)[0]
    try:
        yield {"PATRON_DATABASE_URL": f"{base}/{name}"}
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.mark.parametrize("kind", ["tests.slow_former_bulk_tag", "tests.slow_bulk_add_tag"])
def test_worker_killed_mid_job_leaves_nothing_and_the_retry_applies_once(
    tmp_path, scratch_database, kind
):
    """A worker killed before its job commits leaves no writes; the job runs again exactly once.

    Runs on the database of the test run's kind: a file SQLite database, or a
    scratch PostgreSQL database when PATRON_DATABASE_URL points at one.
    """
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "worker.py"
    script.write_text(WORKER_SCRIPT)
    env = {
        **os.environ,
        **scratch_database,
        "PATRON_DATA_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "patron.settings",
        "PATRON_BROKER_URL": "",
        "PYTHONPATH": str(REPO_ROOT),
    }
    python = [sys.executable]

    def run(*args, **extra):
        result = subprocess.run(
            [*python, str(script), *args],
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    migrate = subprocess.run(
        [*python, "-m", "django", "migrate", "-v0"], env=env, capture_output=True, timeout=300
    )
    assert migrate.returncode == 0, migrate.stderr
    job_id = run("setup", kind)
    pause = tmp_path / "paused"
    worker = subprocess.Popen(
        [*python, str(script), "run", job_id],
        env={**env, "PAUSE_FILE": str(pause)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not pause.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert pause.exists(), "the worker never reached the middle of the job"
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    time.sleep(0.2)  # PostgreSQL notices the closed connection and rolls back

    assert run("counts") == "running 1 0 0"
    assert run("recover", PATRON_JOB_STALE_SECONDS="0") == f"[{job_id}]"
    run("run", job_id)
    assert run("counts") == "succeeded 2 3 3"
    run("run", job_id)
    assert run("counts") == "succeeded 2 3 3"


# --- `patron worker` exactly as docs/jobs.md starts it, from the pinned requirements only ---

PINNED_ONLY = r'''
"""Imports only what `pip install -r requirements.txt` installs (tests/test_jobs_workers.py).

A module of an installed distribution that requirements.txt neither pins nor
pulls in (pytest, or packaging before it was pinned) cannot be imported, as
on a fresh install.
"""
import importlib.metadata
import os
import re
import sys

_ALLOWED = set(os.environ["PATRON_TEST_PINNED"].split(","))
_OWNERS = importlib.metadata.packages_distributions()


def _canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


class _PinnedOnly:
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top in sys.stdlib_module_names:
            return None
        owners = _OWNERS.get(top)
        if not owners or any(_canonical(owner) in _ALLOWED for owner in owners):
            return None
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)


sys.meta_path.insert(0, _PinnedOnly())
'''


def pinned_distributions() -> set[str]:
    """What a fresh `pip install -r requirements.txt` installs: the pins and, with their
    extras and this platform's markers, everything they declare, recursively."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pending = []
    for raw in (REPO_ROOT / "requirements.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            pending.append((Requirement(line), ""))
    extras: dict[str, set[str]] = {}
    while pending:
        requirement, parent_extra = pending.pop()
        if requirement.marker and not requirement.marker.evaluate({"extra": parent_extra}):
            continue
        name = canonicalize_name(requirement.name)
        new = set(requirement.extras) - extras.get(name, set())
        if name in extras and not new:
            continue
        first = name not in extras
        extras.setdefault(name, set()).update(requirement.extras)
        for declared in metadata.requires(requirement.name) or []:
            dependency = Requirement(declared)
            for extra in ([""] if first else []) + sorted(new):
                pending.append((dependency, extra))
    return {*extras, "patron"}


def documented_worker_command() -> list[str]:
    """The worker command of docs/jobs.md: `PATRON_BROKER_URL=redis://… patron worker`."""
    text = (REPO_ROOT / "docs" / "jobs.md").read_text()
    lines = [
        line.strip() for line in text.splitlines() if line.startswith("    PATRON_BROKER_URL=")
    ]
    assert lines, "docs/jobs.md no longer shows how to start a worker"
    assignment, *command = lines[0].split()
    assert assignment.startswith("PATRON_BROKER_URL=redis://"), lines[0]
    assert command == ["patron", "worker"], lines[0]
    return command


@pytest.fixture
def pinned_only(tmp_path):
    """Environment in which a process imports only the pinned distributions."""
    folder = tmp_path / "pinned-only"
    folder.mkdir()
    (folder / "sitecustomize.py").write_text(PINNED_ONLY)
    return {
        "PYTHONPATH": str(folder),
        "PATRON_TEST_PINNED": ",".join(sorted(pinned_distributions())),
    }


def test_pinned_only_processes_cannot_import_what_requirements_txt_lacks(pinned_only):
    """The harness below would have caught the missing `packaging` pin: the test tools and
    anything else not installed by requirements.txt cannot be imported."""
    import subprocess
    import sys

    code = (
        "import packaging.version, celery, kombu.transport.redis\n"
        "try:\n    import pytest\nexcept ModuleNotFoundError as e:\n    print(e)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, **pinned_only},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "No module named 'pytest'"
    assert "packaging" in pinned_only["PATRON_TEST_PINNED"].split(",")


SITE_SETUP = r"""
import django
django.setup()
from patron.accounts.models import ApiToken, Role
from patron.customers.models import Customer
from patron.statuses.models import Status
from patron.tags.models import Tag
from tests.factories import user_with_role

owner = user_with_role(Role.OWNER, username="olivia")
key = ApiToken.generate_key()
token = ApiToken(user=owner, name="worker test")
token.set_key(key)
token.save()
status = Status.objects.first()
ids = [
    Customer.objects.create(account_number=f"W{n}", name=f"Wren {n}", status=status).pk
    for n in range(3)
]
print(key, Tag.objects.create(name="VIP").pk, ",".join(map(str, ids)))
"""


@pytest.mark.parametrize(
    "broker", ["redis://127.0.0.1:6379/12", AMQP_URL], ids=["redis", "rabbitmq"]
)
def test_patron_worker_started_as_documented_runs_a_job_from_the_web_api(
    tmp_path, scratch_database, pinned_only, broker
):
    """A fresh install's worker: `PATRON_BROKER_URL=… patron worker`, as docs/jobs.md says,
    importing only what requirements.txt installs, takes the job `patron serve` answered
    202 for, and the API then shows it succeeded."""
    import json
    import signal
    import subprocess
    import sys
    import time
    import urllib.request

    if broker.startswith("redis"):
        require_server("Redis", "127.0.0.1", 6379)
        import redis

        redis.Redis.from_url(broker).flushdb()  # no job id left from an earlier run
    else:
        require_server("RabbitMQ", "127.0.0.1", 5672)
    patron = Path(sys.executable).with_name("patron")
    assert patron.exists(), f"{patron} is missing: install Patron with `make run` first"
    env = {
        **os.environ,
        **scratch_database,
        "PATRON_DATA_DIR": str(tmp_path / "var"),
        "PATRON_BROKER_URL": broker,
        "PATRON_LOG_LEVEL": "WARNING",
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    migrate = subprocess.run(
        [str(patron), "migrate", "-v0"], env=env, capture_output=True, text=True, timeout=300
    )
    assert migrate.returncode == 0, migrate.stderr
    setup = subprocess.run(
        [sys.executable, "-c", SITE_SETUP],
        env={**env, "DJANGO_SETTINGS_MODULE": "patron.settings", "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert setup.returncode == 0, setup.stderr
    key, tag, customers = setup.stdout.split()

    fresh = {**env, **pinned_only}
    worker_argv = [str(patron), *documented_worker_command()[1:]]
    logs = tmp_path / "logs"
    logs.mkdir()
    worker_log = open(logs / "worker.log", "w+")  # noqa: SIM115 - closed below
    worker = subprocess.Popen(worker_argv, env=fresh, stdout=worker_log, stderr=subprocess.STDOUT)
    server = subprocess.Popen(
        [str(patron), "serve", "--port", "0", "--no-scheduler"],
        env=fresh,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline()
        assert "background jobs run on `patron worker` processes" in line, (
            line + server.stderr.read()
        )
        port = int(line.split("http://127.0.0.1:", 1)[1].split("/", 1)[0])
        base = f"http://127.0.0.1:{port}"
        headers = {"Authorization": f"Token {key}", "Content-Type": "application/json"}

        def call(path, body=None):
            request = urllib.request.Request(
                base + path,
                data=json.dumps(body).encode() if body is not None else None,
                headers=headers,
            )
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())

        body = {"tag": int(tag), "action": "add", "customers": list(map(int, customers.split(",")))}
        status, job = call("/api/jobs/bulk-tag/", body)
        assert (status, job["state"]) == (202, "queued")
        deadline = time.monotonic() + 90
        while job["state"] in ("queued", "running"):
            if worker.poll() is not None:
                worker_log.seek(0)
                pytest.fail(f"`patron worker` stopped ({worker.returncode}):\n{worker_log.read()}")
            assert time.monotonic() < deadline, f"the job never finished: {job}"
            time.sleep(0.5)
            job = call(f"/api/jobs/{job['id']}/")[1]
        assert (job["state"], job["attempts"], job["error"]) == ("succeeded", 1, ""), job
        assert job["result_summary"]["changed"] == 3, job["result_summary"]
    finally:
        for process in (server, worker):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in (server, worker):
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        worker_log.seek(0)
        output = worker_log.read()
        worker_log.close()
    assert worker.returncode == 0, output
    assert "No module named" not in output, output
