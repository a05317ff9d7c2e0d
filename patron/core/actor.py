"""Who is acting: a signed-in user, an API token, or the system itself.

Every service function takes `actor` explicitly, so the event log is written
the same way from a view, the API, the command line or a background job.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Actor:
    user: Any = None
    token: Any = None
    system: str = ""

    @classmethod
    def from_request(cls, request) -> Actor:
        token = getattr(request, "auth", None)
        from patron.accounts.models import ApiToken

        if isinstance(token, ApiToken):
            return cls(user=request.user, token=token)
        return cls(user=request.user)

    @classmethod
    def system_actor(cls, name: str) -> Actor:
        return cls(system=name)

    @property
    def kind(self) -> str:
        if self.token is not None:
            return "token"
        if self.user is not None:
            return "user"
        return "system"

    @property
    def label(self) -> str:
        if self.token is not None:
            return f"{self.user.username} (token {self.token.name})"
        if self.user is not None:
            return self.user.username
        return self.system or "system"

    def has_perm(self, perm: str) -> bool:
        """System actors may do anything; people only what their role allows."""
        if self.user is None:
            return True
        return self.user.has_perm(perm)


# The system's own reads: `Model.objects.restrict(SYSTEM)` is every row.
SYSTEM = Actor.system_actor("system")


def who_or_system(user) -> Any:
    """`user` for `restrict()`, where the older `user=None` means system work."""
    return SYSTEM if user is None else user
