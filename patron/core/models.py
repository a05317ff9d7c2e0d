"""Base models shared by every Patron app.

`PatronModel` gives each editable object its timestamps and a `version` that
increases on every write; the API sends it as the ETag and refuses a stale
`If-Match`, and the web forms carry it in a hidden field for the same reason.

`RestrictedQuerySet.restrict(who, action)` is the only way a view, an API
viewset, a form, a service or a job obtains rows for someone: `who` is a user
or an `Actor` (a system actor, such as the scheduler or a job started by the
command line, sees every row).
"""

from __future__ import annotations

from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from patron.core.actor import Actor


class RestrictedQuerySet(models.QuerySet):
    """A queryset that knows which rows a user may see or change.

    A model whose rows belong to someone (a job to whoever started it, an
    uploaded file to whoever uploaded it, a token to its user) names that
    field in `owner_field`: people always see their own rows, and the model
    permission shows everyone's.
    """

    owner_field: str | None = None

    def permission(self, action: str) -> str:
        """The permission that gives `action` on every row of the model."""
        opts = self.model._meta
        return f"{opts.app_label}.{action}_{opts.model_name}"

    def restrict(self, who, action: str = "view") -> RestrictedQuerySet:
        """Rows `who` may `action` ("view", "add", "change", "delete").

        `who` is a user or an `Actor`. A system actor sees every row; an
        anonymous or inactive user none; a user without the model permission
        only their own rows (`owner_field`), else none. Models with row-level
        rules (customers restricted to groups) narrow further in
        `restrict_rows`.
        """
        user = who
        if isinstance(who, Actor):
            if who.user is None:
                return self.all()
            user = who.user
        if user is None or not user.is_authenticated or not user.is_active:
            return self.none()
        if not user.has_perm(self.permission(action)):
            if self.owner_field is None:
                return self.none()
            return self.filter(**{self.owner_field: user})
        return self.restrict_rows(user, action)

    def restrict_rows(self, user, action: str) -> RestrictedQuerySet:
        return self


class PatronModel(models.Model):
    """Timestamps and an optimistic-concurrency version for editable objects."""

    created = models.DateTimeField(auto_now_add=True)
    modified = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def etag(self) -> str:
        return f'"{self.pk}-{self.version}"'

    def validate_constraints(self, exclude=None):
        # Uniqueness and cross-row rules are checked by each model's clean() and
        # by the services, which name the field and the conflicting row. The
        # database constraints stay as the backstop against races.
        return None


class Sequence(models.Model):
    """A named counter, e.g. the next customer account number."""

    name = models.CharField(max_length=50, primary_key=True)
    value = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"{self.name}={self.value}"

    @classmethod
    def next_value(cls, name: str, count: int = 1) -> int:
        """Reserve the next `count` values of the counter; the first of them."""
        with transaction.atomic():
            seq, _ = cls.objects.select_for_update().get_or_create(name=name)
            cls.objects.filter(pk=name).update(value=F("value") + count)
            return seq.value + 1


class IdempotencyKey(models.Model):
    """A money-moving request's `Idempotency-Key` (BIL-7), kept with the first response.

    Written in the same transaction as the work it guards (`patron/core/idempotency.py`),
    so two identical requests racing produce one payment: the second waits on the
    unique (scope, key) index and then replays the first's response. `scope` is who
    sent it ("user:12"), so two users' keys never meet. Kept `PATRON_IDEMPOTENCY_HOURS`.
    """

    scope = models.CharField(max_length=60)
    key = models.CharField(max_length=200)
    actor_label = models.CharField(max_length=200, blank=True)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    body_hash = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(default=0)
    response_body = models.JSONField(default=dict, blank=True)
    created = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "idempotency key"
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key")
        ]

    def __str__(self):
        return f"{self.key} ({self.method} {self.path})"
