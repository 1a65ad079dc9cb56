"""Every case of the bad-input corpus (tests/bad_inputs/manifest.toml) through the real command
line: exit 2, exactly one line on stderr naming the problem, never a traceback, and a `monitor`
URI that fails before the screen starts. A few cases run as a real `python -m oxi_assist`
child process (all at once, so the suite stays fast); the rest call `oxi_assist.cli.main`."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from oxi_assist.cli import main

CORPUS = Path(__file__).resolve().parents[1] / "bad_inputs"
REPO = CORPUS.parents[1]
CASES: list[dict[str, Any]] = tomllib.loads((CORPUS / "manifest.toml").read_text())["case"]


def _args(case: dict[str, Any], tmp: Path) -> list[str]:
    return shlex.split(case["cmd"].replace("{tmp}", str(tmp)))


def _id(case: dict[str, Any]) -> str:
    return case["cmd"][:70]


def _check(case: dict[str, Any], code: int, out: str, err: str) -> None:
    lines = err.splitlines()
    assert code == 2, f"exit {code}; stderr: {err!r}"
    assert "Traceback" not in err + out
    assert len(lines) == 1, f"expected one stderr line, got {lines!r}"
    assert case["expect"] in lines[0], lines[0]


@pytest.fixture(scope="module")
def child_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str, str]]:
    """Runs every subprocess case concurrently (2 at a time would be as slow as the slowest
    pair; these are I/O-light and start in about a second)."""
    tmp = tmp_path_factory.mktemp("children")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OXI_ASSIST_DATA_DIR": str(tmp / "data"),
           "NO_COLOR": "1"}
    procs = {}
    for case in CASES:
        if case.get("subprocess"):
            procs[case["cmd"]] = subprocess.Popen(
                [sys.executable, "-m", "oxi_assist", *_args(case, tmp)], cwd=CORPUS, env=env,
                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                text=True)
    out = {}
    for cmd, p in procs.items():
        try:
            so, se = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:  # e.g. a screen that started instead of an error
            p.kill()
            so, se = p.communicate()
            out[cmd] = (-1, so, se + "\n(timed out)")
            continue
        out[cmd] = (p.returncode, so, se)
    return out


@pytest.mark.parametrize("case", [c for c in CASES if c.get("subprocess")], ids=_id)
def test_case_in_a_real_process(case: dict[str, Any],
                                child_results: dict[str, tuple[int, str, str]]) -> None:
    code, out, err = child_results[case["cmd"]]
    _check(case, code, out, err)


@pytest.mark.parametrize("case", [c for c in CASES if not c.get("subprocess")], ids=_id)
def test_case_in_process(case: dict[str, Any], tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:
    import textual.app

    def no_screen(*a: object, **k: object) -> None:
        raise AssertionError("the screen started: a bad source must fail before it")

    monkeypatch.setattr(textual.app.App, "run", no_screen)
    monkeypatch.chdir(CORPUS)
    monkeypatch.setenv("OXI_ASSIST_DATA_DIR", str(tmp_path / "data"))
    try:
        code = main(_args(case, tmp_path))
    except SystemExit as e:  # argparse usage errors exit 2 through SystemExit
        code = int(e.code or 0)
    cap = capsys.readouterr()
    _check(case, code, cap.out, cap.err)
    assert not (tmp_path / "data").exists() or not any((tmp_path / "data").rglob("*.jsonl"))


def test_corpus_is_large_and_every_file_has_a_case() -> None:
    files = {p.relative_to(CORPUS).as_posix() for p in CORPUS.rglob("*")
             if p.is_file() and p.parent != CORPUS and p.parent.name != "good"}
    used = {c["file"] for c in CASES if c["file"]}
    assert len(files) >= 30
    assert files <= used, sorted(files - used)
    assert len(CASES) >= 60
    kinds = {c["cmd"].split()[0] for c in CASES}
    assert {"info", "debrief", "analyze", "decode", "monitor", "simulate", "guidance",
            "walkthrough", "replay"} <= kinds
