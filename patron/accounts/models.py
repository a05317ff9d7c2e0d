"""Staff users, their roles (editable permission sets) and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.contrib.auth.models import AbstractUser, Permission, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone

from patron.core.models import PatronModel, RestrictedQuerySet


class Role(PatronModel):
    """A named permission set. Every user has exactly one role.

    The Owner role holds every permission whatever its list says, so an
    installation can never lock itself out of user management.
    """

    OWNER = "Owner"
    ADMINISTRATOR = "Administrator"
    STAFF = "Staff"
    READ_ONLY = "Read-only"

    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    is_owner = models.BooleanField(
        default=False, help_text="Holds every permission, including user and role management."
    )
    permissions = models.ManyToManyField(Permission, blank=True, related_name="+")

    class Meta:
        ordering = ["-is_owner", "name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="role_name_ci_unique")]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("accounts:role_edit", args=[self.pk])

    def clean(self):
        from django.core.exceptions import ValidationError

        if self.name and Role.objects.filter(name__iexact=self.name).exclude(pk=self.pk).exists():
            raise ValidationError({"name": f"A role named “{self.name}” already exists."})


class UserQuerySet(RestrictedQuerySet):
    pass


class PatronUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """A member of staff who signs in to Patron."""

    role = models.ForeignKey(
        Role, null=True, blank=True, on_delete=models.PROTECT, related_name="users"
    )
    restricted_groups = models.ManyToManyField(
        "groups.Group",
        blank=True,
        related_name="restricted_users",
        help_text="When set, this user sees only customers in these groups (and their subgroups).",
    )
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = PatronUserManager()

    class Meta:
        ordering = ["username"]

    def __str__(self):
        return self.get_full_name() or self.username

    def get_absolute_url(self):
        return reverse("accounts:user_edit", args=[self.pk])

    @property
    def etag(self) -> str:
        return f'"{self.pk}-{self.version}"'

    @property
    def is_owner(self) -> bool:
        return bool(self.is_active and self.role_id and self.role.is_owner)

    @property
    def has_customer_restriction(self) -> bool:
        if not hasattr(self, "_restricted_paths"):
            self._restricted_paths = list(self.restricted_groups.values_list("path", flat=True))
        return bool(self._restricted_paths)

    @property
    def restricted_paths(self) -> list[str]:
        return self._restricted_paths if self.has_customer_restriction else []


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class ApiTokenQuerySet(RestrictedQuerySet):
    """Owners manage every token (they hold every permission; no other role is given
    token permissions); everyone else sees only their own."""

    owner_field = "user"


class ApiToken(models.Model):
    """A per-user API key. Only its hash is stored; the key is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created"]
        verbose_name = "API token"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @staticmethod
    def generate_key() -> str:
        return secrets.token_urlsafe(32)

    def set_key(self, key: str) -> None:
        self.prefix = key[:8]
        self.key_hash = _hash(key)

    @classmethod
    def find(cls, key: str) -> ApiToken | None:
        return cls.objects.select_related("user", "user__role").filter(key_hash=_hash(key)).first()

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return self.revoked_at is None and not self.is_expired and self.user.is_active

    @property
    def state(self) -> str:
        if self.revoked_at:
            return "revoked"
        if self.is_expired:
            return "expired"
        return "active"


class LoginFailure(models.Model):
    """A failed sign-in, kept briefly to throttle password guessing."""

    username = models.CharField(max_length=150, db_index=True)
    address = models.GenericIPAddressField(null=True, blank=True)
    created = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self):
        return f"{self.username} from {self.address} at {self.created}"
