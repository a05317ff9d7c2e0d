"""Idempotency keys for money-moving requests (BIL-7).

A client sends `Idempotency-Key: <its own unique text>` with a POST that moves money
(a payment, a refund, a reversal, a group payment, a ledger adjustment, a credit
note). `idempotent(request, work)`:

- inserts the key row (who sent it, method, path, a hash of the body) **in the same
  transaction as the work**, then runs `work()` and stores its response on the row;
- the same key with the same body again returns the first response (with the header
  `Idempotent-Replayed: true`) and moves nothing;
- the same key with a different body (or for another path) is refused with 422,
  saying so;
- two identical requests racing: the second's insert waits on the unique index until
  the first commits, then replays its response (PostgreSQL), so one payment is made.

A request that fails (400, 403, 404...) rolls back with its key, so a corrected retry
may use the same key. Keys are kept `PATRON_IDEMPOTENCY_HOURS` (24 by default); an
older key is forgotten and may be used again. The web forms use the same table with
the hidden `idempotency_key` of the form (`idempotent_form`).
"""

from __future__ import annotations

import datetime
import hashlib
import json

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter

from patron.core.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY = 200

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    name=HEADER,
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Your unique text for this request (at most 200 characters). Sent again "
    "with the same body, the first response is returned and nothing moves twice; with a "
    "different body it is refused (422). Kept PATRON_IDEMPOTENCY_HOURS (24 by default).",
)


class IdempotencyMismatch(Exception):
    """The key was used with a different request."""


def retention() -> datetime.timedelta:
    return datetime.timedelta(hours=int(getattr(settings, "PATRON_IDEMPOTENCY_HOURS", 24)))


def body_hash(method: str, path: str, body) -> str:
    text = json.dumps(body, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(f"{method.upper()} {path}\n{text}".encode()).hexdigest()


def scope_of(user) -> str:
    return f"user:{user.pk}" if user is not None and user.pk else "anonymous"


def idempotency_purge(now=None) -> int:
    """Forget keys older than the retention (the scheduler may call it)."""
    cutoff = (now or timezone.now()) - retention()
    deleted, _ = IdempotencyKey.objects.filter(created__lt=cutoff).delete()
    return deleted


def run_once(*, key: str, user, method: str, path: str, body, work, label: str = ""):
    """Run `work()` -> (status, body) once per (user, key); (status, body, replayed).

    Raises IdempotencyMismatch when the key was used for a different request, and
    ValueError for a key that is too long."""
    key = (key or "").strip()
    if len(key) > MAX_KEY:
        raise ValueError(f"Use an {HEADER} of at most {MAX_KEY} characters.")
    scope = scope_of(user)
    digest = body_hash(method, path, body)
    with transaction.atomic():
        IdempotencyKey.objects.filter(
            scope=scope, key=key, created__lt=timezone.now() - retention()
        ).delete()
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    scope=scope,
                    key=key,
                    actor_label=label[:200],
                    method=method.upper(),
                    path=path[:500],
                    body_hash=digest,
                )
        except IntegrityError:
            row = None
        if row is None:
            first = IdempotencyKey.objects.get(scope=scope, key=key)
            if first.body_hash != digest:
                raise IdempotencyMismatch(
                    f"This {HEADER} was already used for a different request "
                    f"({first.method} {first.path} with another body); nothing was done. "
                    "Use a new key for a new request."
                )
            return first.response_status, first.response_body, True
        status, data = work()
        row.response_status = status
        row.response_body = json.loads(json.dumps(data, default=str))
        row.save(update_fields=["response_status", "response_body"])
        return status, data, False


def idempotent(request, work):
    """Run a DRF action `work()` (returning a Response) at most once per key."""
    from rest_framework.response import Response

    key = request.headers.get(HEADER)
    if not key or not key.strip():
        return work()
    holder = {}

    def run():
        response = work()
        holder["response"] = response
        return response.status_code, response.data

    try:
        status, data, replayed = run_once(
            key=key,
            user=request.user,
            method=request.method,
            path=request.path,
            body=request.data,
            work=run,
            label=str(getattr(request.user, "username", "")),
        )
    except IdempotencyMismatch as exc:
        return Response({"detail": str(exc), "code": "idempotency_key_reused"}, status=422)
    except ValueError as exc:
        return Response({"detail": str(exc)}, status=400)
    if not replayed:
        return holder["response"]
    response = Response(data, status=status)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent_form(request, key: str, fields: dict, work) -> tuple[str, bool]:
    """A web form's double submit: `work()` returns the URL to go to; the same hidden key
    with the same fields returns that URL again (replayed=True) and does nothing.
    A different body with the key raises IdempotencyMismatch."""
    if not key:
        return work(), False
    _status, data, replayed = run_once(
        key=f"form:{key}",
        user=request.user,
        method="POST",
        path=request.path,
        body=fields,
        work=lambda: (303, {"redirect": work()}),
        label=str(getattr(request.user, "username", "")),
    )
    return data["redirect"], replayed
