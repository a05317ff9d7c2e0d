"""Test-run plumbing shared by every test directory.

- The header says which database the run uses, so a CI log shows that the
  PostgreSQL pass really ran on PostgreSQL.
- Tests marked `services` ("postgresql", "redis", "rabbitmq") skip with a clear
  reason when that server is not reachable, and fail instead when
  PATRON_REQUIRE_SERVICES=1 (as in CI).
"""

import os
import socket
from urllib.parse import urlsplit

import pytest

SERVICE_URLS = {
    "postgresql": ("PATRON_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"),
    "redis": ("PATRON_TEST_REDIS_URL", "redis://127.0.0.1:6379/0"),
    "rabbitmq": ("PATRON_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672//"),
}
DEFAULT_PORTS = {"postgresql": 5432, "redis": 6379, "rabbitmq": 5672}


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def service_url(name: str) -> str:
    variable, default = SERVICE_URLS[name]
    return os.environ.get(variable) or default


def service_reachable(name: str, timeout: float = 1.0) -> tuple[bool, str]:
    """Whether a TCP connection to the service opens; and where it was tried."""
    parts = urlsplit(service_url(name))
    host, port = parts.hostname or "127.0.0.1", parts.port or DEFAULT_PORTS[name]
    where = f"{host}:{port}"
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True, where
    except OSError:
        return False, where


def pytest_report_header(config):
    from django.conf import settings

    database = settings.DATABASES["default"]
    vendor = database["ENGINE"].rsplit(".", 1)[-1]
    return f"patron database: {vendor} ({database['NAME']}; tests use a separate test database)"


def pytest_runtest_setup(item):
    marker = item.get_closest_marker("services")
    if marker is None:
        return
    names = marker.args or tuple(SERVICE_URLS)
    for name in names:
        if name not in SERVICE_URLS:
            known = ", ".join(SERVICE_URLS)
            pytest.fail(f"Unknown service “{name}” in @pytest.mark.services; use one of {known}")
        ok, where = service_reachable(name)
        if ok:
            continue
        message = f"needs {name} at {where}, which is not reachable"
        if env_flag("PATRON_REQUIRE_SERVICES"):
            pytest.fail(f"{message} (PATRON_REQUIRE_SERVICES=1)")
        pytest.skip(f"{message}; set PATRON_REQUIRE_SERVICES=1 to fail instead of skipping")
