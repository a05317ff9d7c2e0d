"""Middleware of Patron's own."""

from django.conf import settings
from django.utils.cache import patch_cache_control


class NoStoreForSignedInMiddleware:
    """`Cache-Control: no-store` on every answer to a signed-in user.

    Pages and API answers for a signed-in user (or an API token) carry customer
    data, which must not stay in a browser's cache or a shared proxy. A view
    that sets its own Cache-Control keeps it; static files are served before
    this middleware (WhiteNoise) and are skipped here too.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.static_prefix = "/" + settings.STATIC_URL.lstrip("/")

    def __call__(self, request):
        response = self.get_response(request)
        # Read after the view: the API's token authentication sets request.user there.
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not response.has_header("Cache-Control")
            and not request.path.startswith(self.static_prefix)
        ):
            patch_cache_control(response, no_store=True)
        return response
