"""PDFs in Patron: one way to make them, from a Django template, with WeasyPrint.

- `render_pdf(template_name, context, request=None)` renders the template to
  HTML and the HTML to PDF bytes. Stylesheets and images under `STATIC_URL`
  (`{% static "patron/patron.css" %}`) are read from disk through the static
  file finders; nothing is ever fetched over the network (any other URL is
  refused and WeasyPrint leaves that resource out with a warning).
- `pdf_response(pdf_bytes, filename, inline=True)` is the HTTP answer.
- `pdf_available()` says whether PDFs can be made on this machine, and
  `PdfUnavailable` is raised instead of WeasyPrint's `OSError` when its native
  libraries (Pango, HarfBuzz) are missing; its message names the Debian packages
  (`SYSTEM_PACKAGES`, installed by `make run` and `.ci/run` via
  `scripts/system-packages` where they can).
"""

from __future__ import annotations

import functools
import mimetypes
import posixpath
import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils.http import content_disposition_header

# The Debian packages WeasyPrint loads at import time, and a font to draw text with.
# scripts/system-packages installs the same list.
SYSTEM_PACKAGES = (
    "libpango-1.0-0",
    "libpangoft2-1.0-0",
    "libharfbuzz-subset0",
    "fonts-dejavu-core",
)

# The base URL of a PDF rendered without a request. It only anchors relative URLs
# such as "/static/patron/patron.css"; the fetcher below never opens it.
DEFAULT_BASE_URL = "http://localhost/"


class PdfUnavailable(RuntimeError):
    """PDFs cannot be made here: WeasyPrint or its system libraries are missing."""


def _load_weasyprint():
    """The `weasyprint` module, or `PdfUnavailable` saying what to install."""
    # Imported here, not at the top of the module: importing WeasyPrint loads
    # native libraries (Pango, HarfBuzz, fontconfig) and raises OSError when they
    # are missing. The web process must start without them; only PDFs fail.
    try:
        import weasyprint
    except OSError as error:
        packages = " ".join(SYSTEM_PACKAGES)
        raise PdfUnavailable(
            "PDFs cannot be made on this machine: WeasyPrint could not load its system "
            f"libraries ({error}). On Debian or Ubuntu install them with: "
            f"apt-get install {packages} (make run does this when it runs as root or "
            "with passwordless sudo)."
        ) from error
    except ImportError as error:
        raise PdfUnavailable(
            "PDFs cannot be made on this machine: the weasyprint package is not installed "
            f"({error}). Install Patron's dependencies: pip install -r requirements.txt."
        ) from error
    return weasyprint


def pdf_available() -> bool:
    """Whether `render_pdf` can work here (WeasyPrint and its libraries load)."""
    try:
        _load_weasyprint()
    except PdfUnavailable:
        return False
    return True


def static_file_for(url: str) -> Path | None:
    """The file on disk a static URL names, through the static file finders; or None.

    Only the path is looked at (any host: `STATIC_URL` may be absolute), and
    only below `STATIC_URL`; ".." out of it is refused.
    """
    prefix = urlsplit(settings.STATIC_URL).path
    path = unquote(urlsplit(url).path)
    if not prefix or not path.startswith(prefix):
        return None
    relative = posixpath.normpath(path[len(prefix) :])
    if relative.startswith(("..", "/")) or relative == ".":
        return None
    try:
        found = finders.find(relative)
    except SuspiciousFileOperation:
        return None
    if not found:
        return None
    return Path(found[0] if isinstance(found, list) else found)


@functools.cache
def _static_fetcher_class(weasyprint):
    """A WeasyPrint URL fetcher that serves static files from disk and nothing else."""
    from weasyprint.urls import URLFetcherResponse

    class StaticFileFetcher(weasyprint.URLFetcher):
        def fetch(self, url, headers=None):
            scheme = url.split(":", 1)[0].lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme in {"http", "https"} and (path := static_file_for(url)):
                content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
                # The original URL, so relative URLs inside a stylesheet stay static URLs.
                return URLFetcherResponse(
                    url, path.read_bytes(), headers={"Content-Type": content_type}
                )
            raise ValueError(f"PDFs load only static files found on disk and data: URLs, not {url}")

    return StaticFileFetcher


def render_pdf(template_name: str, context: dict, *, request=None) -> bytes:
    """The template rendered with `context` (and `request`, if given), as PDF bytes.

    Raises `PdfUnavailable` when WeasyPrint or its system libraries are missing.
    """
    weasyprint = _load_weasyprint()
    html = render_to_string(template_name, context, request=request)
    base_url = request.build_absolute_uri("/") if request is not None else DEFAULT_BASE_URL
    fetcher = _static_fetcher_class(weasyprint)()
    return weasyprint.HTML(string=html, base_url=base_url, url_fetcher=fetcher).write_pdf()


def safe_pdf_filename(filename: str) -> str:
    """`filename` fit for a download: no folders, quotes or control characters; ends in .pdf."""
    name = re.split(r"[\\/]", str(filename))[-1]
    name = "".join(
        " " if unicodedata.category(c).startswith(("C", "Z")) else c
        for c in unicodedata.normalize("NFC", name)
    )
    name = re.sub(r'["*:<>?|;]', "", name)
    name = re.sub(r"\s+", " ", name).strip(" .")
    stem = name[:-4] if name.lower().endswith(".pdf") else name
    stem = stem.strip(" .")[:150] or "document"
    return f"{stem}.pdf"


def pdf_response(pdf_bytes: bytes, filename: str, *, inline: bool = True) -> HttpResponse:
    """An HTTP response carrying a PDF: shown in the browser (`inline`) or downloaded."""
    response = HttpResponse(pdf_bytes, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        not inline, safe_pdf_filename(filename)
    )
    response["Content-Length"] = str(len(pdf_bytes))
    return response
