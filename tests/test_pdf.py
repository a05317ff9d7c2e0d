"""PDFs (`patron/core/pdf.py`): a template in, a PDF with its text out.

The tests that draw a PDF need WeasyPrint's system libraries (Pango, HarfBuzz,
a font). Without them they skip with the packages to install, unless
PATRON_REQUIRE_SERVICES=1 (CI, which installs them), where they fail instead.
"""

import builtins
import io
import logging
import re
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import RequestFactory
from pypdf import PdfReader

from conftest import env_flag
from patron.core import pdf
from patron.core.money import format_money

ROOT = Path(__file__).resolve().parent.parent

SAMPLE = """{% load static %}<!doctype html>
<html><head><meta charset="utf-8">
<link rel="stylesheet" href="{% static 'patron/patron.css' %}">
<style>@page { size: A4; margin: 2cm } body { font-family: "DejaVu Sans", sans-serif }</style>
</head><body>
<h1>Invoice {{ number }}</h1>
<p>Customer: {{ customer }}</p>
<p>Total due: {{ total }}</p>
{% if image %}<img src="{{ image }}">{% endif %}
</body></html>
"""


@pytest.fixture
def sample_template(settings):
    """`pdf/sample.html` from memory, the project's own templates behind it."""
    engine = dict(settings.TEMPLATES[0])
    engine["APP_DIRS"] = False
    engine["OPTIONS"] = {
        **engine.get("OPTIONS", {}),
        "loaders": [
            ("django.template.loaders.locmem.Loader", {"pdf/sample.html": SAMPLE}),
            "django.template.loaders.filesystem.Loader",
            "django.template.loaders.app_directories.Loader",
        ],
    }
    settings.TEMPLATES = [engine]
    return "pdf/sample.html"


@pytest.fixture
def weasyprint_libraries():
    try:
        pdf._load_weasyprint()
    except pdf.PdfUnavailable as error:
        if env_flag("PATRON_REQUIRE_SERVICES"):
            pytest.fail(f"{error} (PATRON_REQUIRE_SERVICES=1)")
        pytest.skip(f"{error}; set PATRON_REQUIRE_SERVICES=1 to fail instead of skipping")


def pdf_text(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def context(**extra):
    return {
        "number": "INV-000042",
        "customer": "Beatrice O’Connor & Sons",
        "total": format_money(Decimal("1234.50")),
        **extra,
    }


def load_failures(caplog) -> list[str]:
    """WeasyPrint's warnings that something could not be fetched or loaded."""
    words = ("load", "fetch", "refused", "url")
    return [
        r.getMessage() for r in caplog.records if any(w in r.getMessage().lower() for w in words)
    ]


def test_render_pdf_draws_the_template_text(sample_template, weasyprint_libraries, caplog):
    caplog.set_level(logging.WARNING, logger="weasyprint")
    data = pdf.render_pdf(sample_template, context())

    assert data.startswith(b"%PDF-")
    text = pdf_text(data)
    assert "Invoice INV-000042" in text
    assert "Customer: Beatrice O’Connor & Sons" in text
    assert "Total due: £1,234.50" in text
    # The stylesheet came from the static files on disk: nothing failed to load (the
    # screen stylesheet's rules a printer ignores, such as `position: sticky`, may warn).
    assert load_failures(caplog) == []


def test_render_pdf_with_a_request(sample_template, weasyprint_libraries, caplog):
    caplog.set_level(logging.WARNING, logger="weasyprint")
    request = RequestFactory().get("/invoices/42/pdf/")
    request.user = None
    data = pdf.render_pdf(sample_template, context(), request=request)

    assert "Total due: £1,234.50" in pdf_text(data)
    assert load_failures(caplog) == []


def test_render_pdf_never_fetches_from_the_network(
    sample_template, weasyprint_libraries, caplog, monkeypatch
):
    import socket

    def no_network(*args, **kwargs):
        raise AssertionError("render_pdf opened a network connection")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    caplog.set_level(logging.WARNING, logger="weasyprint")

    data = pdf.render_pdf(sample_template, context(image="https://example.com/logo.png"))

    assert "Invoice INV-000042" in pdf_text(data)
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert "https://example.com/logo.png" in messages
    assert "only static files" in messages


def test_static_urls_map_to_files_on_disk():
    css = ROOT / "patron" / "static" / "patron" / "patron.css"
    assert pdf.static_file_for("http://localhost/static/patron/patron.css") == css
    assert pdf.static_file_for("https://patron.example.net/static/patron/patron.css") == css
    assert pdf.static_file_for("http://localhost/static/patron/missing.css") is None
    assert pdf.static_file_for("http://localhost/static/../settings.py") is None
    assert pdf.static_file_for("http://localhost/static/%2e%2e/settings.py") is None
    assert pdf.static_file_for("http://localhost/media/patron/patron.css") is None


def test_the_fetcher_serves_static_files_and_refuses_the_rest(weasyprint_libraries):
    fetcher = pdf._static_fetcher_class(pdf._load_weasyprint())()
    url = "http://localhost/static/patron/patron.css"
    response = fetcher.fetch(url)
    try:
        assert response.url == url
        assert response.content_type == "text/css"
        assert response.read() == (ROOT / "patron/static/patron/patron.css").read_bytes()
    finally:
        response.close()
    for refused in ("https://example.com/logo.png", "file:///etc/passwd", "ftp://x/y"):
        with pytest.raises(ValueError, match="only static files"):
            fetcher.fetch(refused)
    inline = fetcher.fetch("data:text/plain,hello")
    try:
        assert inline.read() == b"hello"
    finally:
        inline.close()


def test_pdf_response_headers():
    response = pdf.pdf_response(b"%PDF-1.7 test", "Invoice INV-000042.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'inline; filename="Invoice INV-000042.pdf"'
    assert response["Content-Length"] == str(len(b"%PDF-1.7 test"))
    assert response.content == b"%PDF-1.7 test"

    download = pdf.pdf_response(b"%PDF", "invoice", inline=False)
    assert download["Content-Disposition"] == 'attachment; filename="invoice.pdf"'


@pytest.mark.parametrize(
    ("given", "safe"),
    [
        ("../../etc/passwd", "passwd.pdf"),
        ('C:\\bills\\a"b.pdf', "ab.pdf"),
        ("line\r\nbreak.PDF", "line break.pdf"),
        ("", "document.pdf"),
        ("...", "document.pdf"),
        ("Facture été.pdf", "Facture été.pdf"),
    ],
)
def test_safe_pdf_filename(given, safe):
    assert pdf.safe_pdf_filename(given) == safe


def test_non_ascii_filename_is_encoded():
    header = pdf.pdf_response(b"%PDF", "Facture été.pdf")["Content-Disposition"]
    assert header == "inline; filename*=utf-8''Facture%20%C3%A9t%C3%A9.pdf"
    assert "\n" not in header and "\r" not in header


def test_missing_libraries_raise_pdf_unavailable(monkeypatch, sample_template):
    """WeasyPrint raises OSError at import when Pango is missing; Patron says what to install."""
    real_import = builtins.__import__

    def failing_import(name, *args, **kwargs):
        if name == "weasyprint" or name.startswith("weasyprint."):
            raise OSError("cannot load library 'libpango-1.0-0': No such file or directory")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", failing_import)

    assert pdf.pdf_available() is False
    with pytest.raises(pdf.PdfUnavailable) as raised:
        pdf.render_pdf(sample_template, context())
    message = str(raised.value)
    assert "libpango-1.0-0" in message
    for package in pdf.SYSTEM_PACKAGES:
        assert package in message
    assert "apt-get install libpango-1.0-0 libpangoft2-1.0-0" in message
    assert isinstance(raised.value.__cause__, OSError)


def test_missing_package_raises_pdf_unavailable(monkeypatch):
    real_import = builtins.__import__

    def failing_import(name, *args, **kwargs):
        if name == "weasyprint":
            raise ModuleNotFoundError("No module named 'weasyprint'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", failing_import)
    with pytest.raises(pdf.PdfUnavailable, match="requirements.txt"):
        pdf.render_pdf("pdf/sample.html", {})


def test_the_install_scripts_name_the_same_packages():
    """scripts/system-packages (make run, .ci/run) installs what the message names."""
    script = (ROOT / "scripts" / "system-packages").read_text()
    listed = re.search(r"^PACKAGES=\((.*)\)$", script, re.M)
    assert listed, "scripts/system-packages has no PACKAGES=(...) line"
    assert tuple(listed.group(1).split()) == pdf.SYSTEM_PACKAGES
    assert "scripts/system-packages" in (ROOT / ".ci" / "run").read_text()
    assert "scripts/system-packages" in (ROOT / "Makefile").read_text()


def test_pdf_available_here(weasyprint_libraries):
    assert pdf.pdf_available() is True
