"""Where import and export files live: under Patron's data directory."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings


def storage_dir(kind: str) -> Path:
    """`<PATRON_DATA_DIR>/<kind>/`, created on first use (kind: "imports" or "exports")."""
    path = Path(settings.DATA_DIR) / kind
    path.mkdir(parents=True, exist_ok=True)
    return path
