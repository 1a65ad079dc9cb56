"""Every case of the bad-input corpus (tests/bad_inputs/manifest.toml) through the real command
line: exit 2, exactly one line on stderr naming the problem, never a traceback, never a hang
(a time bound), and no file of the corpus folder changed (hashed before and after), nor
anything left in the case's output folder. The cases marked `subprocess` (those that could
hang or eat memory if a fix regressed, and a few of each kind) run as real `python -m
oxi_assist` processes, a few at a time, under a time and memory bound; the rest call
`oxi_assist.cli.main` in this process (same code, no start-up cost) under a watchdog.

The runner is benchmarks/reliability_files.py, which also publishes the table in
docs/RELIABILITY.md."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from benchmarks import reliability_files as rf

CASES = rf.load_cases()


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One working copy of the corpus for the in-process cases (none of them may change it)."""
    return rf.prepare(tmp_path_factory.mktemp("corpus") / "corpus")


@pytest.fixture(scope="module")
def child_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, rf.Result]:
    base = tmp_path_factory.mktemp("children")
    cases = [c for c in CASES if c.subprocess]
    return {r.case.cmd: r for r in rf.run_all(cases, base, jobs=3)}


@pytest.mark.parametrize("case", [c for c in CASES if c.subprocess], ids=lambda c: c.id)
def test_case_in_a_real_process(case: rf.Case, child_results: dict[str, rf.Result]) -> None:
    r = child_results[case.cmd]
    assert r.ok, r.report()


@pytest.mark.parametrize("case", [c for c in CASES if not c.subprocess], ids=lambda c: c.id)
def test_case_in_process(case: rf.Case, work: Path, tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch) -> None:
    import textual.app

    def no_screen(*a: object, **k: object) -> None:
        raise AssertionError("the screen started: a bad input must fail before it")

    monkeypatch.setattr(textual.app.App, "run", no_screen)
    r = rf.run_in_process(case, work, tmp_path / "out", tmp_path / "state")
    assert r.ok, r.report()
    recorded = list((tmp_path / "state").rglob("*.jsonl"))
    assert not recorded, f"a session was recorded: {recorded}"


def test_corpus_is_large_and_every_file_has_a_case() -> None:
    files = {p.relative_to(rf.CORPUS).as_posix() for p in rf.CORPUS.rglob("*")
             if p.is_file() and p.parent != rf.CORPUS and p.parent.name not in ("good",
                                                                                 "outputs")
             and "__pycache__" not in p.parts}
    used = {c.file for c in CASES if c.file}
    assert files <= used, sorted(files - used)
    assert len(CASES) >= 200
    assert len({c.cmd for c in CASES}) == len(CASES), "a case is listed twice"
    kinds = {c.cmd.split()[0] for c in CASES}
    assert {"info", "debrief", "analyze", "decode", "monitor", "simulate", "guidance",
            "walkthrough", "replay", "convert", "download", "virtual-device", "sessions",
            "demo", "guide", "scan"} <= kinds
    classes = Counter(c.cls for c in CASES)
    assert set(classes) == set(rf.CLASS_WORDS), classes
    assert all(n >= 5 for n in classes.values()), classes


def test_the_runner_catches_what_it_is_meant_to(tmp_path: Path) -> None:
    """The checks themselves: a changed file, a traceback, two lines, a wrong exit code."""
    case = rf.Case("content", "", "info x", "boom")
    good = rf.Result(case, 2, "", "oxi-assist: error: boom\n", 0.1)
    assert good.ok
    assert not rf.Result(case, 0, "", "oxi-assist: error: boom\n", 0.1).ok
    assert not rf.Result(case, 2, "", "boom\nsecond line\n", 0.1).ok
    assert not rf.Result(case, 1, "", "Traceback (most recent call last):\n boom", 0.1).ok
    assert not rf.Result(case, 2, "", "oxi-assist: error: boom\n", 0.1, changed=["a"]).ok
    assert not rf.Result(case, None, "", "boom\n", 60.0, timed_out=True).ok
    (tmp_path / "f").write_text("x")
    before = rf.snapshot(tmp_path)
    (tmp_path / "f").write_text("y")
    assert rf._changed(before, rf.snapshot(tmp_path)) == ["f"]


def test_the_undamaged_edf_of_the_corpus_reads() -> None:
    """The EDF cases differ from this file only in the field each damages."""
    from drivers.formats import load

    rec = load(rf.CORPUS / "good" / "ok.edf")
    assert len(rec.readings) == 10 and rec.format == "edf"
