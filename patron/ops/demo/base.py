"""What every part of the demo loader shares: the loader's state and small helpers."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class DemoSummary:
    customers: int = 0
    contacts: int = 0
    tags: int = 0
    groups: int = 0
    users: list[str] = field(default_factory=list)
    billing: str = ""

    def lines(self) -> list[str]:
        return [
            f"Loaded {self.customers} customers with {self.contacts} contacts, "
            f"{self.tags} tags and {self.groups} groups.",
            "Demo staff users: " + ", ".join(self.users) + " (no password yet: as the Owner, "
            "set one on the Users page to sign in as them).",
        ] + ([self.billing] if self.billing else [])


def get_or_create(model, lookup: dict, create):
    """The existing row, or a new one made by `create()` (a service call)."""
    existing = model.objects.filter(**lookup).first()
    return existing if existing is not None else create()


def words(text: str, sep: str | None = None) -> list[str]:
    return text.split(sep)


def slug(text: str) -> str:
    return "".join(c for c in text.lower().replace(" ", "-") if c.isalnum() or c == "-").strip("-")
