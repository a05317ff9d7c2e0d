"""Throttling of failed sign-ins, per username and per address."""

from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from patron.accounts.models import LoginFailure


def _window_start():
    return timezone.now() - timedelta(minutes=settings.PATRON_LOGIN_LOCK_MINUTES)


def is_locked(username: str, address: str | None) -> bool:
    """Too many recent failures for this username, or from this address."""
    recent = LoginFailure.objects.filter(created__gte=_window_start())
    limit = settings.PATRON_LOGIN_MAX_FAILURES
    if recent.filter(username__iexact=username).count() >= limit:
        return True
    # An address guessing across many usernames gets a wider allowance.
    return bool(address) and recent.filter(address=address).count() >= limit * 4


def record_failure(username: str, address: str | None) -> None:
    LoginFailure.objects.create(username=username[:150], address=address or None)
    LoginFailure.objects.filter(created__lt=_window_start() - timedelta(days=1)).delete()


def clear_failures(username: str) -> None:
    LoginFailure.objects.filter(Q(username__iexact=username)).delete()
