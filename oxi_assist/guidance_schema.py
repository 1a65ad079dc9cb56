"""Guidance files (guidance/*.toml): loading and validation.

Guidance is data so an organisation can adapt wording, steps, thresholds and timers without
touching code. A file is checked completely on load and every problem is reported as
`FILE:LINE: message`; nothing in a file is ever evaluated as code. Conditions are a small
declarative vocabulary over named quantities (`spo2_below = 90`, `breathing = "normal"`, …),
listed in `QUANTITIES`; the format is described in docs/GUIDANCE.md.

tomllib gives no line numbers, so `_LineIndex` scans the text for the `[[step]]`-style headers
and `key =` lines to point each problem at the right line.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers.errors import ConfigError
from oxi_assist.actions import Action

GUIDANCE_DIR = Path(__file__).resolve().parent.parent / "guidance"
DEFAULT_GUIDANCE = "bc-save-me"

#: Source labels a guidance file may use (DOMAIN.md §0). "unverified" is deliberately absent.
LABELS = ("BC-official", "BC-derived", "research", "other-jurisdiction", "clinical-ref",
          "app-defined")
#: What a prompt can push the responder toward; the engine's safety rules key on these.
SUGGESTS = ("", "breaths", "naloxone", "911", "recovery", "check")
PROMPT_KINDS = ("suggestion", "warning")
TIMER_KINDS = ("metronome", "since")
PLACEHOLDERS = ("{n}", "{dose}")

SIGNALS = ("good", "poor", "none")
BREATHING = ("normal", "not_normal", "unknown")
BANDS = ("normal", "watch", "low", "severe", "unknown")


# ---------------------------------------------------------------- conditions

@dataclass(frozen=True)
class Facts:
    """What a condition can look at, computed by the engine at each update.

    `spo2` is the value shown when it is present, even on a poor signal; `spo2_trusted` is
    False when the signal is poor, missing or stale. A low number counts even when doubtful
    (it leads to action); a high number only counts when trusted (it never reassures on a
    poor signal).
    """

    spo2: float | None = None
    spo2_trusted: bool = False
    pulse: float | None = None
    signal: str = "none"
    band: str = "unknown"
    breathing: str = "unknown"
    breath_rate: float | None = None
    breaths_on: bool = False
    called_911: bool = False
    awake: bool = False
    oxygen: bool = False
    doses: int = 0
    minutes_since_naloxone: float | None = None
    minutes_since_911: float | None = None
    minutes_in_step: float = 0.0


def _num(x: float | None, trusted: bool = True) -> float | None:
    return x if trusted else None


def _below(v: float | None, limit: float) -> bool:
    return v is not None and v < limit


def _at_least(v: float | None, limit: float) -> bool:
    return v is not None and v >= limit


def _one_of(v: str, want: object) -> bool:
    return v in want if isinstance(want, tuple) else v == want


# quantity → (value kind, allowed words or None, test)
_Q = tuple[str, tuple[str, ...] | None, Any]
QUANTITIES: dict[str, _Q] = {
    "spo2_below": ("number", None, lambda f, x: _below(f.spo2, x)),
    "spo2_at_least": ("number", None,
                      lambda f, x: _at_least(_num(f.spo2, f.spo2_trusted), x)),
    "pulse_below": ("number", None, lambda f, x: _below(f.pulse, x)),
    "pulse_at_least": ("number", None,
                       lambda f, x: _at_least(_num(f.pulse, f.spo2_trusted), x)),
    "signal": ("word", SIGNALS, lambda f, x: _one_of(f.signal, x)),
    "band": ("word", BANDS, lambda f, x: _one_of(f.band, x)),
    "breathing": ("word", BREATHING, lambda f, x: _one_of(f.breathing, x)),
    "breath_rate_below": ("number", None, lambda f, x: _below(f.breath_rate, x)),
    "breath_rate_at_least": ("number", None, lambda f, x: _at_least(f.breath_rate, x)),
    "breaths": ("word", ("on", "off"), lambda f, x: _one_of("on" if f.breaths_on else "off", x)),
    "called_911": ("bool", None, lambda f, x: f.called_911 == x),
    "awake": ("bool", None, lambda f, x: f.awake == x),
    "oxygen": ("bool", None, lambda f, x: f.oxygen == x),
    "doses_at_least": ("count", None, lambda f, x: f.doses >= x),
    "doses_below": ("count", None, lambda f, x: f.doses < x),
    "minutes_since_naloxone_at_least": (
        "number", None, lambda f, x: _at_least(f.minutes_since_naloxone, x)),
    "minutes_since_naloxone_below": (
        "number", None, lambda f, x: _below(f.minutes_since_naloxone, x)),
    "minutes_since_911_at_least": ("number", None,
                                   lambda f, x: _at_least(f.minutes_since_911, x)),
    "minutes_in_step_at_least": ("number", None, lambda f, x: f.minutes_in_step >= x),
}


@dataclass(frozen=True)
class Condition:
    """All of its checks must hold (an empty condition always holds)."""

    checks: tuple[tuple[str, Any], ...] = ()

    def holds(self, facts: Facts) -> bool:
        return all(QUANTITIES[q][2](facts, v) for q, v in self.checks)

    def __bool__(self) -> bool:
        return bool(self.checks)


# ---------------------------------------------------------------- the protocol

@dataclass(frozen=True)
class Source:
    id: str
    label: str
    url: str = ""
    title: str = ""


@dataclass(frozen=True)
class Line:
    text: str
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Transition:
    action: Action
    label: str
    goto: str | None = None  # None: stay on the current step
    when: Condition = field(default_factory=Condition)
    params: tuple[tuple[str, str], ...] = ()
    primary: bool = False


@dataclass(frozen=True)
class PromptDef:
    id: str
    text: str
    sources: tuple[str, ...]
    when: Condition = field(default_factory=Condition)
    kind: str = "suggestion"
    suggests: str = ""
    reassuring: bool = False
    priority: int = 1


@dataclass(frozen=True)
class AlertDef:
    at_s: float
    text: str
    sources: tuple[str, ...]
    when: Condition = field(default_factory=Condition)
    suggests: str = ""
    kind: str = "suggestion"
    priority: int = 2


@dataclass(frozen=True)
class TimerDef:
    id: str
    label: str
    kind: str
    sources: tuple[str, ...]
    start: tuple[Action, ...] = ()
    stop: tuple[Action, ...] = ()
    interval_s: float = 5.0
    length_s: float | None = None
    per_start: bool = False
    alerts: tuple[AlertDef, ...] = ()


@dataclass(frozen=True)
class StepDef:
    id: str
    title: str
    lines: tuple[Line, ...]
    next: tuple[Transition, ...] = ()
    prompts: tuple[PromptDef, ...] = ()
    notes: tuple[str, ...] = ()
    terminal: bool = False


@dataclass(frozen=True)
class NoteDef:
    id: str
    title: str
    lines: tuple[Line, ...]


@dataclass(frozen=True)
class Protocol:
    id: str
    title: str
    start: str
    steps: Mapping[str, StepDef]
    sources: Mapping[str, Source]
    notes: Mapping[str, NoteDef] = field(default_factory=dict)
    prompts: tuple[PromptDef, ...] = ()
    on: tuple[Transition, ...] = ()
    timers: tuple[TimerDef, ...] = ()
    path: str = ""
    jurisdiction: str = ""
    version: str = ""

    def step(self, step_id: str) -> StepDef:
        return self.steps[step_id]


# ---------------------------------------------------------------- line numbers

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\" ]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=\s*(.*)$")


class _LineIndex:
    """Maps a path in the parsed document, e.g. ("step", 2, "next", 0, "goto"), to a line."""

    def __init__(self, text: str) -> None:
        self.lines: dict[tuple[Any, ...], int] = {}
        counts: dict[tuple[Any, ...], int] = {}
        current: tuple[Any, ...] = ()
        array_key: tuple[Any, ...] | None = None
        array_items = 0
        depth = 0
        for no, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            if depth > 0 and array_key is not None:
                if line[0] in "{\"'" or line[0].isdigit():
                    self.lines.setdefault((*array_key, array_items), no)
                    array_items += 1
                depth += _bracket_delta(line)
                if depth <= 0:
                    array_key, depth = None, 0
                continue
            m = _HEADER.match(line)
            if m and not _KEY.match(line):
                names = [n.strip().strip('"') for n in m.group(2).split(".")]
                if m.group(1) == "[[":
                    parent = _parent(current, names[:-1])
                    key = (*parent, names[-1])
                    idx = counts.get(key, 0)
                    counts[key] = idx + 1
                    current = (*key, idx)
                else:
                    current = tuple(names)
                self.lines.setdefault(current, no)
                continue
            k = _KEY.match(line)
            if k:
                path = (*current, k.group(1))
                self.lines.setdefault(path, no)
                rest = k.group(2).strip()
                if rest.startswith("["):
                    d = _bracket_delta(rest)
                    if d > 0:
                        array_key, array_items, depth = path, 0, d
                        inner = rest[1:].strip()
                        if inner and inner[0] in "{\"'":
                            self.lines.setdefault((*path, 0), no)
                            array_items = 1

    def line_of(self, path: Iterable[Any]) -> int:
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return 1


def _parent(current: tuple[Any, ...], names: list[str]) -> tuple[Any, ...]:
    """The array-table element a `[[a.b]]` header belongs to: the latest `a` element."""
    if not names:
        return ()
    out: list[Any] = []
    cur = list(current)
    for n in names:
        if len(cur) >= 2 and cur[0] == n:
            out.extend(cur[:2])
            cur = cur[2:]
        else:
            out.append(n)
            cur = []
    return tuple(out)


def _bracket_delta(s: str) -> int:
    depth, q = 0, ""
    for ch in s:
        if q:
            if ch == q:
                q = ""
            continue
        if ch in "\"'":
            q = ch
        elif ch == "#":
            break
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
    return depth


# ---------------------------------------------------------------- validation

@dataclass(frozen=True, order=True)
class Problem:
    line: int
    message: str


class _Checker:
    def __init__(self, text: str) -> None:
        self.idx = _LineIndex(text)
        self.problems: list[Problem] = []

    def err(self, path: Iterable[Any], message: str) -> None:
        self.problems.append(Problem(self.idx.line_of(path), message))

    # --- typed getters: report and return a fallback on a wrong type
    def table(self, d: Mapping[str, Any], allowed: dict[str, str], path: tuple[Any, ...],
              what: str) -> None:
        for k in d:
            if k not in allowed:
                known = ", ".join(sorted(allowed))
                self.err((*path, k), f"unknown key {k!r} in {what} (known: {known})")
        for k, need in allowed.items():
            if need.endswith("!") and k not in d:
                self.err(path, f"{what} is missing required key {k!r}")

    def get(self, d: Mapping[str, Any], key: str, kind: str, path: tuple[Any, ...],
            default: Any = None) -> Any:
        if key not in d:
            return default
        v = d[key]
        ok = {
            "str": isinstance(v, str),
            "bool": isinstance(v, bool),
            "int": isinstance(v, int) and not isinstance(v, bool),
            "number": isinstance(v, int | float) and not isinstance(v, bool),
            "table": isinstance(v, dict),
            "list": isinstance(v, list),
        }[kind]
        if not ok:
            self.err((*path, key), f"{key!r} must be {_A[kind]}, not {_tname(v)}")
            return default
        if kind == "str" and not v.strip():
            self.err((*path, key), f"{key!r} must not be empty")
            return default
        return v

    def str_list(self, d: Mapping[str, Any], key: str, path: tuple[Any, ...]) -> list[str]:
        if key not in d:
            return []
        v = d[key]
        if isinstance(v, str):
            return [v]
        if isinstance(v, list) and all(isinstance(x, str) for x in v):
            return list(v)
        self.err((*path, key), f"{key!r} must be a string or a list of strings")
        return []


_A = {"str": "a string", "bool": "true or false", "int": "a whole number",
      "number": "a number", "table": "a table", "list": "a list"}


def _tname(v: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(v), type(v).__name__)


_GUIDANCE_KEYS = {"id": "str!", "title": "str!", "start": "str!", "version": "any",
                  "jurisdiction": "str", "description": "str", "language": "str"}
_SOURCE_KEYS = {"id": "str!", "label": "str!", "url": "str", "title": "str", "note": "str"}
_LINE_KEYS = {"text": "str!", "source": "any!"}
_STEP_KEYS = {"id": "str!", "title": "str!", "lines": "list!", "next": "list",
              "prompt": "list", "notes": "list", "terminal": "bool"}
_NOTE_KEYS = {"id": "str!", "title": "str!", "lines": "list!"}
_NEXT_KEYS = {"action": "str!", "label": "str!", "goto": "str", "when": "table",
              "params": "table", "primary": "bool"}
_PROMPT_KEYS = {"id": "str!", "text": "str!", "source": "any!", "when": "table",
                "kind": "str", "suggests": "str", "reassuring": "bool", "priority": "int"}
_TIMER_KEYS = {"id": "str!", "label": "str!", "kind": "str!", "source": "any!",
               "start": "any", "stop": "any", "interval_s": "number", "length_s": "number",
               "per_start": "bool", "alert": "list"}
_ALERT_KEYS = {"at_s": "number!", "text": "str!", "source": "any!", "when": "table",
               "suggests": "str", "kind": "str", "priority": "int"}
_TOP_KEYS = {"guidance": "table!", "source": "list!", "step": "list!", "note": "list",
             "prompt": "list", "on": "list", "timer": "list"}


def _action(c: _Checker, name: Any, path: tuple[Any, ...]) -> Action | None:
    if not isinstance(name, str):
        c.err(path, f"action must be a string, not {_tname(name)}")
        return None
    for a in Action:
        if name == a.value:
            return a
    c.err(path, f"unknown action {name!r} (known: {', '.join(a.value for a in Action)})")
    return None


def _condition(c: _Checker, d: Any, path: tuple[Any, ...]) -> Condition:
    if d is None:
        return Condition()
    checks: list[tuple[str, Any]] = []
    for q, v in d.items():
        p = (*path, q)
        if q not in QUANTITIES:
            c.err(p, f"condition over unknown quantity {q!r} "
                     f"(known: {', '.join(QUANTITIES)})")
            continue
        kind, words, _ = QUANTITIES[q]
        if kind == "number":
            if isinstance(v, bool) or not isinstance(v, int | float):
                c.err(p, f"condition {q!r} needs a number, not {_tname(v)}")
                continue
            checks.append((q, float(v)))
        elif kind == "count":
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                c.err(p, f"condition {q!r} needs a whole number ≥ 0")
                continue
            checks.append((q, v))
        elif kind == "bool":
            if not isinstance(v, bool):
                c.err(p, f"condition {q!r} needs true or false, not {_tname(v)}")
                continue
            checks.append((q, v))
        else:
            vals = v if isinstance(v, list) else [v]
            assert words is not None
            bad = [x for x in vals if not isinstance(x, str) or x not in words]
            if bad or not vals:
                c.err(p, f"condition {q!r} must be one of {', '.join(words)} "
                         f"(or a list of them), not {bad[0] if bad else v!r}")
                continue
            checks.append((q, vals[0] if len(vals) == 1 else tuple(vals)))
    return Condition(tuple(checks))


def _sources(c: _Checker, d: Mapping[str, Any], path: tuple[Any, ...], known: set[str],
             key: str = "source") -> tuple[str, ...]:
    if key not in d:
        c.err(path, "missing source: every line, prompt and timer names where it comes from")
        return ()
    ids = c.str_list(d, key, path)
    if not ids and isinstance(d.get(key), list):
        c.err((*path, key), "missing source: the source list is empty")
    for s in ids:
        if s not in known:
            c.err((*path, key), f"unknown source {s!r} (define it in a [[source]] table)")
    return tuple(ids)


def _text(c: _Checker, text: str, path: tuple[Any, ...], placeholders: bool = False) -> None:
    for ph in re.findall(r"\{[^{}]*\}", text):
        if not placeholders or ph not in PLACEHOLDERS:
            allowed = ", ".join(PLACEHOLDERS) if placeholders else "none here"
            c.err(path, f"unknown placeholder {ph} (allowed: {allowed})")


def _lines(c: _Checker, raw: Any, path: tuple[Any, ...], known: set[str]) -> tuple[Line, ...]:
    if not isinstance(raw, list):
        return ()
    if not 1 <= len(raw) <= 3:
        c.err(path, f"'lines' must hold one to three lines, not {len(raw)}")
    out: list[Line] = []
    for i, item in enumerate(raw):
        p = (*path, i)
        if isinstance(item, str):
            c.err(p, "missing source: write a line as { text = \"...\", source = \"ID\" }")
            continue
        if not isinstance(item, dict):
            c.err(p, f"a line must be a table {{ text, source }}, not {_tname(item)}")
            continue
        c.table(item, _LINE_KEYS, p, "a line")
        text = c.get(item, "text", "str", p)
        srcs = _sources(c, item, p, known)
        if text:
            _text(c, text, p)
            out.append(Line(text, srcs))
    return tuple(out)


def _transition(c: _Checker, d: Any, path: tuple[Any, ...], what: str) -> Transition | None:
    if not isinstance(d, dict):
        c.err(path, f"{what} must be a table")
        return None
    c.table(d, _NEXT_KEYS, path, what)
    action = _action(c, d["action"], (*path, "action")) if "action" in d else None
    label = c.get(d, "label", "str", path)
    goto = c.get(d, "goto", "str", path)
    when = _condition(c, c.get(d, "when", "table", path), (*path, "when"))
    params_raw = c.get(d, "params", "table", path) or {}
    params: list[tuple[str, str]] = []
    for k, v in params_raw.items():
        if not isinstance(v, str):
            c.err((*path, "params", k), f"parameter {k!r} must be a string")
        elif action is Action.NALOXONE and k == "route" and v not in ("im", "nasal"):
            c.err((*path, "params", k), f"naloxone route must be 'im' or 'nasal', not {v!r}")
        else:
            params.append((k, v))
    primary = c.get(d, "primary", "bool", path, False)
    if action is None or label is None:
        return None
    return Transition(action, label, goto, when, tuple(params), bool(primary))


def _prompt(c: _Checker, d: Any, path: tuple[Any, ...], known: set[str]) -> PromptDef | None:
    if not isinstance(d, dict):
        c.err(path, "a prompt must be a table")
        return None
    c.table(d, _PROMPT_KEYS, path, "a prompt")
    pid = c.get(d, "id", "str", path)
    text = c.get(d, "text", "str", path)
    srcs = _sources(c, d, path, known)
    when = _condition(c, c.get(d, "when", "table", path), (*path, "when"))
    kind = c.get(d, "kind", "str", path, "suggestion")
    if kind not in PROMPT_KINDS:
        c.err((*path, "kind"), f"prompt kind must be one of {', '.join(PROMPT_KINDS)}")
    suggests = c.get(d, "suggests", "str", path, "") if d.get("suggests") != "" else ""
    if suggests not in SUGGESTS:
        c.err((*path, "suggests"), f"'suggests' must be one of {', '.join(SUGGESTS[1:])}")
    reassuring = bool(c.get(d, "reassuring", "bool", path, False))
    if reassuring and suggests in ("breaths", "naloxone", "911"):
        c.err(path, "a reassuring prompt cannot also suggest breaths, naloxone or 911")
    priority = c.get(d, "priority", "int", path, 1)
    if not 1 <= priority <= 3:
        c.err((*path, "priority"), "priority must be 1, 2 or 3")
    if text:
        _text(c, text, (*path, "text"))
    if pid is None or text is None:
        return None
    return PromptDef(pid, text, srcs, when, kind, suggests, reassuring, priority)


def _timer(c: _Checker, d: Any, path: tuple[Any, ...], known: set[str]) -> TimerDef | None:
    if not isinstance(d, dict):
        c.err(path, "a timer must be a table")
        return None
    c.table(d, _TIMER_KEYS, path, "a timer")
    tid = c.get(d, "id", "str", path)
    label = c.get(d, "label", "str", path)
    kind = c.get(d, "kind", "str", path)
    if kind is not None and kind not in TIMER_KINDS:
        c.err((*path, "kind"), f"timer kind must be one of {', '.join(TIMER_KINDS)}")
    srcs = _sources(c, d, path, known)
    start = tuple(a for a in (_action(c, n, (*path, "start"))
                              for n in c.str_list(d, "start", path)) if a)
    stop = tuple(a for a in (_action(c, n, (*path, "stop"))
                             for n in c.str_list(d, "stop", path)) if a)
    if not start:
        c.err(path, "a timer needs 'start': the action(s) that start it")
    interval = c.get(d, "interval_s", "number", path, 5.0)
    if interval <= 0:
        c.err((*path, "interval_s"), "'interval_s' must be above 0")
        interval = 5.0
    length = c.get(d, "length_s", "number", path)
    if length is not None and length <= 0:
        c.err((*path, "length_s"), "'length_s' must be above 0")
        length = None
    if label:
        _text(c, label, (*path, "label"), placeholders=True)
    alerts: list[AlertDef] = []
    for i, a in enumerate(c.get(d, "alert", "list", path, []) or []):
        p = (*path, "alert", i)
        if not isinstance(a, dict):
            c.err(p, "a timer alert must be a table")
            continue
        c.table(a, _ALERT_KEYS, p, "a timer alert")
        at = c.get(a, "at_s", "number", p)
        if at is not None and at < 0:
            c.err((*p, "at_s"), "'at_s' must be 0 or more")
        text = c.get(a, "text", "str", p)
        asrc = _sources(c, a, p, known)
        when = _condition(c, c.get(a, "when", "table", p), (*p, "when"))
        suggests = c.get(a, "suggests", "str", p, "") if a.get("suggests") != "" else ""
        if suggests not in SUGGESTS:
            c.err((*p, "suggests"), f"'suggests' must be one of {', '.join(SUGGESTS[1:])}")
        akind = c.get(a, "kind", "str", p, "suggestion")
        if akind not in PROMPT_KINDS:
            c.err((*p, "kind"), f"alert kind must be one of {', '.join(PROMPT_KINDS)}")
        prio = c.get(a, "priority", "int", p, 2)
        if text:
            _text(c, text, (*p, "text"), placeholders=True)
        if at is not None and text:
            alerts.append(AlertDef(float(at), text, asrc, when, suggests, akind, prio))
    if tid is None or label is None or kind is None:
        return None
    return TimerDef(tid, label, kind, srcs, start, stop, float(interval),
                    float(length) if length is not None else None,
                    bool(c.get(d, "per_start", "bool", path, False)),
                    tuple(sorted(alerts, key=lambda a: a.at_s)))


def _raw_gotos(entries: Any) -> list[str]:
    """Targets named by transitions, even ones with other problems, so one mistake is not
    reported again as an unreachable step."""
    if not isinstance(entries, list):
        return []
    return [e["goto"] for e in entries if isinstance(e, dict) and isinstance(e.get("goto"), str)]


def _unique(c: _Checker, items: list[tuple[str, tuple[Any, ...]]], what: str) -> None:
    seen: dict[str, int] = {}
    for ident, path in items:
        if ident in seen:
            c.err((*path, "id"), f"duplicate {what} id {ident!r} "
                                 f"(first defined on line {seen[ident]})")
        else:
            seen[ident] = c.idx.line_of((*path, "id"))


def validate_text(text: str, name: str = "<guidance>") -> tuple[Protocol | None, list[Problem]]:
    """Checks a guidance document; returns the protocol (None if invalid) and every problem."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"line (\d+)", str(e))
        return None, [Problem(int(m.group(1)) if m else 1, f"not valid TOML: {e}")]
    c = _Checker(text)
    c.table(doc, _TOP_KEYS, (), "the file")

    g = doc.get("guidance") if isinstance(doc.get("guidance"), dict) else {}
    if "guidance" in doc and not isinstance(doc["guidance"], dict):
        c.err(("guidance",), "'guidance' must be a table: [guidance]")
    c.table(g, _GUIDANCE_KEYS, ("guidance",), "[guidance]") if "guidance" in doc else None
    gid = c.get(g, "id", "str", ("guidance",), "")
    title = c.get(g, "title", "str", ("guidance",), "")
    start = c.get(g, "start", "str", ("guidance",), "")

    def array(key: str) -> list[Any]:
        v = doc.get(key, [])
        if not isinstance(v, list):
            c.err((key,), f"{key!r} must be written as [[{key}]] tables")
            return []
        return v

    # sources
    sources: dict[str, Source] = {}
    src_ids: list[tuple[str, tuple[Any, ...]]] = []
    for i, s in enumerate(array("source")):
        p = ("source", i)
        if not isinstance(s, dict):
            c.err(p, "a source must be a table")
            continue
        c.table(s, _SOURCE_KEYS, p, "a source")
        sid = c.get(s, "id", "str", p)
        label = c.get(s, "label", "str", p)
        url = c.get(s, "url", "str", p, "")
        if label is not None and label not in LABELS:
            c.err((*p, "label"), f"unknown source label {label!r} (known: {', '.join(LABELS)})")
        if label not in (None, "app-defined") and not url:
            c.err(p, f"source {sid!r} needs a 'url' (only app-defined sources may omit it)")
        if url and not re.match(r"^https?://\S+$", url):
            c.err((*p, "url"), f"source url must start with http:// or https://: {url!r}")
        if sid:
            src_ids.append((sid, p))
            sources.setdefault(sid, Source(sid, label or "", url or "",
                                           c.get(s, "title", "str", p, "") or ""))
    _unique(c, src_ids, "source")
    known = set(sources)

    # notes
    notes: dict[str, NoteDef] = {}
    note_ids: list[tuple[str, tuple[Any, ...]]] = []
    for i, n in enumerate(array("note")):
        p = ("note", i)
        if not isinstance(n, dict):
            c.err(p, "a note must be a table")
            continue
        c.table(n, _NOTE_KEYS, p, "a note")
        nid = c.get(n, "id", "str", p)
        ntitle = c.get(n, "title", "str", p, "")
        lines = _lines(c, c.get(n, "lines", "list", p), (*p, "lines"), known)
        if nid:
            note_ids.append((nid, p))
            notes.setdefault(nid, NoteDef(nid, ntitle, lines))
    _unique(c, note_ids, "note")

    # global transitions, prompts, timers
    on = tuple(t for t in (_transition(c, d, ("on", i), "an [[on]] entry")
                           for i, d in enumerate(array("on"))) if t)
    prompts = [(p, ("prompt", i)) for i, d in enumerate(array("prompt"))
               if (p := _prompt(c, d, ("prompt", i), known))]
    timers = [(t, ("timer", i)) for i, d in enumerate(array("timer"))
              if (t := _timer(c, d, ("timer", i), known))]
    _unique(c, [(t.id, p) for t, p in timers], "timer")
    all_prompts = list(prompts)

    # steps
    steps: dict[str, StepDef] = {}
    raw_gotos: dict[str, list[str]] = {}
    step_ids: list[tuple[str, tuple[Any, ...]]] = []
    step_paths: dict[str, tuple[Any, ...]] = {}
    for i, s in enumerate(array("step")):
        p = ("step", i)
        if not isinstance(s, dict):
            c.err(p, "a step must be a table")
            continue
        c.table(s, _STEP_KEYS, p, "a step")
        sid = c.get(s, "id", "str", p)
        stitle = c.get(s, "title", "str", p, "")
        lines = _lines(c, c.get(s, "lines", "list", p), (*p, "lines"), known)
        nxt = tuple(t for t in (_transition(c, d, (*p, "next", j), "a [[step.next]] entry")
                                for j, d in enumerate(c.get(s, "next", "list", p, []) or []))
                    if t)
        sprompts = [(q, (*p, "prompt", j))
                    for j, d in enumerate(c.get(s, "prompt", "list", p, []) or [])
                    if (q := _prompt(c, d, (*p, "prompt", j), known))]
        all_prompts.extend(sprompts)
        raw_gotos.setdefault(sid or "", []).extend(_raw_gotos(s.get("next")))
        snotes = c.str_list(s, "notes", p)
        for n in snotes:
            if n not in notes:
                c.err((*p, "notes"), f"unknown note {n!r}")
        if sid:
            step_ids.append((sid, p))
            if sid not in steps:
                step_paths[sid] = p
                steps[sid] = StepDef(sid, stitle, lines, nxt, tuple(q for q, _ in sprompts),
                                     tuple(snotes),
                                     bool(c.get(s, "terminal", "bool", p, False)))
    _unique(c, step_ids, "step")
    _unique(c, [(q.id, pp) for q, pp in all_prompts], "prompt")

    # references between steps
    if start and steps and start not in steps:
        c.err(("guidance", "start"), f"start step {start!r} does not exist")
    for sid, step in steps.items():
        for j, t in enumerate(step.next):
            if t.goto is not None and t.goto not in steps:
                c.err((*step_paths[sid], "next", j, "goto"),
                      f"next step {t.goto!r} does not exist (in step {sid!r})")
    for i, t in enumerate(on):
        if t.goto is not None and t.goto not in steps:
            c.err(("on", i, "goto"), f"next step {t.goto!r} does not exist")
    if start in steps:
        reached = {start}
        todo = [start]
        global_targets = _raw_gotos(doc.get("on"))
        while todo:
            sid = todo.pop()
            for target in raw_gotos.get(sid, []) + global_targets:
                if target not in steps:
                    continue
                if target not in reached:
                    reached.add(target)
                    todo.append(target)
        for sid in steps:
            if sid not in reached:
                c.err(step_paths[sid], f"step {sid!r} is unreachable from {start!r}")

    if c.problems:
        return None, sorted(set(c.problems))
    proto = Protocol(gid, title, start, steps, sources, notes, tuple(q for q, _ in prompts),
                     on, tuple(t for t, _ in timers), name,
                     g.get("jurisdiction", "") if isinstance(g.get("jurisdiction"), str) else "",
                     str(g.get("version", "")))
    return proto, []


def check_file(path: str | Path) -> tuple[Protocol | None, list[str]]:
    """Every problem of a guidance file as `FILE:LINE: message`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        return None, [f"{p}:1: not UTF-8 text ({e.reason})"]
    proto, problems = validate_text(text, str(p))
    return proto, [f"{p}:{pr.line}: {pr.message}" for pr in problems]


def resolve(name_or_path: str | Path | None) -> Path:
    """A file path, or the name of a built-in guidance file (e.g. "bc-save-me")."""
    if name_or_path is None:
        name_or_path = DEFAULT_GUIDANCE
    p = Path(name_or_path)
    if p.suffix != ".toml" and not p.exists():
        builtin = GUIDANCE_DIR / f"{name_or_path}.toml"
        if builtin.exists():
            return builtin
        known = ", ".join(sorted(x.stem for x in GUIDANCE_DIR.glob("*.toml")))
        raise ConfigError(f"no guidance file or built-in guidance named {str(name_or_path)!r} "
                          f"(built-in: {known})")
    return p


def load(name_or_path: str | Path | None = None) -> Protocol:
    """Loads and validates; raises ConfigError with the first problem."""
    path = resolve(name_or_path)
    try:
        proto, problems = check_file(path)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such guidance file") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a guidance file") from None
    except PermissionError:
        raise ConfigError(f"{path}: permission denied") from None
    if proto is None:
        more = f" (and {len(problems) - 1} more; run `oxi-assist guidance check {path}`)" \
            if len(problems) > 1 else ""
        raise ConfigError(problems[0] + more)
    return proto
