"""Errors a service raises; views and the API turn them into clear messages."""

from django.core.exceptions import PermissionDenied, ValidationError

__all__ = ["ConflictError", "PermissionDenied", "ValidationError", "error_messages"]


class ConflictError(Exception):
    """The object changed since the caller read it (stale version / If-Match)."""

    def __init__(self, obj):
        self.obj = obj
        super().__init__(
            f"{obj._meta.verbose_name.capitalize()} “{obj}” was changed by someone else "
            "since you opened it. Reload to see their changes, then apply yours again."
        )


def error_messages(exc) -> list[str]:
    """The messages of a ValidationError (every field's, in order) or of any other error."""
    if hasattr(exc, "error_dict"):
        return [m for errors in exc.message_dict.values() for m in errors]
    return getattr(exc, "messages", None) or [str(exc)]
