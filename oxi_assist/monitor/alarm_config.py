"""Alarm limits, delays and signal settings, loaded from TOML.

The shipped `alarms.toml` holds the defaults with the source of every number; a user file
overrides any subset of its keys. A bad file is a `ConfigError` reading "FILE:LINE: message",
because the person fixing it needs to know where to look, not a Python traceback.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from drivers import toml_file
from drivers.errors import ConfigError, FormatError
from drivers.safe_files import read_input
from drivers.toml_file import Positions, Problems
from oxi_assist.monitor.priority import Priority

DEFAULTS_PATH = Path(__file__).with_name("alarms.toml")
#: An alarm config is a page of TOML; anything far larger is not one.
MAX_FILE_BYTES = 1 << 20

#: Hard ceilings from the standards: they cannot be configured away.
MAX_PAUSE_S = 120.0  # ISO 80601-2-61 §208.6.8.5.101 as cited (DOMAIN.md §10.1)
MAX_STALE_S = 30.0  # ISO/FDIS 80601-2-61 §201.12.4.101 as cited (DOMAIN.md §10.1)

#: Values outside these are implausible and treated as invalid (not shown, not alarmed on).
#: [app-defined] The SpO2 floor is low on purpose: an untreated overdose really does fall below
#: 50 % before arrest, and hiding such a value as "no reading" would hide the most severe state.
#: Devices report from 0–35 % up (their accuracy is unspecified below 70 %, DOMAIN.md §7).
SPO2_PLAUSIBLE = (20.0, 100.0)
PULSE_PLAUSIBLE = (25.0, 250.0)

PHYSIOLOGICAL = ("spo2_low", "spo2_severe", "pulse_low", "pulse_high", "falling_fast")
TECHNICAL = ("finger_out", "no_sensor", "sensor_fault", "signal_poor", "no_data", "stale",
             "link_lost")
#: Losing the reading while SpO2 is (or just was) low is high priority (DOMAIN.md §1 rule 8).
ESCALATING = ("finger_out", "no_sensor", "sensor_fault", "no_data", "stale", "link_lost")
#: During an overdose response these are high priority (DOMAIN.md §1 rule 8: high priority for
#: low SpO2 and no signal during an event) [app-defined]: see `monitor.response_escalates`.
RESPONSE_ESCALATING = ("spo2_low", *ESCALATING)
SPO2_ALARMS = ("spo2_low", "spo2_severe")
#: The desaturation rule's name: which definition the events and the index follow. A change to
#: what counts as an event gets a new name, so saved results say which rule made them.
DESAT_RULE_VERSION = "aasm-preevent-1"

MESSAGES = {
    "spo2_low": "SpO2 low",
    "spo2_severe": "SpO2 very low",
    "pulse_low": "Pulse slow",
    "pulse_high": "Pulse fast",
    "falling_fast": "SpO2 falling fast",
    "finger_out": "Finger out / probe off",
    "no_sensor": "No oximeter attached",
    "sensor_fault": "Sensor fault",
    "signal_poor": "Signal poor",
    "no_data": "No data from oximeter",
    "stale": "Data old: no valid reading",
    "link_lost": "Oximeter disconnected",
}


@dataclass(frozen=True)
class AlarmRule:
    kind: str
    enabled: bool = True
    priority: Priority = Priority.MEDIUM
    delay_s: float = 0.0
    limit: float | None = None
    hysteresis: float = 0.0
    rapid_drop: float | None = None
    rapid_window_s: float = 10.0
    latching: bool = False

    @property
    def technical(self) -> bool:
        return self.kind in TECHNICAL

    @property
    def message(self) -> str:
        return MESSAGES[self.kind]


@dataclass(frozen=True)
class AlarmConfig:
    window_s: float = 8.0
    stale_after_s: float = 10.0
    no_data_after_s: float = 5.0
    trend_window_s: float = 30.0
    pi_low: float = 0.3
    escalate_within_s: float = 120.0
    response_escalates: bool = True
    acquisition_s: float = 5.0
    rules: dict[str, AlarmRule] = field(default_factory=dict)
    desat_drops: tuple[float, ...] = (3.0, 4.0)
    baseline_window_s: float = 120.0
    desat_recovery: float = 1.0
    desat_min_duration_s: float = 10.0
    desat_max_duration_s: float = 90.0
    time_below: tuple[float, ...] = (90.0, 85.0, 80.0)
    source: str = str(DEFAULTS_PATH)

    @classmethod
    def default(cls) -> AlarmConfig:
        return _defaults()

    def rule(self, kind: str) -> AlarmRule:
        return self.rules[kind]


# key → (python types, minimum, maximum); bounds None = unchecked
_NUM = (int, float)
_MONITOR: dict[str, tuple[tuple[type, ...], float | None, float | None]] = {
    "window_s": (_NUM, 1.0, 30.0),
    "stale_after_s": (_NUM, 1.0, MAX_STALE_S),
    "no_data_after_s": (_NUM, 1.0, MAX_STALE_S),
    "trend_window_s": (_NUM, 5.0, 300.0),
    "pi_low": (_NUM, 0.0, 20.0),
    "escalate_within_s": (_NUM, 0.0, 600.0),
    "response_escalates": ((bool,), None, None),
    "acquisition_s": (_NUM, 0.0, 60.0),
}
_LIMIT_RANGE = {
    "spo2_low": (50.0, 100.0), "spo2_severe": (50.0, 100.0),
    "pulse_low": (25.0, 250.0), "pulse_high": (25.0, 250.0),
    "falling_fast": (-60.0, -0.5),
}
_RULE_KEYS: dict[str, tuple[tuple[type, ...], float | None, float | None]] = {
    "enabled": ((bool,), None, None),
    "priority": ((str,), None, None),
    "delay_s": (_NUM, 0.0, 120.0),
    "limit": (_NUM, None, None),
    "hysteresis": (_NUM, 0.0, 20.0),
    "rapid_drop": (_NUM, 1.0, 50.0),
    "rapid_window_s": (_NUM, 1.0, 120.0),
    "latching": ((bool,), None, None),
}
_RULE_ALLOWED = {
    "spo2_low": set(_RULE_KEYS), "spo2_severe": set(_RULE_KEYS),
    "pulse_low": {"enabled", "priority", "delay_s", "limit", "hysteresis", "latching"},
    "pulse_high": {"enabled", "priority", "delay_s", "limit", "hysteresis", "latching"},
    "falling_fast": {"enabled", "priority", "delay_s", "limit", "hysteresis", "latching"},
    "finger_out": {"enabled", "priority", "delay_s", "latching"},
    "no_sensor": {"enabled", "priority", "delay_s", "latching"},
    "sensor_fault": {"enabled", "priority", "delay_s", "latching"},
    "signal_poor": {"enabled", "priority", "delay_s", "latching"},
    "no_data": {"enabled", "priority", "latching"},
    "stale": {"enabled", "priority", "latching"},
    "link_lost": {"enabled", "priority", "latching"},
}
_DESAT: dict[str, tuple[tuple[type, ...], float | None, float | None]] = {
    "drops": ((list,), 1.0, 20.0),
    "baseline_window_s": (_NUM, 10.0, 600.0),
    "recovery": (_NUM, 0.0, 10.0),
    "min_duration_s": (_NUM, 0.0, 120.0),
    "max_duration_s": (_NUM, 10.0, 3600.0),
}
_TIME_BELOW: dict[str, tuple[tuple[type, ...], float | None, float | None]] = {
    "thresholds": ((list,), 50.0, 100.0),
}


def _parse(path: Path) -> tuple[dict[str, Any], Problems]:
    """The document and its problem collector (lines from drivers/toml_file.py)."""
    try:  # a regular file of at most a megabyte (a FIFO or /dev/zero is refused unopened)
        raw = read_input(path, limit=MAX_FILE_BYTES, what="config file")
    except FormatError as e:
        raise ConfigError(str(e)) from None
    try:
        text = toml_file.decode(raw)
    except toml_file.NotToml as e:
        raise ConfigError(f"{path}:{e.line}: not UTF-8 text (a binary file?)") from None
    try:
        data = toml_file.parse(text)
    except toml_file.NotToml as e:
        if e.nesting:  # tomllib parses nested arrays and tables recursively
            raise ConfigError(f"{path}: invalid TOML: nested too deeply") from None
        raise ConfigError(f"{path}:{e.line or 1}: invalid TOML: {e.reason}") from None
    return data, Problems(Positions(text), path)


def _check(problems: Problems, where: tuple[str, ...], value: Any,
           spec: tuple[tuple[type, ...], float | None, float | None]) -> Any:
    types, lo, hi = spec
    name = ".".join(where)

    def fail(msg: str) -> ConfigError:
        return problems.error(where, f"{name}: {msg}")

    if isinstance(value, bool) and bool not in types:
        raise fail(f"expected a number, got {value!r}")
    if not isinstance(value, types):
        want = {bool: "true or false", str: "a string", list: "a list"}.get(types[0], "a number")
        raise fail(f"expected {want}, got {value!r}")
    items = value if isinstance(value, list) else [value]
    if isinstance(value, list):
        if not value:
            raise fail("must not be empty")
        for v in value:
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise fail(f"expected a list of numbers, got {v!r}")
    for v in items:
        if isinstance(v, bool) or not isinstance(v, int | float):
            continue
        if not math.isfinite(v):  # TOML has nan and inf; NaN would pass every range check
            raise fail(f"expected a finite number, got {v!r}")
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise fail(f"{v!r} is out of range ({lo:g}–{hi:g})")
    return value


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = _merge(out[k], v)
        else:
            out[k] = v
    return out


def _validate(data: dict[str, Any], problems: Problems) -> None:
    """Rejects unknown tables/keys and bad values in one (possibly partial) file."""
    known = {"monitor": _MONITOR, "desaturation": _DESAT, "time_below": _TIME_BELOW}
    for top, val in data.items():
        if top == "alarms":
            if not isinstance(val, dict):
                raise problems.error((top,), "alarms: expected a table")
            for kind, rule in val.items():
                if kind not in _RULE_ALLOWED:
                    raise problems.error((top, kind), f"unknown alarm {kind!r} "
                                         f"(known: {', '.join(_RULE_ALLOWED)})")
                if not isinstance(rule, dict):
                    raise problems.error((top, kind), f"alarms.{kind}: expected a table")
                for key, v in rule.items():
                    if key not in _RULE_ALLOWED[kind]:
                        raise problems.error(
                            (top, kind, key), f"unknown key alarms.{kind}.{key} (allowed: "
                                              f"{', '.join(sorted(_RULE_ALLOWED[kind]))})")
                    spec = _RULE_KEYS[key]
                    if key == "limit":
                        spec = (_NUM, *_LIMIT_RANGE[kind])
                    _check(problems, (top, kind, key), v, spec)
                    if key == "priority" and v.lower() not in ("low", "medium", "high"):
                        raise problems.error(
                            (top, kind, key),
                            f"alarms.{kind}.priority: expected \"low\", \"medium\" or \"high\", "
                            f"got {v!r}")
            continue
        if top not in known:
            raise problems.error((top,), f"unknown section {top!r} "
                                         f"(known: monitor, alarms, desaturation, time_below)")
        if not isinstance(val, dict):
            raise problems.error((top,), f"{top}: expected a table")
        for key, v in val.items():
            if key not in known[top]:
                raise problems.error((top, key), f"unknown key {top}.{key} "
                                                 f"(allowed: {', '.join(known[top])})")
            _check(problems, (top, key), v, known[top][key])


def _build(data: dict[str, Any], source: str) -> AlarmConfig:
    mon = data.get("monitor", {})
    rules: dict[str, AlarmRule] = {}
    for kind in (*PHYSIOLOGICAL, *TECHNICAL):
        r = data.get("alarms", {}).get(kind, {})
        rd = r.get("rapid_drop")
        rules[kind] = AlarmRule(
            kind=kind, enabled=bool(r.get("enabled", True)),
            priority=Priority[str(r.get("priority", "medium")).upper()],
            delay_s=float(r.get("delay_s", 0.0)),
            limit=float(r["limit"]) if "limit" in r else None,
            hysteresis=float(r.get("hysteresis", 0.0)),
            rapid_drop=float(rd) if rd is not None else None,
            rapid_window_s=float(r.get("rapid_window_s", 10.0)),
            latching=bool(r.get("latching", False)),
        )
    des = data.get("desaturation", {})
    tb = data.get("time_below", {})
    return AlarmConfig(
        window_s=float(mon.get("window_s", 8.0)),
        stale_after_s=float(mon.get("stale_after_s", 10.0)),
        no_data_after_s=float(mon.get("no_data_after_s", 5.0)),
        trend_window_s=float(mon.get("trend_window_s", 30.0)),
        pi_low=float(mon.get("pi_low", 0.3)),
        escalate_within_s=float(mon.get("escalate_within_s", 120.0)),
        response_escalates=bool(mon.get("response_escalates", True)),
        acquisition_s=float(mon.get("acquisition_s", 5.0)),
        rules=rules,
        desat_drops=tuple(sorted(float(d) for d in des.get("drops", [3.0, 4.0]))),
        baseline_window_s=float(des.get("baseline_window_s", 120.0)),
        desat_recovery=float(des.get("recovery", 1.0)),
        desat_min_duration_s=float(des.get("min_duration_s", 10.0)),
        desat_max_duration_s=float(des.get("max_duration_s", 90.0)),
        time_below=tuple(float(x) for x in tb.get("thresholds", [90.0, 85.0, 80.0])),
        source=source,
    )


def _cross_check(cfg: AlarmConfig, data: dict[str, Any], problems: Problems) -> None:
    """Relations between keys: each is reported at the line of the key the user set."""
    for kind in ("spo2_low", "spo2_severe", "pulse_low", "pulse_high", "falling_fast"):
        if cfg.rules[kind].limit is None:
            raise problems.error(("alarms", kind), f"alarms.{kind}.limit is required")
    for d in cfg.desat_drops:
        if cfg.desat_recovery >= d:
            raise problems.error(("desaturation", "recovery"),
                                 f"desaturation.recovery ({cfg.desat_recovery:g}) must be below "
                                 f"every drop ({d:g})")
    if cfg.desat_max_duration_s <= cfg.desat_min_duration_s:
        key = "max_duration_s" if "max_duration_s" in data.get("desaturation", {}) \
            else "min_duration_s"
        raise problems.error(("desaturation", key),
                             f"desaturation.max_duration_s ({cfg.desat_max_duration_s:g}) must be "
                             f"above min_duration_s ({cfg.desat_min_duration_s:g})")


def load_config(path: str | Path | None = None) -> AlarmConfig:
    """The shipped defaults, overridden by `path` when given."""
    if path is None:
        return _defaults()
    p = Path(path)
    base, _ = _parse(DEFAULTS_PATH)
    over, problems = _parse(p)
    _validate(over, problems)
    merged = _merge(base, over)
    cfg = _build(merged, str(p))
    _cross_check(cfg, over, problems)
    return cfg


@lru_cache(maxsize=1)
def _defaults() -> AlarmConfig:
    data, problems = _parse(DEFAULTS_PATH)
    _validate(data, problems)
    cfg = _build(data, str(DEFAULTS_PATH))
    _cross_check(cfg, data, problems)
    return cfg
