"""Whole responses as data (tests/oxi_assist/guide/responses/*.toml), played through the same
Session, Monitor and Guide the live screen drives (`oxi_assist.play`).

A script names a scenario ("none" for guidance with no device), a seed, the responder's
actions (the `--actions` syntax), a trainer's cues, how long to run, and windows of time
with what must and must not be on screen:

    title = "..."; finding = "..."      # what it shows, and which finding it covers
    scenario = "opioid-overdose"; seed = 0; until = "12m"
    actions = "30s:unresponsive,1m:naloxone"; cues = "3m:finger_out:seconds=60"
    [[expect]]
    from = "1m"; to = "3m"              # inclusive, in scenario time
    step = "evaluate-support"           # the step at every moment (a list: any of them)
    says = ["call 911"]                 # each said at some moment (case-insensitive)
    always = ["call 911"]               # each said at every moment
    never = ["another dose"]            # never said
    prompts = ["dose-too-soon"]         # each shown (by id) at some moment
    no_prompts = ["normal-range"]       # never shown
    offered = ["911", "naloxone"]       # offered at every moment (action values)

"Said" is everything a responder can read: the step's title and lines, every prompt and
warning, and every due timer message.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from oxi_assist.actions import parse_time
from oxi_assist.guide.engine import GuideState
from oxi_assist.play import Played, Sample, play, response_session

RESPONSES = Path(__file__).parent / "responses"
FILES = sorted(RESPONSES.glob("*.toml"))
TOP = {"title", "finding", "scenario", "seed", "until", "guidance", "actions", "cues",
       "expect"}
WINDOW = {"from", "to", "step", "says", "always", "never", "prompts", "no_prompts",
          "offered"}


@dataclass(frozen=True)
class Script:
    path: Path
    doc: dict[str, Any]

    @property
    def name(self) -> str:
        return self.path.stem


def load(path: Path) -> Script:
    doc = tomllib.loads(path.read_text(encoding="utf-8"))
    unknown = set(doc) - TOP
    assert not unknown, f"{path.name}: unknown keys {unknown}"
    assert doc.get("title") and doc.get("finding"), f"{path.name}: title and finding"
    assert doc.get("expect"), f"{path.name}: no [[expect]] windows"
    for w in doc["expect"]:
        assert set(w) <= WINDOW, f"{path.name}: unknown window keys {set(w) - WINDOW}"
        assert len(set(w) - {"from", "to"}) >= 1, f"{path.name}: a window that checks nothing"
    return Script(path, doc)


SCRIPTS = [load(p) for p in FILES]


def said(s: GuideState) -> list[str]:
    out = [s.step.title, *s.step.lines, *(p.text for p in (*s.warnings, *s.suggestions)),
           *(t.message for t in s.timers if t.due)]
    return [x.lower() for x in out]


def run(script: Script) -> Played:
    d = script.doc
    until = parse_time(str(d["until"]))
    session, source = response_session(d["scenario"], guidance=d.get("guidance"),
                                       seed=int(d.get("seed", 0)))
    return play(session, source, d.get("actions", ""), until, cues=d.get("cues", ""))


def window(samples: list[Sample], w: dict[str, Any]) -> list[Sample]:
    lo = parse_time(str(w.get("from", 0)))
    hi = parse_time(str(w["to"])) if "to" in w else float("inf")
    got = [s for s in samples if lo <= s.t <= hi and s.state is not None]
    assert got, f"no moment between {lo} and {hi} s"
    return got


def check_window(w: dict[str, Any], got: list[Sample]) -> None:
    where = f"{w.get('from', 0)}–{w.get('to', 'end')}"
    steps = w.get("step")
    if steps is not None:
        allowed = {steps} if isinstance(steps, str) else set(steps)
        bad = [(s.t, s.state.step.id) for s in got if s.state.step.id not in allowed]
        assert not bad, f"{where}: step not {sorted(allowed)} at {bad[:3]}"
    texts = [(s.t, said(s.state)) for s in got]
    for frag in w.get("says", []):
        f = frag.lower()
        assert any(f in x for _, xs in texts for x in xs), f"{where}: never said {frag!r}"
    for frag in w.get("always", []):
        f = frag.lower()
        missing = [t for t, xs in texts if not any(f in x for x in xs)]
        assert not missing, f"{where}: {frag!r} not said at {missing[:5]}"
    for frag in w.get("never", []):
        f = frag.lower()
        hits = [(t, x) for t, xs in texts for x in xs if f in x]
        assert not hits, f"{where}: said {frag!r}: {hits[:2]}"
    ids = [(s.t, {p.id for p in (*s.state.warnings, *s.state.suggestions)}) for s in got]
    for pid in w.get("prompts", []):
        assert any(pid in i for _, i in ids), f"{where}: prompt {pid!r} never shown"
    for pid in w.get("no_prompts", []):
        hits = [t for t, i in ids if pid in i]
        assert not hits, f"{where}: prompt {pid!r} shown at {hits[:3]}"
    for action in w.get("offered", []):
        missing = [s.t for s in got
                   if action not in {o.action.value for o in s.state.offered}]
        assert not missing, f"{where}: {action!r} not offered at {missing[:3]}"


def test_there_are_at_least_40_whole_responses() -> None:
    assert len(SCRIPTS) >= 40
    assert {s.doc["scenario"] for s in SCRIPTS} >= {
        "none", "opioid-overdose", "fentanyl-benzo", "xylazine", "resedation", "artifacts"}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda s: s.name)
def test_response(script: Script) -> None:
    played = run(script)
    for w in script.doc["expect"]:
        check_window(w, window(played.samples, w))
