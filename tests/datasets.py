"""Where the shared real datasets are, and how a test that needs them skips or fails.

`../shared/datasets/` beside the project (`PATRON_DATASETS_DIR` overrides it). A test
that needs a file skips with the reason when it is absent, and fails instead when
PATRON_REQUIRE_SERVICES=1 (CI), as the tests of other outside services do.
"""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def datasets_dir() -> Path:
    configured = os.environ.get("PATRON_DATASETS_DIR", "").strip()
    return Path(configured) if configured else ROOT.parent / "shared" / "datasets"


def dataset(relative: str) -> Path:
    """The path of a dataset file; skips (or fails in CI) when it is absent."""
    path = datasets_dir() / relative
    if not path.is_file():
        message = f"the dataset {relative} is not in {datasets_dir()}"
        if os.environ.get("PATRON_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{message} and PATRON_REQUIRE_SERVICES=1")
        pytest.skip(f"{message}; see /work/shared/datasets/README.md")
    return path
