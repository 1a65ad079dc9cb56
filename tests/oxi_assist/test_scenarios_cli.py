"""`oxi-assist scenarios -v`: what it says happens in each course is what the model does."""

from __future__ import annotations

import re

import pytest

from drivers.reading import DOUBTFUL
from oxi_assist.cli import main
from oxi_assist.commands.scenarios import SEED, course_lines, interventions
from simulators.scenario import format_time, load_scenario
from simulators.simulator import Simulator


def _course_text(scenario: str, course: str) -> str:
    sc = load_scenario(scenario)
    return " ".join(course_lines(sc, course, sc.courses[course]))


def _run(scenario: str, course: str):
    sc = load_scenario(scenario)
    c = sc.courses[course]
    sim = Simulator(sc, seed=SEED, record_states=True)
    for at, name, params in interventions(c):
        sim.schedule(at, name, **params)
    states: list = []
    readings = [r for r in sim.run(c.duration or sc.duration, states=states)
                if not r.wave_only]
    return readings, states


def _time_of(text: str, words: str) -> str:
    m = re.search(r"(\d+:\d\d) " + re.escape(words), text)
    assert m, f"{words!r} not in {text!r}"
    return m.group(1)


def test_untreated_words_are_the_model_s_own_times() -> None:
    text = _course_text("opioid-overdose", "untreated")
    readings, states = _run("opioid-overdose", "untreated")
    stops = next(s.t for s in states if s.breathing_rate == 0.0)
    arrest = next(s.t for s in states if s.arrested)
    trusted = [r for r in readings if r.valid and not r.status & DOUBTFUL]
    below_90 = next(r.t for r in trusted if r.spo2 < 90)
    below_85 = next(r.t for r in trusted if r.spo2 < 85)
    assert _time_of(text, "breathing stops") == format_time(stops)
    assert _time_of(text, "cardiac arrest") == format_time(arrest)
    assert _time_of(text, "SpO2 below 90 %") == format_time(below_90)
    assert _time_of(text, "SpO2 below 85 %") == format_time(below_85)
    lost = _time_of(text, "reading lost")
    assert all(r.spo2 is None for r in readings if r.t >= arrest)
    assert abs(_seconds(lost) - arrest) <= 2
    assert f"lowest SpO2 {min(r.spo2 for r in trusted):g} %" in text


def test_treated_and_cpr_words_follow_the_model() -> None:
    treated = _course_text("opioid-overdose", "treated")
    _, states = _run("opioid-overdose", "treated")
    assert not any(s.arrested for s in states)
    assert "no cardiac arrest in 20:00" in treated and "cardiac arrest ·" not in treated
    back = next(s.t for s in states if s.t > 100 and s.breathing_rate >= 10)
    assert _time_of(treated, "breathing 10/min or more again") == format_time(back)
    cpr = _course_text("opioid-overdose", "cpr")
    _, states = _run("opioid-overdose", "cpr")
    rosc = next(s.t for s in states if s.t > 500 and not s.arrested)
    assert _time_of(cpr, "circulation returns") == format_time(rosc)
    assert "circulation returns" not in _course_text("opioid-overdose", "compressions_only")


def _seconds(mmss: str) -> int:
    m, s = mmss.split(":")
    return int(m) * 60 + int(s)


def test_verbose_prints_every_course_with_its_script_what_happens_and_what_is_expected(
        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "-v"]) == 0
    out = capsys.readouterr().out
    flat = " ".join(out.split())
    for name in ("untreated", "treated", "cpr", "compressions_only"):
        assert f"{name}: " in out
    assert "cpr: 1m:911,7m:no_pulse,7m:compressions,7m:breaths,8m:naloxone" in out
    assert "expected: cardiac arrest begins between 5:00 and 7:00;" in flat
    assert "circulation returns between 12:00 and 15:00" in flat
    assert out.count("happens: ") == sum(len(load_scenario(n).courses) for n in (
        "artifacts", "baseline", "fentanyl-benzo", "opioid-overdose", "resedation",
        "smoking-desaturations", "xylazine"))
    # the whole verbose listing is measured, and it is the same every time
    assert main(["scenarios", "-v"]) == 0
    assert capsys.readouterr().out == out
