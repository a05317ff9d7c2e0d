"""SIGTERM stops `patron serve` and `patron worker` gracefully (issue #15, item 13).

Each test starts the real command as a subprocess on a database of its own (a
copy of one migrated SQLite file, or a PostgreSQL database made from a
migrated template when the run is on PostgreSQL), starts a slow request and
a slow job, sends SIGTERM and checks that the request is answered, that the
process exits within PATRON_SHUTDOWN_GRACE_SECONDS, and that the running job
went back to the queue without using up an attempt.

A small app in a temporary directory adds the slow request (`/tests/slow/`)
and the slow job type (`tests.slow`, a checkpoint every 0.1 s); the server is
started as `python -m django serve` with settings that add that app, which
runs the very command `patron serve` runs.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
GRACE = 15

SLOW_APP = {
    "slowapp/__init__.py": "",
    "slowapp/jobs.py": """
import os
import time

from patron.jobs.registry import job_type


@job_type("tests.slow", label="Slow test job")
def slow(job, context):
    total = int(job.params.get("steps", 600))
    pause = float(job.params.get("step_seconds", 0.1))
    for step in range(total):
        context.check_cancelled()
        context.progress(step, total)
        if step == 0 and os.environ.get("SLOW_JOB_STARTED"):
            open(os.environ["SLOW_JOB_STARTED"], "w").close()
        time.sleep(pause)
    return {"message": "The slow job ran to the end."}
""",
    "slowapp/urls.py": """
import os
import time

from django.http import HttpResponse
from django.urls import include, path


def slow(request):
    open(os.environ["SLOW_REQUEST_STARTED"], "w").close()
    time.sleep(float(request.GET.get("seconds", "3")))
    return HttpResponse("slow request answered")


urlpatterns = [path("tests/slow/", slow), path("", include("patron.urls"))]
""",
    "slow_settings.py": """
from patron.settings import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "slowapp"]  # noqa: F405
ROOT_URLCONF = "slowapp.urls"
""",
}

ENQUEUE = """
import django
django.setup()
from patron.core.actor import Actor
from patron.jobs.services import job_enqueue
print(job_enqueue(actor=Actor.system_actor("tests"), kind="tests.slow", params={}).pk)
"""

JOB_ROW = """
import sys
import django
django.setup()
from patron.jobs.models import Job
job = Job.objects.get(pk=int(sys.argv[1]))
print(job.state, job.attempts, job.worker or "-", job.error, sep="|")
"""


def _postgres_url() -> str:
    url = os.environ.get("PATRON_DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else ""


def _pg_admin():
    import psycopg
    from django.db import connection

    s = connection.settings_dict
    return psycopg.connect(
        host=s["HOST"] or "127.0.0.1",
        port=s["PORT"] or 5432,
        user=s["USER"],
        password=s["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """The slow app, and one migrated database that every test copies."""
    root = tmp_path_factory.mktemp("serve-shutdown")
    code = root / "code"
    for name, text in SLOW_APP.items():
        (code / name).parent.mkdir(parents=True, exist_ok=True)
        (code / name).write_text(text)
    data = root / "template-data"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "slow_settings",
        "PYTHONPATH": f"{code}{os.pathsep}{REPO_ROOT}",
        "PATRON_DATA_DIR": str(data),
        "PATRON_DATABASE_URL": "",
        "PATRON_BROKER_URL": "",
        "PATRON_SHUTDOWN_GRACE_SECONDS": str(GRACE),
        "PATRON_LOG_LEVEL": "WARNING",
    }
    template = None
    pg_url = _postgres_url()
    if pg_url:
        from django.db import connection

        template = f"{connection.settings_dict['NAME']}_serve_{uuid.uuid4().hex[:8]}"
        with _pg_admin() as admin:
            admin.execute(f'CREATE DATABASE "{template}"')
        env["PATRON_DATABASE_URL"] = f"{pg_url.rsplit('/', 1)[0]}/{template}"
    result = subprocess.run(
        [sys.executable, "-m", "django", "migrate", "-v0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    try:
        yield {"env": env, "root": root, "template": template, "pg_url": pg_url}
    finally:
        if template:
            with _pg_admin() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')


@pytest.fixture
def site(migrated, tmp_path):
    """A fresh copy of the migrated database and the environment to run commands on it."""
    data = tmp_path / "data"
    shutil.copytree(migrated["env"]["PATRON_DATA_DIR"], data)
    env = {**migrated["env"], "PATRON_DATA_DIR": str(data)}
    name = None
    if migrated["template"]:
        name = f"{migrated['template']}_{uuid.uuid4().hex[:6]}"
        with _pg_admin() as admin:
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{migrated["template"]}"')
        env["PATRON_DATABASE_URL"] = f"{migrated['pg_url'].rsplit('/', 1)[0]}/{name}"
    env["SLOW_JOB_STARTED"] = str(tmp_path / "job-started")
    env["SLOW_REQUEST_STARTED"] = str(tmp_path / "request-started")
    try:
        yield env
    finally:
        if name:
            with _pg_admin() as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def python(env, code: str, *args) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def wait_for(path: str, process: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not Path(path).exists():
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the process stopped early ({process.returncode}):\n{out}\n{err}")
        assert time.monotonic() < deadline, f"{path} was never written"
        time.sleep(0.05)


def start_serve(env, *args) -> tuple[subprocess.Popen, int]:
    """`serve --port 0`; the port comes from the line it prints once it listens."""
    process = subprocess.Popen(
        [sys.executable, "-m", "django", "serve", "--port", "0", "--no-scheduler", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = process.stdout.readline()
    if "serving at" not in line:
        process.kill()
        pytest.fail(f"serve did not start: {line}{process.stderr.read()}")
    port = int(line.split("http://127.0.0.1:", 1)[1].split("/", 1)[0])
    return process, port


def wait_until_answering(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5):
                return
        except OSError:
            assert time.monotonic() < deadline, "the server never answered"
            time.sleep(0.2)


def slow_request(port: int, seconds: float) -> dict:
    """GET /tests/slow/ in a thread; the dict gets `status` and `body`, or `error`."""
    outcome = {}

    def run():
        try:
            url = f"http://127.0.0.1:{port}/tests/slow/?seconds={seconds}"
            with urllib.request.urlopen(url, timeout=60) as response:
                outcome.update(status=response.status, body=response.read().decode())
        except Exception as exc:  # noqa: BLE001 - the test reports it
            outcome["error"] = repr(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    outcome["thread"] = thread
    return outcome


def assert_handed_back(env, job_id: str) -> None:
    state, attempts, worker, error = python(env, JOB_ROW, job_id).split("|", 3)
    assert (state, attempts, worker) == ("queued", "0", "-"), error
    assert "handed the job back" in error


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return True
    return False


@pytest.mark.parametrize("workers", ["1", "2"], ids=["waitress", "gunicorn-2-workers"])
def test_sigterm_answers_the_request_in_hand_and_hands_the_job_back(site, workers):
    """SIGTERM: the slow request is answered, the job goes back queued, the process exits."""
    job_id = python(site, ENQUEUE)
    server, port = start_serve(site, "--workers", workers)
    try:
        wait_until_answering(port)
        wait_for(site["SLOW_JOB_STARTED"], server)  # the embedded worker has the job
        request = slow_request(port, seconds=3)
        wait_for(site["SLOW_REQUEST_STARTED"], server)
        stopped_at = time.monotonic()
        server.send_signal(signal.SIGTERM)
        out, err = server.communicate(timeout=GRACE + 10)
        took = time.monotonic() - stopped_at
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    request["thread"].join(10)
    assert server.returncode == 0, err
    assert took < GRACE, f"serve took {took:.1f} s to stop (grace {GRACE} s)"
    assert request.get("status") == 200, request
    assert request["body"] == "slow request answered"
    assert "Stopped." in out
    assert refused(port)
    assert_handed_back(site, job_id)


def test_the_next_serve_runs_the_handed_back_job(site):
    """The job handed back at SIGTERM is taken again by the next `serve` and finishes."""
    job_id = python(site, ENQUEUE)
    server, port = start_serve(site)
    try:
        wait_for(site["SLOW_JOB_STARTED"], server)
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=GRACE + 10)
    finally:
        if server.poll() is None:
            server.kill()
    assert_handed_back(site, job_id)
    python(
        site,
        "import django; django.setup(); from patron.jobs.models import Job; "
        "Job.objects.update(params={'steps': 3})",
    )
    server, port = start_serve(site)
    try:
        deadline = time.monotonic() + 60
        while python(site, JOB_ROW, job_id).split("|")[0] != "succeeded":
            assert time.monotonic() < deadline, python(site, JOB_ROW, job_id)
            time.sleep(0.5)
    finally:
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=GRACE + 10)
    state, attempts, _worker, error = python(site, JOB_ROW, job_id).split("|", 3)
    assert (state, attempts, error) == ("succeeded", "1", "")


def test_sigterm_with_a_job_that_never_checks_in_stops_within_the_grace_period(site):
    """A job step longer than the grace period does not hold `serve` up beyond it."""
    site = {**site, "PATRON_SHUTDOWN_GRACE_SECONDS": "3"}
    job_id = python(site, ENQUEUE.replace("params={}", "params={'steps': 3, 'step_seconds': 60}"))
    server, _port = start_serve(site)
    try:
        wait_for(site["SLOW_JOB_STARTED"], server)
        stopped_at = time.monotonic()
        server.send_signal(signal.SIGTERM)
        server.communicate(timeout=20)
        took = time.monotonic() - stopped_at
    finally:
        if server.poll() is None:
            server.kill()
    assert server.returncode == 0
    assert took < 3 + 5, f"serve took {took:.1f} s to stop (grace 3 s)"
    # Still marked running: the sweep queues it again once its heartbeat is stale.
    assert python(site, JOB_ROW, job_id).split("|")[:2] == ["running", "1"]


@pytest.mark.services("redis")
@pytest.mark.parametrize("step_seconds", [0.1, 60], ids=["at-its-checkpoint", "after-the-grace"])
def test_patron_worker_hands_its_running_job_back_on_sigterm(site, step_seconds):
    """`patron worker` (prefork pool) on SIGTERM: the job goes back queued, attempts unchanged.

    A job that reaches a checkpoint hands itself back; one still inside a step
    when the grace period ends is killed with its pool process, and the worker
    hands it back (its transaction died with the process).
    """
    from tests.test_jobs_workers import require_server

    require_server("Redis", "127.0.0.1", 6379)
    import redis

    url = "redis://127.0.0.1:6379/13"
    redis.Redis.from_url(url).flushdb()  # no message left from an earlier run
    grace = GRACE if step_seconds < 1 else 3
    env = {**site, "PATRON_BROKER_URL": url, "PATRON_SHUTDOWN_GRACE_SECONDS": str(grace)}
    worker = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, django; django.setup(); from patron.jobs.runner import "
            "run_celery_worker; sys.exit(run_celery_worker(sys.argv[1:]))",
            "--concurrency=1",
            "--without-mingle",
            "--without-gossip",
            f"--hostname=tests-{uuid.uuid4().hex[:8]}@%h",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        job_id = python(
            env, ENQUEUE.replace("params={}", f"params={{'step_seconds': {step_seconds}}}")
        )
        wait_for(env["SLOW_JOB_STARTED"], worker)
        stopped_at = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        out, _ = worker.communicate(timeout=GRACE + 10)
        took = time.monotonic() - stopped_at
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    assert worker.returncode == 0, out
    assert took < grace + 3, out
    assert_handed_back(env, job_id)


def test_web_workers_reads_a_number_or_auto():
    from django.core.management import CommandError

    from patron.ops.management.commands.serve import web_workers

    assert web_workers("3") == 3
    assert web_workers(None) == 1
    assert web_workers(" AUTO ") == (os.cpu_count() or 1)
    for bad in ("0", "-2", "many"):
        with pytest.raises(CommandError, match="PATRON_WEB_WORKERS"):
            web_workers(bad)
