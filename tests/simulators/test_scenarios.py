"""Every built-in scenario runs its documented `[expected]` courses, and loading rejects bad
files with FILE:LINE messages."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

from drivers.errors import ConfigError, OxiError
from drivers.reading import INVALIDATING, Status
from oxi_assist.actions import parse_script
from oxi_assist.commands.simulate import inject_for
from simulators.course_check import check_course
from simulators.physiology import PatientState
from simulators.scenario import (
    builtin_names,
    list_scenarios,
    load_scenario,
    loads,
    parse_duration,
)
from simulators.simulator import Simulator

REQUIRED = {"baseline", "opioid-overdose", "fentanyl-benzo", "resedation", "xylazine",
            "smoking-desaturations", "artifacts"}


@functools.lru_cache(maxsize=64)
def run_course(name: str, course_name: str, seed: int = 1):
    """Readings and states are immutable, so a course is simulated once per test session."""
    sc = load_scenario(name)
    course = sc.courses[course_name]
    sim = Simulator(sc, seed=seed, record_states=True)
    for a in parse_script(course.actions):
        inj = inject_for(a)
        if inj:
            sim.schedule(a.t, inj[0], **inj[1])
    states: list[PatientState] = []
    readings = tuple(sim.run(course.duration or sc.duration, states=states))
    return course, readings, tuple(states)


def test_all_required_scenarios_exist() -> None:
    assert set(builtin_names()) >= REQUIRED
    listed = dict(list_scenarios())
    for name in REQUIRED:
        assert listed[name] and "\n" not in listed[name]


COURSES = [(n, c) for n in sorted(REQUIRED) for c in load_scenario(n).courses]


@pytest.mark.parametrize(("name", "course_name"), COURSES)
def test_documented_course_holds(name: str, course_name: str) -> None:
    course, readings, states = run_course(name, course_name)
    assert course.checks, "a course with no checks documents nothing"
    assert course.alarm_priority in ("none", "low", "medium", "high")
    assert check_course(course, readings, states) == []


@pytest.mark.parametrize("name", sorted(REQUIRED))
def test_courses_hold_for_other_seeds(name: str) -> None:
    sc = load_scenario(name)
    for course_name in sc.courses:
        course, readings, states = run_course(name, course_name, seed=7)
        assert check_course(course, readings, states) == []


def test_checker_reports_a_course_that_does_not_hold() -> None:
    # the untreated overdose does not recover: the treated expectations must fail on it
    sc = load_scenario("opioid-overdose")
    _, readings, states = run_course("opioid-overdose", "untreated")
    failures = check_course(sc.courses["treated"], readings, states)
    assert any("min_spo2_at_least" in f for f in failures)


def test_untreated_overdose_is_low_then_no_reading_never_a_number() -> None:
    _, readings, states = run_course("opioid-overdose", "untreated")
    valid = [r.spo2 for r in readings if r.valid]
    assert min(valid) < 70
    arrest = next(s.t for s in states if s.arrested)
    after = [r for r in readings if r.t > arrest]
    assert after and all(r.spo2 is None and r.pulse is None and r.status & INVALIDATING
                         for r in after)


def test_resedation_second_dip_comes_30_to_90_min_after_naloxone() -> None:
    _, readings, _ = run_course("resedation", "treated")
    nal = 150.0
    recovered = next(r.t for r in readings if r.t > nal and r.valid and r.spo2 >= 94)
    second = next(r.t for r in readings if r.t > recovered + 300 and r.valid and r.spo2 < 90)
    assert 30 * 60 <= second - nal <= 90 * 60


def test_artifacts_never_show_numbers_while_finger_out() -> None:
    _, readings, _ = run_course("artifacts", "untreated")
    fo = [r for r in readings if r.status & Status.FINGER_OUT]
    assert len(fo) > 60
    assert all(r.spo2 is None and r.pulse is None and r.pi is None for r in fo)
    searching = [r for r in readings if r.status & Status.SEARCHING]
    assert searching and all(r.spo2 is None for r in searching)
    assert any(r.status & Status.MOTION and r.spo2 is not None for r in readings)
    assert any(r.status & Status.LOW_PERFUSION and r.pi is not None and r.pi < 0.5
               for r in readings)
    ts = [r.t for r in readings]
    assert 544.0 not in ts and 543.0 not in ts  # dropout: nothing at all


def test_expected_action_scripts_parse_and_map() -> None:
    for name in builtin_names():
        for course in load_scenario(name).courses.values():
            for a in parse_script(course.actions):
                inj = inject_for(a)
                assert inj is None or isinstance(inj[0], str)


# --------------------------------------------------------------------------------------------
# loading errors

GOOD = """
name = "x"
description = "one line"
duration = "5m"

[patient]
hr = 80

[[events]]
at = "1m"
action = "drug"
drug = "fentanyl"
dose = 3

[[events]]
at = 90
action = "motion"
seconds = 5
"""


def test_minimal_scenario_loads() -> None:
    sc = loads(GOOD, "x.toml")
    assert sc.duration == 300 and sc.patient == {"hr": 80.0}
    assert [(e.at, e.action) for e in sc.events] == [(60.0, "drug"), (90.0, "motion")]


@pytest.mark.parametrize(("patch", "line", "words"), [
    (('hr = 80', 'hr = "fast"'), 7, "must be a number"),
    (('hr = 80', 'heart = 80'), 7, "unknown key 'patient.heart'"),
    (('seconds = 5', 'seconds = -5'), 18, "seconds must be a number"),
    (('action = "motion"', 'action = "dance"'), 17, "unknown simulator action"),
    (('drug = "fentanyl"', 'drug = "coffee"'), 12, "unknown drug"),
    (('duration = "5m"', 'duration = "soon"'), 4, "bad time"),
    (('at = 90', 'at = "later"'), 16, "bad time"),
    (('description = "one line"', 'descr = "one line"'), 3, "unknown key 'descr'"),
])
def test_bad_scenarios_name_file_and_line(patch: tuple[str, str], line: int,
                                          words: str) -> None:
    text = GOOD.replace(*patch)
    with pytest.raises(ConfigError) as e:
        loads(text, "bad.toml")
    msg = str(e.value)
    assert msg.startswith(f"bad.toml:{line}: "), msg
    assert words in msg and "\n" not in msg


def test_toml_syntax_error_has_line() -> None:
    with pytest.raises(ConfigError, match=r"^bad\.toml:3: "):
        loads('name = "x"\ndescription = "d"\nduration = = 3\n', "bad.toml")


def test_expected_table_is_validated() -> None:
    text = GOOD + '\n[expected.treated]\nactions = ""\nmin_spo2_under = 3\n'
    with pytest.raises(ConfigError, match=r"bad\.toml:22: unknown key 'expected.treated"):
        loads(text, "bad.toml")
    text = GOOD + '\n[expected.treated]\nalarm_priority = "loud"\n'
    with pytest.raises(ConfigError, match="alarm_priority"):
        loads(text, "bad.toml")


def test_unknown_scenario_lists_known_names() -> None:
    with pytest.raises(OxiError) as e:
        load_scenario("no-such-thing")
    assert "opioid-overdose" in str(e.value) and "baseline" in str(e.value)


def test_scenario_from_path(tmp_path: Path) -> None:
    p = tmp_path / "mine.toml"
    p.write_text(GOOD, encoding="utf-8")
    assert load_scenario(str(p)).name == "x"
    with pytest.raises(ConfigError, match="no such scenario file"):
        load_scenario(str(tmp_path / "missing.toml"))
    p.write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_scenario(str(p))


@pytest.mark.parametrize(("text", "sec"), [("90", 90), ("90s", 90), ("2m", 120),
                                           ("2m30s", 150), ("1h", 3600), ("02:30", 150)])
def test_parse_duration(text: str, sec: float) -> None:
    assert parse_duration(text) == sec


# --------------------------------------------------------------------------------------------
# arrest checks


def test_untreated_overdose_arrests_and_early_breaths_with_naloxone_prevent_it() -> None:
    sc = load_scenario("opioid-overdose")
    _, readings, states = run_course("opioid-overdose", "untreated")
    assert any(s.arrested for s in states)
    # the treated course's "no arrest" and the CPR course's "circulation returns" fail on it
    fails = check_course(sc.courses["treated"], readings, states)
    assert any(f.startswith("no_arrest") for f in fails)
    fails = check_course(sc.courses["cpr"], readings, states)
    assert any(f.startswith("rosc") for f in fails)
    _, readings, states = run_course("opioid-overdose", "treated")
    assert not any(s.arrested for s in states)
    fails = check_course(sc.courses["untreated"], readings, states)
    assert any(f.startswith("arrest") for f in fails)


def test_arrest_checks_read_the_simulator_events_when_there_are_no_states() -> None:
    sc = load_scenario("opioid-overdose")
    course = sc.courses["cpr"]
    sim = Simulator(sc, seed=1)
    for a in parse_script(course.actions):
        inj = inject_for(a)
        if inj:
            sim.schedule(a.t, inj[0], **inj[1])
    readings = list(sim.run(course.duration or sc.duration))
    assert [e.name for e in sim.events] == ["cardiac_arrest", "circulation_returned"]
    assert check_course(course, readings, events=sim.events) == []
    # without the return of circulation the rosc check fails
    fails = check_course(course, readings, events=sim.events[:1])
    assert any(f.startswith("rosc") for f in fails)
    assert any(f.startswith("no_arrest") for f in fails)


def test_check_words() -> None:
    sc = loads(GOOD + """
[expected.t]
actions = ""
min_spo2_below = { value = 70, to_s = "10m" }
min_spo2_at_least = { value = 90, from_s = "6m" }
max_breathing_below = { value = 4, from_s = "3m", to_s = "8m" }
arrest = { from_s = "5m", to_s = "8m" }
no_arrest = {}
rosc = { to_s = "15m" }
no_reading = { to_s = "1m" }
""", "x.toml")
    words = [c.words() for c in sc.courses["t"].checks]
    assert words == ["SpO2 shown falls below 70 % by 10:00",
                     "SpO2 shown stays at or above 90 % from 6:00",
                     "breathing stays below 4/min between 3:00 and 8:00",
                     "cardiac arrest begins between 5:00 and 8:00",
                     "no cardiac arrest",
                     "circulation returns by 15:00",
                     "no reading until 1:00"]


def test_arrest_check_takes_no_value() -> None:
    with pytest.raises(ConfigError, match=r"bad\.toml:22: unknown key 'expected\.t\.arrest"
                                          r"\.value'"):
        loads(GOOD + '\n[expected.t]\nactions = ""\narrest = { value = 3 }\n', "bad.toml")

# --- numbers at the edges ----------------------------------------------------------------------


def test_every_model_parameter_has_a_range() -> None:
    """A parameter without a range could be set to a value that breaks the model."""
    from dataclasses import fields

    from simulators.oximeter_model import OximeterParams
    from simulators.physiology import PatientParams
    from simulators.scenario import OXIMETER_RANGES, PATIENT_RANGES

    assert {f.name for f in fields(PatientParams)} == set(PATIENT_RANGES)
    assert {f.name for f in fields(OximeterParams)} == set(OXIMETER_RANGES)
    defaults_p, defaults_o = PatientParams(), OximeterParams()
    for name, (lo, hi) in PATIENT_RANGES.items():
        assert lo <= getattr(defaults_p, name) <= hi, name
    for name, (lo, hi) in OXIMETER_RANGES.items():
        assert lo <= getattr(defaults_o, name) <= hi, name


def _params_case(table: str) -> list[tuple[str, str, float]]:
    from simulators.scenario import OXIMETER_RANGES, PATIENT_RANGES

    ranges = PATIENT_RANGES if table == "patient" else OXIMETER_RANGES
    return [(table, k, v) for k, (lo, hi) in ranges.items() for v in (lo, hi)]


@pytest.mark.parametrize(("table", "key", "value"),
                         _params_case("patient") + _params_case("oximeter"))
def test_every_accepted_edge_value_runs(table: str, key: str, value: float) -> None:
    """Each parameter at each end of its range, with an overdose in the run: the scenario
    loads and simulates two minutes without an error, every value a number in range."""
    import math

    from simulators.simulator import Simulator

    text = (f'name = "edge"\ndescription = "d"\nduration = "2m"\n[{table}]\n{key} = {value!r}\n'
            '[[events]]\nat = "10s"\naction = "drug"\ndrug = "fentanyl"\ndose = 8\n')
    sc = loads(text, "edge.toml")
    sim = Simulator(sc, seed=1)
    for r in sim.run(120):
        for v in (r.spo2, r.pulse):
            assert v is None or (math.isfinite(v) and 0 <= v <= 300), (key, value, r)
    st = sim.state()
    assert math.isfinite(st.sao2) and 0 <= st.sao2 <= 100, (key, value, st)


@pytest.mark.parametrize(("line", "words"), [
    ("[patient]\nco2_store_l = 0\n", "patient.co2_store_l: 0 is out of range (1–200)"),
    ("[patient]\nhr = 1e308\n", "patient.hr: 1e+308 is out of range"),
    ("[patient]\nfio2 = nan\n", "patient.fio2 must be a number, not nan"),
    ("[oximeter]\nlag_s = inf\n", "oximeter.lag_s must be a number, not inf"),
    ('[[events]]\nat = "1s"\naction = "drug"\ndrug = "heroin"\ndose = 1e308\n',
     "drug: dose must be a number from 0 to 100"),
    ('[[events]]\nat = 1e308\naction = "oxygen"\n', "is past the longest scenario"),
])
def test_numbers_a_model_cannot_take_are_refused_with_their_line(line: str, words: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(words)) as e:
        loads('name = "x"\ndescription = "d"\nduration = "2m"\n' + line, "x.toml")
    assert str(e.value).startswith("x.toml:")
