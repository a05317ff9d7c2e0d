"""The `load` rows of `patron bench`: concurrent clients against a real `patron serve`.

`patron serve --workers N` runs on the scratch database (N = this machine's
cores, then N = 1 for comparison); C client threads, each with its own
keep-alive connection, signed in as the bench's Owner (a session cookie for
the pages, an API token for the API), ask in turn for the customer list with
a filter, a search, a customer overview and `/api/customers/` for D seconds.
Requests per second, the median and 95th percentile latency and the errors
(any answer but 200, or a failed connection) are reported per server.
"""

from __future__ import annotations

import http.client
import itertools
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

MIX = "list, search, overview and API"


@dataclass
class LoadResult:
    workers: int
    clients: int
    seconds: float
    requests: int = 0
    errors: int = 0
    latencies_ms: list = field(default_factory=list)
    elapsed: float = 0.0
    first_error: str = ""

    @property
    def per_second(self) -> float:
        return round(self.requests / self.elapsed, 1) if self.elapsed else 0.0

    def percentile(self, fraction: float) -> float | None:
        if not self.latencies_ms:
            return None
        ordered = sorted(self.latencies_ms)
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 1)

    @property
    def p50(self) -> float | None:
        return round(statistics.median(self.latencies_ms), 1) if self.latencies_ms else None

    @property
    def p95(self) -> float | None:
        return self.percentile(0.95)

    @property
    def label(self) -> str:
        processes = "web process" if self.workers == 1 else "web processes"
        return f"load, {self.workers} {processes}"

    def summary(self) -> str:
        """`41.3 requests/s, p50 412 ms, p95 950 ms, 0 errors (413 requests)`"""
        fmt = lambda v: "—" if v is None else f"{v:,.0f}"  # noqa: E731
        return (
            f"{self.per_second:,.1f} requests/s, p50 {fmt(self.p50)} ms, "
            f"p95 {fmt(self.p95)} ms, {self.errors} errors ({self.requests:,} requests)"
        )

    def line(self) -> str:
        """`load, 2 web processes: 20 clients for 10 s over list, …: 41.3 requests/s, …`"""
        return f"{self.label}: {self.clients} clients for {self.seconds:g} s over {MIX}: " + (
            self.summary()
        )


def start_server(workers: int, env: dict | None = None) -> tuple[subprocess.Popen, int]:
    """`patron serve --workers N` on a free port of 127.0.0.1; (process, port)."""
    command = [
        sys.executable,
        "-m",
        "django",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--no-scheduler",
        "--workers",
        str(workers),
    ]
    env = {
        **(env or os.environ),
        "PATRON_BROKER_URL": "",  # the bench runs no job while it measures
        "PATRON_HTTPS": "false",
        "PATRON_SSL_REDIRECT": "false",
        "PATRON_LOG_LEVEL": "WARNING",
    }
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    line = process.stdout.readline()
    if "serving at http://127.0.0.1:" not in line:
        process.kill()
        raise RuntimeError(f"patron serve did not start: {line}{process.stderr.read()[-500:]}")
    port = int(line.split("http://127.0.0.1:", 1)[1].split("/", 1)[0])
    # Drain its output so a chatty server never blocks on a full pipe.
    for stream in (process.stdout, process.stderr):
        threading.Thread(target=stream.read, daemon=True).start()
    return process, port


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        process.wait(30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _get(connection: http.client.HTTPConnection, path: str, headers: dict) -> int:
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    return response.status


def wait_until_ready(port: int, requests: list, seconds: float = 60) -> None:
    """Until the server answers, then once every request of the mix on each process."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            _get(connection, "/accounts/login/", {})
            break
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError("patron serve never answered") from None
            time.sleep(0.2)
    for path, headers in requests * 4:  # warm every web process's imports and caches
        status = _get(connection, path, headers)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status} before the load started")
    connection.close()


def run_load(port: int, requests: list, clients: int, seconds: float, workers: int) -> LoadResult:
    """`clients` threads ask for `requests` ((path, headers) pairs) in turn for `seconds`."""
    result = LoadResult(workers=workers, clients=clients, seconds=seconds)
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    ends = {}

    def client(number: int) -> None:
        mine, errors, first_error = [], 0, ""
        shift = number % len(requests)  # the clients start at different points of the mix
        order = itertools.cycle(requests[shift:] + requests[:shift])
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start.wait()
        stop_at = ends["at"]
        while time.monotonic() < stop_at:
            path, headers = next(order)
            began = time.perf_counter()
            try:
                status = _get(connection, path, headers)
            except (OSError, http.client.HTTPException) as exc:
                status, first_error = None, first_error or f"GET {path}: {exc!r}"
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            took = (time.perf_counter() - began) * 1000
            if status == 200:
                mine.append(took)
            else:
                errors += 1
                if status is not None:
                    first_error = first_error or f"GET {path} answered {status}"
        connection.close()
        with lock:
            result.latencies_ms.extend(mine)
            result.errors += errors
            result.first_error = result.first_error or first_error

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(clients)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    ends["at"] = began + seconds
    start.wait()
    for thread in threads:
        thread.join(seconds + 120)
    result.elapsed = time.monotonic() - began
    result.requests = len(result.latencies_ms) + result.errors
    return result


def measure(requests: list, clients: int, seconds: float, workers: list[int], out=None):
    """One LoadResult per entry of `workers`, each against a server of its own."""
    results = []
    for count in workers:
        process, port = start_server(count)
        try:
            wait_until_ready(port, requests)
            result = run_load(port, requests, clients, seconds, count)
        finally:
            stop_server(process)
        results.append(result)
        if out is not None:
            out.write(f"  {result.line()}\n")
            out.flush()
    return results
