"""`patron serve`: the production-grade WSGI server on PATRON_HOST:PATRON_PORT.

One process (the default, `--workers 1`) serves with waitress's threads on
any system. `--workers N` (or PATRON_WEB_WORKERS, `auto` for one per core)
serves with gunicorn's N worker processes on Linux and macOS, so every core
answers requests.

Static files are served by WhiteNoise straight from the installed packages,
so no collectstatic step is needed. Without PATRON_BROKER_URL (the embedded
mode) background jobs run in a thread of this process — with `--workers N`
too: this process starts gunicorn and stays its parent, so jobs and the
status scheduler run exactly once, never in every web worker. With a broker
jobs go to `patron worker` processes. The scheduler's steps are idempotent,
so several `serve` processes (or a separate cron job) never move a customer
twice.

SIGTERM (or Ctrl+C) stops the process gracefully: it stops accepting
connections, finishes the requests in hand, and hands a running job back to
the queue at its next checkpoint, all within PATRON_SHUTDOWN_GRACE_SECONDS.
"""

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from waitress import create_server, wasyncore
from waitress.server import BaseWSGIServer

from patron.jobs.runner import start_embedded_worker, stop_embedded_worker
from patron.ops.schedule import scheduled_pass

logger = logging.getLogger("patron.serve")

# Set for gunicorn's web processes: the pid of the `patron serve` that runs the jobs.
JOBS_PID_VARIABLE = "PATRON_SERVE_JOBS_PID"


def run_scheduler_forever(stop: threading.Event, interval_minutes: int) -> None:
    while not stop.is_set():
        try:
            scheduled_pass()
        except Exception:  # keep serving; the next pass tries again
            logger.exception("Status scheduler pass failed")
        finally:
            connections.close_all()
        stop.wait(interval_minutes * 60)


def web_workers(value) -> int:
    """`--workers` / PATRON_WEB_WORKERS: a number of processes, or `auto` for one per core."""
    text = str(value if value not in (None, "") else "1").strip().lower()
    if text == "auto":
        return os.cpu_count() or 1
    try:
        count = int(text)
    except ValueError:
        count = 0
    if count < 1:
        raise CommandError(
            f"PATRON_WEB_WORKERS (or --workers) must be a number of processes or “auto”, "
            f"not “{value}”."
        )
    return count


def _listen(host: str, port: int) -> socket.socket:
    """Bind the listening socket here, so a port in use is a clear message, not a traceback."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise CommandError(
            f"Cannot listen on {host}:{port} ({exc.strerror or exc}). Is Patron already "
            "running? Choose another port with PATRON_PORT, e.g. PATRON_PORT=8001 make run."
        ) from exc
    return sock


def _stop_with_parent():  # runs in the child between fork and exec; no thread is started yet
    import ctypes  # only here: prctl is Linux's, and only the forked child calls it

    pr_set_pdeathsig = 1
    ctypes.CDLL(None).prctl(pr_set_pdeathsig, signal.SIGTERM)


class _Stop:
    """SIGTERM and SIGINT set `requested`; the server loops check it."""

    def __init__(self):
        self.requested = threading.Event()

    def install(self):
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._handle)

    def _handle(self, signum, frame):
        self.requested.set()


def _drain_waitress(server, deadline: float) -> None:
    """Stop accepting connections, then run the loop until the requests in hand are answered."""
    task_map = server._map
    for listener in [d for d in list(task_map.values()) if isinstance(d, BaseWSGIServer)]:
        wasyncore.dispatcher.close(listener)

    def busy():
        dispatcher = server.task_dispatcher
        if dispatcher.queue or dispatcher.active_count:
            return True
        return any(
            getattr(channel, "requests", None)
            or getattr(channel, "request", None) is not None
            or getattr(channel, "total_outbufs_len", 0)
            for channel in list(task_map.values())
        )

    while busy() and time.monotonic() < deadline:
        wasyncore.loop(timeout=0.1, map=task_map, count=1)
    server.task_dispatcher.shutdown(cancel_pending=True, timeout=1)
    wasyncore.close_all(task_map)


class Command(BaseCommand):
    help = (
        "Serve Patron on PATRON_HOST:PATRON_PORT (default 127.0.0.1:8000): waitress in one "
        "process, or gunicorn with --workers N."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", help="Address to listen on (default: PATRON_HOST).")
        parser.add_argument("--port", type=int, help="Port to listen on (default: PATRON_PORT).")
        parser.add_argument(
            "--threads", type=int, default=8, help="Threads per web process (default 8)."
        )
        parser.add_argument(
            "--workers",
            help="Web processes: a number, or `auto` for one per core (default: "
            "PATRON_WEB_WORKERS, else 1). More than one serves with gunicorn (Linux, macOS).",
        )
        parser.add_argument(
            "--no-scheduler",
            action="store_true",
            help="Do not run the status scheduler in this process (run it from cron instead: "
            "`patron manage run_status_schedule`).",
        )

    def handle(
        self, *args, host=None, port=None, threads=8, workers=None, no_scheduler=False, **options
    ):
        host = host or settings.PATRON_HOST
        port = port if port is not None else settings.PATRON_PORT
        count = web_workers(workers if workers is not None else settings.PATRON_WEB_WORKERS)
        grace = max(0, settings.PATRON_SHUTDOWN_GRACE_SECONDS)
        if count > 1 and sys.platform == "win32":
            raise CommandError(
                "Several web processes need gunicorn, which does not run on Windows. "
                "Use --workers 1 (waitress) and run more `patron serve` processes instead."
            )
        sock = _listen(host, port)
        port = sock.getsockname()[1]  # the one the system chose for --port 0
        stop = _Stop()
        stop.install()
        if count > 1:
            web = self._start_gunicorn(sock, count, threads, grace)
        else:
            # Built only where waitress serves; gunicorn's processes load patron.wsgi themselves.
            from patron.wsgi import application

            web = create_server(application, sockets=[sock], threads=threads)
        jobs, scheduler_stopped = self._start_background(no_scheduler)
        database = connections["default"]
        processes = f" with {count} web processes" if count > 1 else ""
        self.stdout.write(
            f"Patron is serving at http://{host}:{port}/{processes} on {database.vendor} "
            f"(data in {settings.DATA_DIR}; background jobs run {jobs}). Press Ctrl+C to stop."
        )
        self.stdout.flush()
        try:
            if count > 1:
                while not stop.requested.is_set() and web.poll() is None:
                    stop.requested.wait(0.5)
            else:
                while not stop.requested.is_set():
                    web.asyncore.loop(timeout=web.adj.asyncore_loop_timeout, map=web._map, count=1)
        finally:
            self._shut_down(web, grace, scheduler_stopped)
        if count > 1 and web.returncode not in (0, -signal.SIGTERM) and not stop.requested.is_set():
            raise CommandError(f"gunicorn stopped unexpectedly (exit status {web.returncode}).")

    def _start_gunicorn(self, sock, count: int, threads: int, grace: int):
        """gunicorn as a child on the socket bound here; this process keeps jobs and scheduler."""
        level = os.environ.get("PATRON_LOG_LEVEL", "WARNING").lower()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            f"--bind=fd://{sock.fileno()}",
            f"--workers={count}",
            f"--threads={threads}",
            "--worker-class=gthread",
            f"--graceful-timeout={grace}",
            f"--log-level={level}",
            # Every request is logged at PATRON_LOG_LEVEL=INFO, naming the worker that answered.
            '--access-logformat=%(h)s %(t)s "%(r)s" %(s)s %(b)s %(M)sms pid=%(p)s',
            *(["--access-logfile=-"] if level in ("info", "debug") else []),
            "patron.wsgi:application",
        ]
        # Django's connections must not be shared with the child: none is open yet here.
        connections.close_all()
        try:
            # Its own session, so Ctrl+C reaches only this process, which stops gunicorn
            # gracefully; on Linux it also stops if this process is killed outright.
            process = subprocess.Popen(
                command,
                # The web processes know which process runs the jobs: its jobs are alive.
                env={**os.environ, JOBS_PID_VARIABLE: str(os.getpid())},
                pass_fds=[sock.fileno()],
                start_new_session=True,
                preexec_fn=_stop_with_parent if sys.platform.startswith("linux") else None,
            )
        except OSError as exc:
            raise CommandError(f"Could not start gunicorn ({exc}).") from exc
        sock.close()
        return process

    def _start_background(self, no_scheduler: bool):
        embedded = start_embedded_worker()
        scheduler_stopped = threading.Event()
        if not no_scheduler:
            threading.Thread(
                target=run_scheduler_forever,
                args=(scheduler_stopped, 60),
                name="status-scheduler",
                daemon=True,
            ).start()
        jobs = "in this process" if embedded is not None else "on `patron worker` processes"
        return jobs, scheduler_stopped

    def _shut_down(self, web, grace: int, scheduler_stopped: threading.Event) -> None:
        """Requests in hand and the job step in hand get `grace` seconds, side by side."""
        deadline = time.monotonic() + grace
        self.stdout.write(f"Stopping: finishing the requests in hand (at most {grace} seconds)…")
        self.stdout.flush()
        scheduler_stopped.set()
        jobs = threading.Thread(
            target=stop_embedded_worker, kwargs={"timeout": grace}, name="patron-stop-jobs"
        )
        jobs.start()
        if isinstance(web, subprocess.Popen):
            if web.poll() is None:
                web.send_signal(signal.SIGTERM)
            try:
                web.wait(grace + 5)
            except subprocess.TimeoutExpired:
                web.kill()
                web.wait()
        else:
            _drain_waitress(web, deadline)
        jobs.join(max(0.0, deadline - time.monotonic()) + 1)
        self.stdout.write("Stopped.")
        self.stdout.flush()
