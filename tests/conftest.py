"""Shared fixtures. Real device captures are read from ../shared/vectors beside the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VECTORS = ROOT.parent / "shared" / "vectors"


@pytest.fixture(scope="session")
def vectors() -> Path:
    """The folder of real captures; a test that needs one fails loudly if it is missing."""
    if not VECTORS.is_dir():
        pytest.fail(f"real test vectors not found at {VECTORS}")
    return VECTORS


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT
