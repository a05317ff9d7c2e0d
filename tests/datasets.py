"""Where the shared real datasets are, and how a test that needs them skips or fails.

`../shared/datasets/` beside the project (`PATRON_DATASETS_DIR` overrides it). A test
that needs a file skips with the reason when it is absent, and fails instead when
PATRON_REQUIRE_DATASETS=1: `.ci/run` sets it when it finds the datasets, so a clone
that has them beside it must use them, and one that has not still passes.
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
        if os.environ.get("PATRON_REQUIRE_DATASETS") == "1":
            pytest.fail(f"{message} and PATRON_REQUIRE_DATASETS=1")
        pytest.skip(f"{message}; set PATRON_DATASETS_DIR to the datasets' folder")
    return path
