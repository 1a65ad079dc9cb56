"""Scenarios: TOML files that say who the person is, what they took and when, what the
oximeter does, and how the course should look with and without a response.

A scenario is named (a file in `simulators/scenarios/`) or given as a path to a TOML file.
Loading validates everything — unknown keys, wrong types, unknown actions, bad times — and a
problem is reported as `FILE:LINE: message` (the line of the key, from the shared TOML reader,
drivers/toml_file.py).

The `[expected]` table is machine-readable. `summary` says the course in words for a reader of
the file (`oxi-assist scenarios -v` prints what a run of the model measures instead, and the
checks below in words); each course table (`[expected.untreated]`, `[expected.treated]`, …)
holds:

* `actions`: the responder script it assumes, in the `--actions` syntax of
  `oxi-assist simulate` (`""` = nobody responds);
* `duration` (optional): how long to run it, if not the scenario's length;
* `alarm_priority`: the highest alarm priority the Monitor should raise on it
  ("none", "low", "medium", "high");
* checks, each a number or a table `{value = V, from_s = A, to_s = B}` (times in seconds or
  "2m30s"; no `to_s` = to the end), or an array of such tables:
  - `min_Q_below` / `min_Q_at_least` / `max_Q_below` / `max_Q_at_least`: the minimum or
    maximum of Q over the window is below V / at least V. Q is `spo2` or `pulse` (trusted
    readings only: valid and without a doubtful flag) or, from the simulator's true state,
    `sao2`, `hr`, `breathing` (breaths/min), `responsive` (0–1) or `perfusion` (finger
    perfusion, 0–1);
  - `no_reading = {from_s, to_s}`: every reading in the window has no SpO2 and no pulse and an
    invalidating flag (finger out, searching); a gap (dropout) also counts as no reading;
  - `dips_below = {value = V, count = N}`: at least N separate episodes of trusted SpO2 < V;
  - `arrest = {from_s, to_s}`: the heart stops (cardiac arrest begins) within the window;
    `no_arrest = {from_s, to_s}`: the person is not in arrest at any time in the window;
    `rosc = {from_s, to_s}`: circulation returns within the window. These come from the
    simulator's states, or from its `cardiac_arrest` / `circulation_returned` events (what a
    recording holds).

`simulators.course_check.check_course()` evaluates the checks on generated readings (and
states or events, when given); `Check.words()` says a check in words (`oxi-assist scenarios -v`).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers import toml_file
from drivers.errors import ConfigError, FormatError, OxiError
from drivers.safe_files import name_too_long, read_input
from drivers.toml_file import Positions, Problems
from simulators import interventions
from simulators.oximeter_model import OximeterParams
from simulators.physiology import PatientModel, PatientParams

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"

_TIME = re.compile(r"^(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+(?:\.\d+)?)s?)?$")

#: quantities a check can name: from readings (what the oximeter showed, trusted values only)
#: or from the simulator's true state
READING_QUANTITIES = ("spo2", "pulse")
STATE_QUANTITIES = ("sao2", "hr", "breathing", "responsive", "perfusion")
#: checks about a window only (no value)
WINDOW_CHECKS = ("no_reading", "arrest", "no_arrest", "rosc")
#: the simulator's event names for the start and end of a cardiac arrest
ARREST_EVENT = "cardiac_arrest"
ROSC_EVENT = "circulation_returned"
CHECK_KEY = re.compile(r"^(min|max)_(" + "|".join(READING_QUANTITIES + STATE_QUANTITIES)
                       + r")_(below|at_least)$")
PRIORITIES = ("none", "low", "medium", "high")
#: The longest scenario, run or course (seconds): a long shift.
MAX_DURATION = 48 * 3600.0
#: A scenario file is a page of TOML; anything far larger is not one.
MAX_FILE_BYTES = 1 << 20

#: What a scenario may set in [patient] (inclusive ranges). Every key of PatientParams has a
#: range, so a value that would break the model (a zero CO2 store divides by zero, a 5 × room
#: air FiO2, a heart rate of 1e308) is refused with its line instead of crashing a run.
#: The ranges are wide on purpose: trainers build unusual patients. [app-defined]
PATIENT_RANGES: dict[str, tuple[float, float]] = {
    "hr": (20.0, 220.0), "rr": (4.0, 60.0), "tidal_volume_l": (0.2, 2.0),
    "dead_space_l": (0.05, 0.4), "frc_l": (0.5, 8.0), "blood_l": (1.0, 10.0),
    "hb": (3.0, 25.0), "vo2_ml": (50.0, 2000.0), "rq": (0.6, 1.2),
    "aa_gradient": (0.0, 100.0), "fio2": (0.1, 1.0), "barometric": (400.0, 800.0),
    "co2_store_l": (1.0, 200.0), "co2_sensitivity": (0.0, 5.0),
    "hypoxic_sensitivity": (0.0, 1.0), "opioid_tolerance": (0.1, 100.0),
    "oxygen_fio2": (0.21, 1.0), "rescue_rate": (0.0, 30.0), "rescue_tidal_l": (0.0, 2.0),
    "brady_after_s": (0.0, 3600.0), "arrest_after_s": (1.0, 7200.0), "perfusion": (0.0, 2.0),
    "cpr_output": (0.05, 1.0), "cpr_finger_perfusion": (0.0, 1.0), "cpr_rate": (60.0, 160.0),
    "circulation_s": (10.0, 300.0), "cpr_sao2_air": (20.0, 100.0),
    "cpr_sao2_oxygen": (20.0, 100.0), "rosc_sao2": (20.0, 100.0), "rosc_after_s": (0.0, 1800.0),
}
#: The same for [oximeter] (OximeterParams.validate keeps the device's own limits).
OXIMETER_RANGES: dict[str, tuple[float, float]] = {
    "lag_s": (0.0, 120.0), "averaging_s": (1.0, 30.0), "pulse_averaging_s": (0.5, 30.0),
    "spo2_noise": (0.0, 10.0), "pulse_noise": (0.0, 20.0), "pi": (0.01, 30.0),
    "searching_s": (0.0, 60.0), "spo2_bias": (0.0, 20.0), "low_perfusion_factor": (0.0, 1.0),
    "display_min": (20.0, 70.0),
}


def format_time(seconds: float) -> str:
    """`m:ss` (or `h:mm:ss`) for a scenario time, as the course words print it."""
    s = max(0, round(seconds))
    h, m = divmod(s // 60, 60)
    return f"{h}:{m:02d}:{s % 60:02d}" if h else f"{m}:{s % 60:02d}"


def parse_duration(value: object) -> float:
    """Seconds from a number or text such as `90`, `90s`, `2m`, `2m30s`, `1h`, `02:30`."""
    if isinstance(value, bool):
        raise ValueError(f"bad time {value!r}")
    if isinstance(value, int | float):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"bad time {value!r}")
        return float(value)
    if not isinstance(value, str):
        raise ValueError(f"bad time {value!r}: expected seconds or text like '2m30s'")
    s = value.strip().lower()
    if ":" in s:
        parts = s.split(":")
        if len(parts) > 3 or not all(p.replace(".", "", 1).isdigit() for p in parts):
            raise ValueError(f"bad time {value!r}")
        total = 0.0
        for p in parts:
            total = total * 60 + float(p)
        return total
    m = _TIME.match(s)
    if not s or not m or not any(m.groupdict().values()):
        raise ValueError(f"bad time {value!r} (use e.g. 90, 90s, 2m, 2m30s or 02:30)")
    return int(m["h"] or 0) * 3600 + int(m["m"] or 0) * 60 + float(m["s"] or 0)


@dataclass(frozen=True)
class Event:
    at: float
    action: str
    params: dict[str, Any]


@dataclass(frozen=True)
class Check:
    """One expectation: e.g. min of trusted SpO2 in [from_s, to_s] below `value`."""

    key: str
    value: float | None
    from_s: float
    to_s: float | None
    count: int | None = None  # dips_below: at least this many separate dips

    def words(self) -> str:
        """The check as a sentence fragment, e.g. "SpO2 shown stays at or above 90 % from
        6:00", "cardiac arrest begins between 5:00 and 8:00"."""
        if self.key in _WINDOW_WORDS:
            words, happens = _WINDOW_WORDS[self.key]
            return f"{words}{self._span(happens)}"
        if self.key == "dips_below":
            return (f"at least {self.count or 1} dips of SpO2 shown below {self.value:g} %"
                    f"{self._span(True)}")
        m = CHECK_KEY.match(self.key)
        assert m is not None and self.value is not None
        agg, qty, cmp = m.groups()
        name, unit = _QUANTITY_WORDS[qty]
        verb = {("min", "below"): "falls below", ("min", "at_least"): "stays at or above",
                ("max", "below"): "stays below", ("max", "at_least"): "reaches"}[agg, cmp]
        happens = (agg, cmp) in (("min", "below"), ("max", "at_least"))
        tail = " or more" if (agg, cmp) == ("max", "at_least") else ""
        return f"{name} {verb} {self.value:g}{unit}{tail}{self._span(happens)}"

    def _span(self, happens: bool) -> str:
        """The window: something that happens does so "by" its end, a state holds "until"
        it."""
        if self.to_s is None:
            return f" from {format_time(self.from_s)}" if self.from_s else ""
        if not self.from_s:
            return f" {'by' if happens else 'until'} {format_time(self.to_s)}"
        return f" between {format_time(self.from_s)} and {format_time(self.to_s)}"


#: window checks: (words, whether it is something that happens rather than a state)
_WINDOW_WORDS = {"no_reading": ("no reading", False),
                 "arrest": ("cardiac arrest begins", True),
                 "no_arrest": ("no cardiac arrest", False),
                 "rosc": ("circulation returns", True)}
_QUANTITY_WORDS = {"spo2": ("SpO2 shown", " %"), "pulse": ("pulse shown", "/min"),
                   "sao2": ("true SaO2", " %"), "hr": ("true heart rate", "/min"),
                   "breathing": ("breathing", "/min"), "responsive": ("responsiveness", ""),
                   "perfusion": ("finger perfusion", "")}


@dataclass
class Course:
    name: str
    actions: str
    duration: float | None
    alarm_priority: str | None
    checks: list[Check]
    summary: str = ""


@dataclass
class Scenario:
    name: str
    description: str
    duration: float
    patient: dict[str, float]
    oximeter: dict[str, float]
    events: list[Event]
    courses: dict[str, Course]
    summary: str = ""
    notes: str = ""
    path: Path | None = None
    raw: dict[str, Any] = field(default_factory=dict)

    def patient_params(self) -> PatientParams:
        return PatientParams(**self.patient)

    def oximeter_params(self) -> OximeterParams:
        return OximeterParams(**self.oximeter)


# --------------------------------------------------------------------------------------------
# Loading


def builtin_names() -> list[str]:
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def list_scenarios() -> list[tuple[str, str]]:
    """(name, one-line description) of every built-in scenario."""
    return [(s.name, s.description) for s in (load_scenario(n) for n in builtin_names())]


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A built-in scenario by name, or a TOML file by path."""
    text = str(name_or_path)
    if text in builtin_names():
        return load_file(SCENARIO_DIR / f"{text}.toml")
    p = Path(text)
    if p.suffix.lower() == ".toml" or os.path.lexists(p) or "/" in text or "\\" in text:
        if not os.path.lexists(p) and not name_too_long(p):
            raise ConfigError(f"{p}: no such scenario file")
        return load_file(p)  # names what else is wrong (a folder, a FIFO, a long name)
    raise OxiError(f"unknown scenario {text!r} (known: {', '.join(builtin_names())}; "
                   f"or give a path to a .toml file)")


def load_file(path: str | Path) -> Scenario:
    """A scenario file: a regular file of at most MAX_FILE_BYTES (a FIFO, a device or a folder
    is refused before it is opened)."""
    path = Path(path)
    try:
        raw = read_input(path, limit=MAX_FILE_BYTES, what="scenario file")
    except FormatError as e:
        raise ConfigError(str(e)) from None
    try:
        text = toml_file.decode(raw)
    except toml_file.NotToml:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    return loads(text, path)


def loads(text: str, path: str | Path = "<scenario>") -> Scenario:
    try:
        data = toml_file.parse(text)
    except toml_file.NotToml as e:
        if e.nesting:  # tomllib parses nested arrays and tables recursively
            raise ConfigError(f"{path}: invalid TOML: nested too deeply") from None
        if e.line is not None:
            raise ConfigError(f"{path}:{e.line}: {e.reason.strip()}") from None
        raise ConfigError(f"{path}: {e.detail}") from None
    return _Validator(text, Path(path)).scenario(data)


class _Validator:
    """The scenario's own checks; each problem ends the check, at the line of its key."""

    def __init__(self, text: str, path: Path) -> None:
        self.text = text
        self.path = path
        self.problems = Problems(Positions(text), path)

    def fail(self, where: tuple[Any, ...], message: str) -> ConfigError:
        return self.problems.error(where, message)

    # -- helpers --------------------------------------------------------------------------

    def table(self, value: Any, where: tuple[Any, ...], allowed: Sequence[str]) -> dict:
        if not isinstance(value, dict):
            raise self.fail(where, f"{_dotted(where)} must be a table")
        for k in value:
            if k not in allowed:
                raise self.fail((*where, k), f"unknown key {_dotted((*where, k))!r} "
                                             f"(allowed: {', '.join(allowed)})")
        return value

    def text_(self, value: Any, where: tuple[Any, ...]) -> str:
        if not isinstance(value, str):
            raise self.fail(where, f"{_dotted(where)} must be text")
        return value

    def number(self, value: Any, where: tuple[Any, ...]) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not math.isfinite(value):
            raise self.fail(where, f"{_dotted(where)} must be a number, not {value!r}")
        return float(value)

    def time(self, value: Any, where: tuple[Any, ...]) -> float:
        try:
            return parse_duration(value)
        except ValueError as e:
            raise self.fail(where, f"{_dotted(where)}: {e}") from None

    # -- the scenario ---------------------------------------------------------------------

    def scenario(self, d: dict[str, Any]) -> Scenario:
        top = ("name", "description", "duration", "notes", "patient", "oximeter", "events",
               "expected")
        self.table(d, (), top)
        for req in ("name", "description", "duration"):
            if req not in d:
                raise self.fail((), f"missing required key {req!r}")
        name = self.text_(d["name"], ("name",))
        if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
            raise self.fail(("name",), "name must be lower-case letters, digits and '-'")
        desc = self.text_(d["description"], ("description",)).strip()
        if not desc or "\n" in desc:
            raise self.fail(("description",), "description must be one non-empty line")
        duration = self.time(d["duration"], ("duration",))
        if not 1 <= duration <= MAX_DURATION:
            raise self.fail(("duration",), "duration must be between 1 s and 48 h")
        notes = self.text_(d.get("notes", ""), ("notes",))
        patient = self.params(d.get("patient", {}), "patient", PatientParams.field_types(),
                              PATIENT_RANGES)
        oximeter = self.params(d.get("oximeter", {}), "oximeter",
                               OximeterParams.field_types(), OXIMETER_RANGES)
        try:  # the model itself checks how the values go together (breathing moves air)
            PatientModel(PatientParams(**patient))
        except (ValueError, ArithmeticError) as e:
            raise self.fail(("patient",), f"patient: {e}") from None
        try:
            OximeterParams(**oximeter).validate()
        except ValueError as e:
            raise self.fail(("oximeter",), str(e)) from None
        events = self.events(d.get("events", []))
        summary, courses = self.expected(d.get("expected", {}))
        return Scenario(name=name, description=desc, duration=duration, patient=patient,
                        oximeter=oximeter, events=events, courses=courses, summary=summary,
                        notes=notes, path=self.path, raw=d)

    def params(self, value: Any, table: str, types: dict[str, type],
               ranges: dict[str, tuple[float, float]]) -> dict[str, float]:
        self.table(value, (table,), list(types))
        out = {}
        for k, v in value.items():
            out[k] = self.number(v, (table, k))
            lo, hi = ranges[k]
            if not lo <= out[k] <= hi:
                raise self.fail((table, k), f"{table}.{k}: {v!r} is out of range "
                                            f"({lo:g}–{hi:g})")
        return out

    def events(self, value: Any) -> list[Event]:
        if not isinstance(value, list):
            raise self.fail(("events",), "events must be an array of tables ([[events]])")
        out = []
        for i, ev in enumerate(value):
            where: tuple[Any, ...] = ("events", i)
            if not isinstance(ev, dict):
                raise self.fail(where, f"events[{i}] must be a table")
            if "at" not in ev or "action" not in ev:
                raise self.fail(where, f"events[{i}] needs 'at' and 'action'")
            at = self.time(ev["at"], (*where, "at"))
            if at > MAX_DURATION:
                raise self.fail((*where, "at"), f"events[{i}].at: {ev['at']!r} is past the "
                                                "longest scenario (48 h)")
            action = self.text_(ev["action"], (*where, "action"))
            params = {k: v for k, v in ev.items() if k not in ("at", "action")}
            try:
                name, params = interventions.normalize(action, params)
            except ValueError as e:
                bad = next((k for k in params if k in str(e)), "action")
                raise self.fail((*where, bad), f"events[{i}]: {e}") from None
            out.append(Event(at, name, params))
        return sorted(out, key=lambda e: e.at)

    def expected(self, value: Any) -> tuple[str, dict[str, Course]]:
        where = ("expected",)
        if not isinstance(value, dict):
            raise self.fail(where, "expected must be a table")
        summary = ""
        courses: dict[str, Course] = {}
        for k, v in value.items():
            if k == "summary":
                summary = self.text_(v, (*where, k))
            elif isinstance(v, dict):
                courses[k] = self.course(k, v)
            else:
                raise self.fail((*where, k), f"expected.{k}: expected 'summary' or a course "
                                             f"table such as [expected.untreated]")
        return summary, courses

    def course(self, name: str, d: dict[str, Any]) -> Course:
        where: tuple[Any, ...] = ("expected", name)
        actions = ""
        duration = None
        prio = None
        summary = ""
        checks: list[Check] = []
        for k, v in d.items():
            w = (*where, k)
            if k == "actions":
                actions = self.text_(v, w)
            elif k == "summary":
                summary = self.text_(v, w)
            elif k == "duration":
                duration = self.time(v, w)
            elif k == "alarm_priority":
                prio = self.text_(v, w)
                if prio not in PRIORITIES:
                    raise self.fail(w, f"alarm_priority must be one of {', '.join(PRIORITIES)}")
            elif CHECK_KEY.match(k) or k in WINDOW_CHECKS or k == "dips_below":
                items = v if isinstance(v, list) else [v]
                for j, item in enumerate(items):
                    checks.append(self.check(k, item, w if len(items) == 1 else (*w, j)))
            else:
                raise self.fail(w, f"unknown key 'expected.{name}.{k}' (allowed: actions, "
                                   f"summary, duration, alarm_priority, "
                                   f"{', '.join(WINDOW_CHECKS)}, dips_below, "
                                   f"min_/max_ + {'/'.join(READING_QUANTITIES + STATE_QUANTITIES)}"
                                   f" + _below/_at_least)")
        return Course(name, actions, duration, prio, checks, summary)

    def check(self, key: str, d: Any, where: tuple[Any, ...]) -> Check:
        if isinstance(d, int | float) and not isinstance(d, bool) and key not in WINDOW_CHECKS:
            d = {"value": d}
        allowed = ["from_s", "to_s"]
        if key not in WINDOW_CHECKS:
            allowed.insert(0, "value")
        if key == "dips_below":
            allowed.append("count")
        self.table(d, where, allowed)
        if "value" in allowed and "value" not in d:
            raise self.fail(where, f"{key} needs a value")
        value = self.number(d["value"], (*where, "value")) if "value" in d else None
        frm = self.time(d.get("from_s", 0), (*where, "from_s"))
        to = self.time(d["to_s"], (*where, "to_s")) if "to_s" in d else None
        if to is not None and to <= frm:
            raise self.fail(where, f"{key}: to_s must be after from_s")
        count = None
        if key == "dips_below":
            count = int(self.number(d.get("count", 1), (*where, "count")))
        return Check(key, value, frm, to, count)


def _dotted(where: tuple[Any, ...]) -> str:
    out = ""
    for p in where:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "scenario"
