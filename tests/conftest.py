"""Shared fixtures.

Real device captures come from two places. Those whose licence allows it are in the
repository, in `tests/vectors/` (see its README). The others (no licence, or terms not
checked) are read from a folder beside the checkout, `../shared/vectors`, or from the folder
named by `OXI_ASSIST_VECTORS`. A test that needs one of those is skipped, with the reason,
when the folder is missing; in CI (the environment variable `CI` set to a true value) it
fails instead, so a CI run cannot pass by skipping them.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: captures kept in the repository, by name (relative to the vectors folder)
IN_REPO = ROOT / "tests" / "vectors"
REPO_FILES = {
    "contec-cms50e-live.SpO2": IN_REPO / "gpl-3.0-or-later" / "contec-cms50e-live.SpO2",
    "contec-cms50e-live.csv": IN_REPO / "gpl-3.0-or-later" / "contec-cms50e-live.csv",
}
#: where the other captures are looked for
EXTERNAL = Path(os.environ.get("OXI_ASSIST_VECTORS") or ROOT.parent / "shared" / "vectors")
TRUE = {"1", "true", "yes", "on"}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in TRUE


class Vectors:
    """`vectors / NAME` → the path of a real capture: the repository's copy when there is
    one, else the external folder's. A capture that is in neither skips the test outside CI
    and fails it in CI."""

    def __init__(self, external: Path) -> None:
        self.external = external

    def __truediv__(self, name: str) -> Path:
        if name in REPO_FILES:
            return REPO_FILES[name]
        p = self.external / name
        if not (self.external / Path(name).parts[0]).exists():  # a WFDB record has no suffix
            why = (f"real capture {name!r} not found in {self.external} (it cannot be kept in "
                   "the repository: see tests/vectors/README.md; set OXI_ASSIST_VECTORS to "
                   "its folder)")
            if in_ci():
                pytest.fail(why)
            pytest.skip(why)
        return p


@pytest.fixture(scope="session")
def vectors() -> Vectors:
    """The real captures (see the module docstring)."""
    return Vectors(EXTERNAL)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT
