"""Writes for people and access: users, roles and API tokens.

Only Owners manage users and roles (the Owner role holds every permission;
other roles lack `accounts.add_user` and friends unless an Owner grants them).
Every user manages their own API tokens; Owners manage anyone's.

Passwords and token keys never reach the event log: a password change is
logged without values, and a token is logged by name and prefix only.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from patron.accounts.models import ApiToken, Role, User
from patron.core import audit
from patron.core.actor import Actor
from patron.core.errors import PermissionDenied, ValidationError
from patron.core.services import lock, require_perm

# What the event log shows of a user; never the password hash or login stamps.
USER_FIELDS = ["username", "first_name", "last_name", "email", "role", "is_active"]
ROLE_FIELDS = ["name", "description", "is_owner"]
LAST_OWNER = (
    "{name} is the last active Owner. Give another active user the Owner role first, "
    "so that someone can still manage users and roles."
)


# --- helpers ---------------------------------------------------------------


def _actor_is_owner(actor: Actor) -> bool:
    """System jobs act with full rights; people only when their role is an Owner role."""
    return actor.user is None or actor.user.is_owner


def _require_owner_to_grant(actor: Actor, role: Role | None, field: str = "role") -> None:
    # A role able to manage users must not be able to make its holder an Owner.
    if role is not None and role.is_owner and not _actor_is_owner(actor):
        raise PermissionDenied("Only an Owner can give someone an Owner role.")


def _check_password(password: str, user: User) -> None:
    if not password:
        raise ValidationError({"password": "Enter a password."})
    try:
        password_validation.validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc


def _check_username(user: User) -> None:
    user.username = (user.username or "").strip()
    clash = User.objects.filter(username__iexact=user.username).exclude(pk=user.pk).first()
    if user.username and clash is not None:
        raise ValidationError({"username": f"A user named “{clash.username}” already exists."})


def _other_active_owners(user: User):
    return (
        User.objects.select_for_update()
        .filter(is_active=True, role__is_owner=True)
        .exclude(pk=user.pk)
    )


def _user_snapshot(user: User) -> dict:
    data = audit.snapshot(user, USER_FIELDS)
    data["restricted_groups"] = audit.display_value(user, "restricted_groups")
    return data


def perm_names(perms: Iterable[Permission]) -> list[str]:
    """ "app_label.codename" for each permission, sorted."""
    return sorted(f"{p.content_type.app_label}.{p.codename}" for p in perms)


def _role_perm_names(role: Role) -> set[str]:
    return {
        f"{app}.{code}"
        for app, code in role.permissions.values_list("content_type__app_label", "codename")
    }


# --- users -----------------------------------------------------------------


def user_create(*, actor: Actor, data: dict, password: str) -> User:
    """Create a staff user with a password; `data` may hold `restricted_groups`."""
    require_perm(actor, User, "add")
    data = dict(data)
    groups = data.pop("restricted_groups", None) or []
    _require_owner_to_grant(actor, data.get("role"))
    user = User(**data)
    _check_username(user)
    user.full_clean(exclude=["password"])
    _check_password(password, user)
    user.set_password(password)
    with transaction.atomic():
        user.save()
        user.restricted_groups.set(groups)
        after = _user_snapshot(user)
        audit.record(
            actor=actor,
            action="created",
            obj=user,
            changes={k: [None, v] for k, v in after.items() if v not in (None, "", [], False)},
            message=f"Created user {user.username}",
        )
    return user


def user_update(
    *,
    actor: Actor,
    user: User,
    data: dict,
    expected_version: int | None = None,
    action: str = "updated",
    message: str = "",
) -> User:
    """Change a user's profile, role, active flag or restricted groups.

    The last active Owner can be neither demoted nor deactivated.
    """
    require_perm(actor, User, "change")
    data = dict(data)
    data.pop("password", None)
    groups = data.pop("restricted_groups", None)
    with transaction.atomic():
        locked = lock(user, expected_version)
        if "role" in data and data["role"] != locked.role:
            _require_owner_to_grant(actor, data["role"])
        before = _user_snapshot(locked)
        was_owner = locked.is_owner
        for name, value in data.items():
            setattr(locked, name, value)
        _check_username(locked)
        locked.full_clean(exclude=["password"])
        if was_owner and not locked.is_owner and not _other_active_owners(locked).exists():
            field = "is_active" if not locked.is_active else "role"
            raise ValidationError({field: LAST_OWNER.format(name=locked.username)})
        if groups is not None:
            locked.restricted_groups.set(groups)
        after = _user_snapshot(locked)
        changes = audit.diff(before, after)
        if not changes:
            return locked
        locked.version = F("version") + 1
        locked.save(update_fields=[*data, "version"])
        locked.refresh_from_db(fields=["version"])
        audit.record(
            actor=actor,
            action=action,
            obj=locked,
            changes=changes,
            message=message or f"Changed user {locked.username}",
        )
    return locked


def user_set_password(*, actor: Actor, user: User, password: str) -> User:
    """Set a new password; the log records that it changed, never the value."""
    require_perm(actor, User, "change")
    with transaction.atomic():
        locked = lock(user)
        _check_password(password, locked)
        locked.set_password(password)
        locked.version = F("version") + 1
        locked.save(update_fields=["password", "version"])
        locked.refresh_from_db(fields=["version"])
        audit.record(
            actor=actor,
            action="password_set",
            obj=locked,
            message=f"Set a new password for {locked.username}",
        )
    return locked


def user_deactivate(*, actor: Actor, user: User) -> User:
    """Stop a user from signing in (their API tokens stop working with them)."""
    if not user.is_active:
        raise ValidationError({"is_active": f"{user.username} is already inactive."})
    return user_update(
        actor=actor,
        user=user,
        data={"is_active": False},
        action="deactivated",
        message=f"Deactivated user {user.username}",
    )


# --- roles -----------------------------------------------------------------


def role_create(*, actor: Actor, data: dict, permissions: Iterable[Permission] = ()) -> Role:
    require_perm(actor, Role, "add")
    if data.get("is_owner") and not _actor_is_owner(actor):
        raise PermissionDenied("Only an Owner can create a role with every permission.")
    role = Role(**data)
    role.name = (role.name or "").strip()
    role.full_clean()
    permissions = list(permissions)
    with transaction.atomic():
        role.save()
        role.permissions.set(permissions)
        after = audit.snapshot(role, ROLE_FIELDS)
        changes = {k: [None, v] for k, v in after.items() if v not in (None, "", [], False)}
        if permissions:
            changes["permissions_added"] = [None, perm_names(permissions)]
        audit.record(
            actor=actor,
            action="created",
            obj=role,
            changes=changes,
            message=f"Created role {role}",
        )
    return role


def role_update(
    *,
    actor: Actor,
    role: Role,
    data: dict,
    permissions: Iterable[Permission] | None = None,
    expected_version: int | None = None,
) -> Role:
    """Rename a role, change its description or its permission set.

    `permissions=None` leaves the set as it is. An Owner role stays an Owner
    role; only an Owner may turn a role into one.
    """
    require_perm(actor, Role, "change")
    data = {k: v for k, v in data.items() if k in ROLE_FIELDS}
    with transaction.atomic():
        locked = lock(role, expected_version)
        if locked.is_owner and data.get("is_owner") is False:
            raise ValidationError(
                {
                    "is_owner": "The Owner role always holds every permission; "
                    "this cannot be switched off."
                }
            )
        if data.get("is_owner") and not locked.is_owner and not _actor_is_owner(actor):
            raise PermissionDenied("Only an Owner can give a role every permission.")
        before = audit.snapshot(locked, ROLE_FIELDS)
        for name, value in data.items():
            setattr(locked, name, value)
        locked.name = (locked.name or "").strip()
        locked.full_clean()
        changes = audit.diff(before, audit.snapshot(locked, ROLE_FIELDS))
        if permissions is not None:
            permissions = list(permissions)
            old, new = _role_perm_names(locked), set(perm_names(permissions))
            if old - new:
                changes["permissions_removed"] = [sorted(old - new), None]
            if new - old:
                changes["permissions_added"] = [None, sorted(new - old)]
            locked.permissions.set(permissions)
        if not changes:
            return locked
        locked.version = F("version") + 1
        locked.save(update_fields=[*data, "version", "modified"])
        locked.refresh_from_db(fields=["version"])
        audit.record(
            actor=actor,
            action="updated",
            obj=locked,
            changes=changes,
            message=f"Changed role {locked}",
        )
    return locked


def role_delete(*, actor: Actor, role: Role) -> None:
    """Delete a role no user holds. The last Owner role is never deleted."""
    require_perm(actor, Role, "delete")
    with transaction.atomic():
        locked = lock(role)
        holders = locked.users.count()
        if holders:
            raise ValidationError(
                f"{holders} user{'s' if holders != 1 else ''} "
                f"{'have' if holders != 1 else 'has'} the role “{locked}”. "
                "Give them another role first."
            )
        if locked.is_owner and not Role.objects.filter(is_owner=True).exclude(pk=locked.pk):
            raise ValidationError(f"“{locked}” is the only Owner role and cannot be deleted.")
        before = audit.snapshot(locked, ROLE_FIELDS)
        audit.record(
            actor=actor,
            action="deleted",
            obj=locked,
            changes={k: [v, None] for k, v in before.items() if v not in (None, "", False)},
            message=f"Deleted role {locked}",
        )
        locked.delete()


# --- API tokens -------------------------------------------------------------


def _require_token_access(actor: Actor, user: User) -> None:
    if actor.user is not None and actor.user.pk != user.pk and not actor.user.is_owner:
        raise PermissionDenied("You can only manage your own API tokens.")


def default_token_expiry(now: datetime.datetime | None = None) -> datetime.datetime | None:
    """Now plus PATRON_TOKEN_DAYS, or None (never) when that setting is 0."""
    days = settings.PATRON_TOKEN_DAYS
    if not days:
        return None
    return (now or timezone.now()) + datetime.timedelta(days=days)


def token_create(
    *, actor: Actor, user: User, name: str, expires_at: datetime.datetime | None = None
) -> tuple[ApiToken, str]:
    """Issue a token for `user`. Returns the token and its key, which is shown once:
    only a hash of it is stored."""
    _require_token_access(actor, user)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the token a name, e.g. the script that will use it."})
    if len(name) > 100:
        raise ValidationError({"name": "Keep the name to 100 characters or fewer."})
    if not user.is_active:
        raise ValidationError({"user": f"{user.username} is inactive and cannot have new tokens."})
    now = timezone.now()
    if expires_at is None:
        expires_at = default_token_expiry(now)
    elif expires_at <= now:
        raise ValidationError({"expires_at": "Choose an expiry date in the future."})
    key = ApiToken.generate_key()
    token = ApiToken(user=user, name=name, expires_at=expires_at)
    token.set_key(key)
    with transaction.atomic():
        token.save()
        audit.record(
            actor=actor,
            action="created",
            obj=token,
            changes={
                "name": [None, name],
                "user": [None, user.username],
                "prefix": [None, token.prefix],
                "expires_at": [None, expires_at.isoformat() if expires_at else None],
            },
            message=f"Created API token {name} for {user.username}",
        )
    return token, key


def token_revoke(*, actor: Actor, token: ApiToken) -> ApiToken:
    """Revoke a token at once; requests using it are refused from now on."""
    _require_token_access(actor, token.user)
    with transaction.atomic():
        locked = ApiToken.objects.select_for_update().select_related("user").get(pk=token.pk)
        if locked.revoked_at is not None:
            raise ValidationError(
                f"The token “{locked.name}” was already revoked on "
                f"{timezone.localtime(locked.revoked_at):%d %b %Y %H:%M}."
            )
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit.record(
            actor=actor,
            action="revoked",
            obj=locked,
            changes={"revoked_at": [None, locked.revoked_at.isoformat()]},
            message=f"Revoked API token {locked.name} of {locked.user.username}",
        )
    return locked
