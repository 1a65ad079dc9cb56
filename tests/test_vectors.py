"""The real captures kept in the repository, and what happens when the others are absent."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from tests.conftest import IN_REPO, REPO_FILES, Vectors

ROW = re.compile(r"^\| `([^`]+)` \| (\d+) \| `([0-9a-f]{64})` \| ([^|]+) \|$", re.M)


def _listed() -> dict[str, tuple[int, str]]:
    text = (IN_REPO / "README.md").read_text(encoding="utf-8")
    return {m.group(1): (int(m.group(2)), m.group(3)) for m in ROW.finditer(text)}


def test_every_capture_here_is_listed_with_its_size_and_sum():
    listed = _listed()
    here = {p.relative_to(IN_REPO).as_posix() for p in IN_REPO.rglob("*") if p.is_file()
            and p.name not in ("README.md", ".gitattributes", "COPYING")}
    assert here == set(listed)
    for name, (size, sha) in listed.items():
        data = (IN_REPO / name).read_bytes()
        assert (len(data), hashlib.sha256(data).hexdigest()) == (size, sha), name
    assert (IN_REPO / "gpl-3.0-or-later" / "COPYING").read_text().startswith(
        "                    GNU GENERAL PUBLIC LICENSE\n                       Version 3")


def test_the_fixture_serves_the_repository_copies(vectors):
    for name, path in REPO_FILES.items():
        assert vectors / name == path and path.is_file()


@pytest.mark.parametrize("ci", ["", "0", "false"])
def test_a_missing_capture_skips_with_its_reason_outside_ci(tmp_path, monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.skip.Exception, match=r"'cms50e-v7-live\.hex' not found"):
        Vectors(tmp_path / "absent") / "cms50e-v7-live.hex"


@pytest.mark.parametrize("ci", ["1", "true", "TRUE", "yes"])
def test_a_missing_capture_fails_in_ci(tmp_path, monkeypatch, ci):
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="'wfdb-mimic-numerics/rec' not found"):
        Vectors(tmp_path / "absent") / "wfdb-mimic-numerics/rec"


def test_a_present_capture_is_found_by_its_folder(tmp_path):
    (tmp_path / "wfdb-mimic-numerics").mkdir()
    got = Vectors(tmp_path) / "wfdb-mimic-numerics/rec"  # a WFDB record named without suffix
    assert got == Path(tmp_path / "wfdb-mimic-numerics/rec")
