"""Issue #15 item 5: HTTPS deployment, no-store on customer data, a private API schema.

The settings are read from the environment when Django starts, so the HTTPS
settings are checked in a fresh `python -m django` process given exactly the
environment under test (none of the test run's own PATRON_* variables).
"""

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from patron.core.middleware import NoStoreForSignedInMiddleware
from tests.factories import CustomerFactory

ROOT = Path(__file__).resolve().parent.parent

SETTINGS_DUMP = """
import json
import django
django.setup()
from django.conf import settings
names = [
    "DEBUG", "SECURE_SSL_REDIRECT", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD",
    "SECURE_PROXY_SSL_HEADER", "CSRF_TRUSTED_ORIGINS", "ALLOWED_HOSTS",
]
print(json.dumps({name: getattr(settings, name) for name in names}))
"""


def production_example() -> dict[str, str]:
    """The production example at the end of .env.example, with a real secret key."""
    text = (ROOT / ".env.example").read_text()
    block = text.split("# --- Production over HTTPS", 1)[1]
    values = dict(re.findall(r"^# (PATRON_[A-Z_]+)=(.*)$", block, re.M))
    assert values["PATRON_HTTPS"] == "true" and values["PATRON_DEBUG"] == "false"
    values["PATRON_SECRET_KEY"] = secrets.token_urlsafe(50)
    values.pop("PATRON_DATABASE_URL")  # a scratch SQLite file is enough for the checks
    return values


def run_django(tmp_path, variables: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    # Neither the run's PATRON_* settings nor the browser tests' DJANGO_ALLOW_ASYNC_UNSAFE
    # (tests/browser/conftest.py sets it for Playwright) belong to a production start.
    environ = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("PATRON_") and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    environ.update(
        DJANGO_SETTINGS_MODULE="patron.settings",
        PYTHONPATH=str(ROOT),
        PATRON_DATA_DIR=str(tmp_path / "data"),
        **variables,
    )
    return subprocess.run(
        [sys.executable, *args],
        cwd=tmp_path,  # no .env of a developer's checkout is read
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def settings_under(tmp_path, variables: dict[str, str]) -> dict:
    result = run_django(tmp_path, variables, "-c", SETTINGS_DUMP)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_under_the_production_example_has_no_warning(tmp_path):
    result = run_django(
        tmp_path,
        production_example(),
        "-m",
        "django",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "System check identified no issues" in output
    assert "WARNINGS" not in output and "W0" not in output


def test_the_production_example_turns_https_on(tmp_path):
    values = settings_under(tmp_path, production_example())
    assert values == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SESSION_COOKIE_SECURE": True,
        "CSRF_COOKIE_SECURE": True,
        "SECURE_HSTS_SECONDS": 31536000,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
        "SECURE_HSTS_PRELOAD": False,
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "CSRF_TRUSTED_ORIGINS": ["https://patron.example.net"],
        "ALLOWED_HOSTS": ["patron.example.net"],
    }


def test_the_default_stays_plain_http_for_make_run(tmp_path):
    values = settings_under(tmp_path, {})
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["CSRF_COOKIE_SECURE"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["CSRF_TRUSTED_ORIGINS"] == []
    assert values["ALLOWED_HOSTS"] == ["127.0.0.1", "localhost"]


def test_each_https_setting_can_be_adjusted(tmp_path):
    values = settings_under(
        tmp_path,
        {
            "PATRON_HTTPS": "1",
            "PATRON_SSL_REDIRECT": "0",
            "PATRON_HSTS_SECONDS": "300",
            "PATRON_HSTS_INCLUDE_SUBDOMAINS": "no",
            "PATRON_ALLOWED_HOSTS": "patron.example.net, .example.org",
        },
    )
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SECURE_HSTS_SECONDS"] == 300
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["CSRF_TRUSTED_ORIGINS"] == [
        "https://patron.example.net",
        "https://*.example.org",
    ]


# --- what the HTTPS settings do to requests (in this process) --------------------


@pytest.fixture
def https_settings(settings):
    settings.ALLOWED_HOSTS = ["patron.example.net"]
    settings.SECURE_SSL_REDIRECT = True
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    return settings


@pytest.mark.django_db
def test_behind_the_proxy_plain_http_redirects_and_https_gets_hsts(client, https_settings):
    url = reverse("accounts:login")
    plain = client.get(url, HTTP_HOST="patron.example.net")
    assert plain.status_code == 301
    assert plain["Location"] == f"https://patron.example.net{url}"
    secure = client.get(url, HTTP_HOST="patron.example.net", HTTP_X_FORWARDED_PROTO="https")
    assert secure.status_code == 200
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert secure.cookies["csrftoken"]["secure"] is True


# --- Cache-Control: no-store -----------------------------------------------------


def cache_control(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part}


@pytest.mark.django_db
def test_customer_pages_for_a_signed_in_user_are_not_stored(client, owner):
    customer = CustomerFactory(name="Ann Smith")
    client.force_login(owner)
    for url in (reverse("customers:list"), reverse("customers:detail", args=[customer.pk])):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in cache_control(response), url


@pytest.mark.django_db
def test_api_answers_with_customer_data_are_not_stored(api):
    CustomerFactory(name="Ann Smith")
    response = api["staff"].get("/api/customers/")
    assert response.status_code == 200
    assert response.json()["results"]
    assert "no-store" in cache_control(response)


@pytest.mark.django_db
def test_static_files_keep_their_caching(client, owner):
    client.force_login(owner)
    static = client.get("/static/patron/patron.css")
    assert static.status_code == 200
    assert "no-store" not in cache_control(static)


def test_a_view_that_sets_its_own_cache_control_keeps_it(owner):
    def view(request):
        response = HttpResponse("cached")
        response["Cache-Control"] = "max-age=60"
        return response

    request = RequestFactory().get("/anything/")
    request.user = owner
    assert NoStoreForSignedInMiddleware(view)(request)["Cache-Control"] == "max-age=60"
    assert NoStoreForSignedInMiddleware(lambda r: HttpResponse())(request)["Cache-Control"] == (
        "no-store"
    )


# --- the OpenAPI schema and docs ---------------------------------------------------

SCHEMA_URLS = ("/api/schema/", "/api/docs/")


@pytest.mark.django_db
def test_schema_and_docs_need_a_login(client, api):
    schema = api["anon"].get("/api/schema/")
    assert schema.status_code in (401, 403)
    assert "openapi" not in schema.content.decode()
    docs = client.get("/api/docs/")
    assert docs.status_code == 302
    assert docs["Location"] == f"{reverse('accounts:login')}?next=/api/docs/"


@pytest.mark.django_db
def test_schema_and_docs_for_a_token_or_a_session(client, api, readonly):
    assert api["readonly"].get("/api/schema/").status_code == 200
    client.force_login(readonly)
    for url in SCHEMA_URLS:
        response = client.get(url)
        assert response.status_code == 200, url
    assert b"openapi" in client.get("/api/schema/").content


@pytest.mark.django_db
def test_a_setting_publishes_schema_and_docs(client, settings):
    settings.PATRON_PUBLIC_API_SCHEMA = True
    for url in SCHEMA_URLS:
        response = client.get(url)
        assert response.status_code == 200, url
    assert b"openapi" in client.get("/api/schema/").content
