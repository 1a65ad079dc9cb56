"""Hostile guidance files (tests/oxi_assist/guide/guidance_hostile/): each is refused by
`guidance check` on the marked line with the expected words, and each that can be built
into a protocol is also run through the engine with the checker bypassed, to show the engine's
own rules keep the unsafe text off the screen.

Each file's header says how: `# drive:` a responder script, `# vitals:` "SPO2 QUALITY" fed
every second, `# until:` the last second to watch, `# hidden:` the words that must never be
shown ("origin:BC" means: the item must never be shown as BC's alone). Unless the header says
`# reach: no`, the test also runs the engine with its safety functions switched off and
checks the words DO appear then — so the drive really reaches the unsafe situation and the
test cannot pass by never getting there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from drivers.errors import ConfigError
from oxi_assist.actions import parse_script
from oxi_assist.cli import main
from oxi_assist.guide import safety as guide_safety
from oxi_assist.guide import schema as guidance_schema
from oxi_assist.guide import wording as guide_module
from oxi_assist.guide.engine import Guide, GuideState
from oxi_assist.monitor.vitals import Band, Quality, VitalsState

HOSTILE = Path(__file__).parent / "guidance_hostile"
FILES = sorted(HOSTILE.glob("*.toml"))


@dataclass(frozen=True)
class Case:
    path: Path
    line: int
    expect: str
    drive: str | None
    vitals: tuple[float, Quality] | None
    until: float | None
    hidden: str
    reach: bool


def case(path: Path) -> Case:
    text = path.read_text(encoding="utf-8")
    marked = [(i, ln) for i, ln in enumerate(text.splitlines(), start=1) if "# expect:" in ln]
    assert len(marked) == 1, f"{path.name}: mark exactly one line with `# expect:`"
    line, raw = marked[0]
    head = dict(re.findall(r"^# (\w+): (.*)$", text, flags=re.MULTILINE))
    vitals = None
    if head.get("vitals"):
        spo2, quality = head["vitals"].split()
        vitals = (float(spo2), Quality(quality))
    return Case(path, line, raw.split("# expect:", 1)[1].strip(), head.get("drive"), vitals,
                float(head["until"]) if "until" in head else None, head.get("hidden", ""),
                head.get("reach", "yes") == "yes")


CASES = [case(p) for p in FILES]


def test_the_corpus_is_there() -> None:
    assert len(CASES) >= 20
    assert sum(1 for c in CASES if c.drive is not None) >= 15


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.path.stem)
def test_check_refuses_it_on_the_line(c: Case, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["guidance", "check", str(c.path)]) == 2
    out = capsys.readouterr().out.splitlines()
    mine = [o for o in out if o.startswith(f"{c.path}:{c.line}: ")]
    assert any(c.expect in o for o in mine), (c.expect, out)
    with pytest.raises(ConfigError):
        guidance_schema.load(c.path)


def shown(s: GuideState) -> list[str]:
    """Everything a responder can read on the screen, and "origin:X" for each prompt."""
    out = [s.step.title, *s.step.lines]
    out += [p.text for p in (*s.warnings, *s.suggestions)]
    out += [f"origin:{p.origin}" for p in (*s.warnings, *s.suggestions)]
    out += [t.message for t in s.timers if t.due]
    out += [o.label for o in s.offered]
    out += [ln for n in s.notes for ln in n.lines]
    return out


def run(c: Case) -> list[str]:
    proto, problems = guidance_schema.validate_text(c.path.read_text(encoding="utf-8"),
                                                    str(c.path), safety=False)
    assert proto is not None, problems
    g = Guide(proto)
    actions = parse_script(c.drive or "")
    end = c.until if c.until is not None else (max((a.t for a in actions), default=0) + 400)
    seen: list[str] = []
    i = 0
    for s in range(int(end) + 1):
        while i < len(actions) and actions[i].t <= s:
            g.on_action(actions[i].action, t=actions[i].t, **actions[i].params)
            seen.extend(shown(g.state))
            i += 1
        if c.vitals is not None:
            spo2, q = c.vitals
            band = Band.NORMAL if spo2 >= 95 else Band.LOW
            g.on_vitals(VitalsState(float(s), spo2, 70.0, 2.0, band, q, None))
        seen.extend(shown(g.tick(float(s))))
    return seen


def exact(hidden: str, seen: list[str]) -> bool:
    if hidden.startswith("origin:"):
        return hidden in seen
    return any(hidden.lower() in x.lower() for x in seen)


RUNS = [c for c in CASES if c.drive is not None]


@pytest.mark.parametrize("c", RUNS, ids=lambda c: c.path.stem)
def test_the_engine_keeps_it_off_the_screen_even_unchecked(c: Case) -> None:
    assert not exact(c.hidden, run(c))


@pytest.mark.parametrize("c", [c for c in RUNS if c.reach], ids=lambda c: c.path.stem)
def test_without_its_rules_the_engine_would_show_it(c: Case,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The drive reaches the unsafe situation: with the engine's checks switched off, the
    hostile words do appear (so the test above cannot pass by never getting there)."""
    monkeypatch.setattr(guide_safety, "may_show", lambda does, facts: True)
    monkeypatch.setattr(guide_module, "PROTECTED", ())
    assert exact(c.hidden, run(c))


def test_an_action_tied_to_a_number_shows_as_ours_even_unchecked() -> None:
    c = next(c for c in CASES if c.path.stem == "number-shown-as-bc")
    seen = run(c)
    assert "origin:BC + ours" in seen and "origin:BC" not in seen


@pytest.mark.parametrize("c", [c for c in CASES if c.drive is None], ids=lambda c: c.path.stem)
def test_unloadable_files_are_refused_even_without_the_safety_check(c: Case) -> None:
    proto, problems = guidance_schema.validate_text(c.path.read_text(encoding="utf-8"),
                                                    str(c.path), safety=False)
    assert proto is None and any(p.line == c.line and c.expect in p.message
                                 for p in problems)


OLD_CHECKER_PASSED = """
[guidance]
id = "hostile"
title = "What the checker used to let through"
start = "a"

[[source]]
id = "gov"
label = "BC-official"
url = "https://example.org/gov"

[[step]]
id = "a"
title = "First"
lines = [ { text = "Look at them.", source = "gov" } ]

[[prompt]]
id = "stop"
text = "You can stop breaths."
source = "gov"
when = { breathing = "not_normal" }

[[prompt]]
id = "no-911"
text = "They will be fine, no need to call 911."
source = "gov"

[[prompt]]
id = "again"
text = "Give naloxone again now."
source = "gov"
when = { breathing = "normal" }

[[prompt]]
id = "band"
text = "Oxygen in the normal band."
source = "gov"
when = { band = "normal" }
"""


def test_what_the_checker_used_to_let_through_is_refused() -> None:
    """The three prompts of the finding (and a band condition) passed `guidance check`
    before; each is now refused on its own line."""
    proto, problems = guidance_schema.validate_text(OLD_CHECKER_PASSED, "old.toml")
    assert proto is None
    lines = OLD_CHECKER_PASSED.splitlines()
    for needle, why in [('"You can stop breaths."', "breathing is not normal"),
                        ("no need to call 911", "911 is not called"),
                        ('"Give naloxone again now."', "breathing is normal"),
                        ('"Oxygen in the normal band."', "reassure")]:
        line = next(i for i, ln in enumerate(lines, start=1) if needle in ln)
        assert any(p.line == line and why in p.message for p in problems), (needle, problems)
