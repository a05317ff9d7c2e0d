"""Where a page may send the browser back to.

A `next` parameter is written by whoever made the link, so Patron follows it,
or shows it as a Cancel or Back link, only when it stays on this Patron: a path,
or a URL on the host the request came to (over HTTPS when the request was).
Another site, a `//host` or `\\host` path and a `javascript:` URL all fall
back to the page's own default. Every redirect or back link that comes from
the request goes through `safe_next()`.
"""

from __future__ import annotations

from django.utils.http import url_has_allowed_host_and_scheme


def is_safe_redirect(request, url: str) -> bool:
    """True when `url` leads back into this Patron."""
    return bool(url) and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )


def safe_next(request, default: str, *, name: str = "next") -> str:
    """The `next` of the form, else of the query string, when it is safe; else `default`."""
    target = request.POST.get(name) or request.GET.get(name) or ""
    return target if is_safe_redirect(request, target) else default
