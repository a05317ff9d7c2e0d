"""Errors a service raises; views and the API turn them into clear messages."""

from django.core.exceptions import PermissionDenied, ValidationError

__all__ = ["ConflictError", "PermissionDenied", "ValidationError"]


class ConflictError(Exception):
    """The object changed since the caller read it (stale version / If-Match)."""

    def __init__(self, obj):
        self.obj = obj
        super().__init__(
            f"{obj._meta.verbose_name.capitalize()} “{obj}” was changed by someone else "
            "since you opened it. Reload to see their changes, then apply yours again."
        )
