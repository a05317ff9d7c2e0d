"""`patron serve`: the production-grade WSGI server (waitress) on PATRON_HOST:PATRON_PORT.

Static files are served by WhiteNoise straight from the installed packages,
so no collectstatic step is needed. Without PATRON_BROKER_URL (the embedded
mode) background jobs run in a thread of this process; with a broker they go
to `patron worker` processes. The status scheduler runs here every hour; its
steps are idempotent, so several `serve` processes (or a separate cron job)
never move a customer twice.
"""

import logging
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

logger = logging.getLogger("patron.serve")


def run_scheduler_forever(stop: threading.Event, interval_minutes: int) -> None:
    from patron.customers.services import status_schedule_run

    while not stop.is_set():
        try:
            status_schedule_run()
        except Exception:  # keep serving; the next pass tries again
            logger.exception("Status scheduler pass failed")
        finally:
            connections.close_all()
        stop.wait(interval_minutes * 60)


class Command(BaseCommand):
    help = "Serve Patron with waitress on PATRON_HOST:PATRON_PORT (default 127.0.0.1:8000)."

    def add_arguments(self, parser):
        parser.add_argument("--host", help="Address to listen on (default: PATRON_HOST).")
        parser.add_argument("--port", type=int, help="Port to listen on (default: PATRON_PORT).")
        parser.add_argument("--threads", type=int, default=8, help="Worker threads (default 8).")
        parser.add_argument(
            "--no-scheduler",
            action="store_true",
            help="Do not run the status scheduler in this process (run it from cron instead: "
            "`patron manage run_status_schedule`).",
        )

    def handle(self, *args, host=None, port=None, threads=8, no_scheduler=False, **options):
        from waitress import create_server

        from patron.wsgi import application

        host = host or settings.PATRON_HOST
        port = port if port is not None else settings.PATRON_PORT
        try:
            server = create_server(application, host=host, port=port, threads=threads)
        except OSError as exc:
            raise CommandError(
                f"Cannot listen on {host}:{port} ({exc.strerror or exc}). Is Patron already "
                "running? Choose another port with PATRON_PORT, e.g. PATRON_PORT=8001 make run."
            ) from exc
        from patron.jobs.runner import start_embedded_worker, stop_embedded_worker

        stop = threading.Event()
        embedded = start_embedded_worker()
        if not no_scheduler:
            threading.Thread(
                target=run_scheduler_forever, args=(stop, 60), name="status-scheduler", daemon=True
            ).start()
        database = connections["default"]
        jobs = "in this process" if embedded is not None else "on `patron worker` processes"
        self.stdout.write(
            f"Patron is serving at http://{host}:{port}/ on {database.vendor} "
            f"(data in {settings.DATA_DIR}; background jobs run {jobs}). Press Ctrl+C to stop."
        )
        try:
            server.run()
        except KeyboardInterrupt:
            self.stdout.write("Stopped.")
        finally:
            stop.set()
            stop_embedded_worker(timeout=5)
            server.close()
