"""Guidance files (guidance/*.toml): loading and validation.

Guidance is data so an organisation can adapt wording, steps, thresholds and timers without
touching code. A file is checked completely on load and every problem is reported as
`FILE:LINE: message`; nothing in a file is ever evaluated as code. Conditions are a small
declarative vocabulary over named quantities (`spo2_below = 90`, `breathing = "normal"`, …;
oxi_assist/guidance_conditions.py); what each piece of text tells the responder is read from
the text itself (oxi_assist/guidance_vocabulary.py) and checked against the safety rules
(oxi_assist/guidance_analysis.py). The format is described in docs/GUIDANCE.md.

Reading is bounded: only a regular file is opened, at most `MAX_BYTES` of it is read, and
brackets nested deeper than `MAX_DEPTH` are refused before the TOML parser sees them, so
`/dev/zero`, a FIFO or a 1,000-level nested file gives one line, not a hang or a traceback.

tomllib gives no line numbers, so `_LineIndex` scans the text for the `[[step]]`-style headers
and `key =` lines to point each problem at the right line.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from drivers.errors import ConfigError, FormatError
from drivers.safe_files import check_input, read_input
from oxi_assist.actions import Action
from oxi_assist.guide.analysis import Item, analyse
from oxi_assist.guide.conditions import (
    BANDS,
    BREATHING,
    QUANTITIES,
    SIGNALS,
    Condition,
    Facts,
    cond,
    condition_value_problem,
    limit_problem,
)
from oxi_assist.guide.vocabulary import INTENTS, intents_of

__all__ = ["BANDS", "BREATHING", "QUANTITIES", "SIGNALS", "Condition", "Facts"]

GUIDANCE_DIR = Path(__file__).resolve().parents[2] / "guidance"
DEFAULT_GUIDANCE = "bc-save-me"

#: Source labels a guidance file may use (DOMAIN.md §0). "unverified" is deliberately absent.
LABELS = ("BC-official", "BC-derived", "research", "other-jurisdiction", "clinical-ref",
          "app-defined")
#: A file sets "suggestion" or "warning"; a prompt whose text reassures is a "reassurance"
#: (drawn calmly, after the step), whatever the file says.
PROMPT_KINDS = ("suggestion", "warning")
TIMER_KINDS = ("metronome", "since")
ROUTES = ("im", "nasal")
#: Placeholders each kind of text may use; the engine fills them in (guide.py `_fill`).
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "line": (),
    "prompt": ("{dose}", "{prev}", "{gap}", "{rate}", "{since_tap}", "{kit_left}"),
    "alert": ("{n}", "{dose}", "{prev}", "{gap}", "{rate}", "{since_tap}", "{kit_left}"),
    "timer": ("{n}", "{dose}"),
}
#: The most a guidance file may be, and the deepest its brackets may nest.
MAX_BYTES = 1 << 20
MAX_DEPTH = 16
#: A step shows one to five lines; at most three of them without a `when` (short lines, read
#: mid-response).
MAX_LINES = 5
MAX_PLAIN_LINES = 3
#: The intents a button's label may name: its own action ("Gave another dose").
OWN_INTENTS: dict[Action, frozenset[str]] = {
    Action.NALOXONE: frozenset({"naloxone"}),
    Action.BREATHS_STOP: frozenset({"stop_breaths"}),
    Action.BREATHS_START: frozenset({"breaths", "keep_breaths"}),
    Action.COMPRESSIONS_STOP: frozenset({"stop_compressions"}),
    Action.COMPRESSIONS_START: frozenset({"compressions"}),
    Action.CALLED_911: frozenset({"911"}),
    Action.RECOVERY_POSITION: frozenset({"recovery"}),
}


# ---------------------------------------------------------------- the protocol

@dataclass(frozen=True)
class Citation:
    id: str
    label: str
    url: str = ""
    title: str = ""


@dataclass(frozen=True)
class Line:
    text: str
    sources: tuple[str, ...]
    when: Condition = field(default_factory=Condition)  # shown only while it holds
    does: frozenset[str] = frozenset()  # declared and read intents


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
    does: frozenset[str] = frozenset()
    priority: int = 1


@dataclass(frozen=True)
class AlertDef:
    at_s: float
    text: str
    sources: tuple[str, ...]
    when: Condition = field(default_factory=Condition)
    does: frozenset[str] = frozenset()
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
class Guidance:
    id: str
    title: str
    start: str
    steps: Mapping[str, StepDef]
    sources: Mapping[str, Citation]
    notes: Mapping[str, NoteDef] = field(default_factory=dict)
    prompts: tuple[PromptDef, ...] = ()
    on: tuple[Transition, ...] = ()
    timers: tuple[TimerDef, ...] = ()
    path: str = ""
    jurisdiction: str = ""
    version: str = ""
    kit: tuple[tuple[str, int], ...] = ()  # doses in one naloxone kit, per route
    kit_sources: tuple[str, ...] = ()
    handout: tuple[str, ...] = ()  # note ids of the oximeter handout, in order
    start_note: str = ""  # the note shown when a session starts (placement)

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


def _max_depth_line(text: str, limit: int) -> int | None:
    """The line where brackets outside strings and comments first nest deeper than
    `limit`, or None. Linear in the text, so it runs before the (recursive) TOML parser."""
    depth, line, i, n = 0, 1, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
        elif text.startswith('"""', i) or text.startswith("'''", i):
            end = text.find(text[i:i + 3], i + 3)
            if end < 0:
                return None  # the parser reports the unterminated string
            line += text.count("\n", i, end)
            i = end + 3
            continue
        elif ch in "\"'":
            j = i + 1
            while j < n and text[j] not in (ch, "\n"):
                j += 2 if (ch == '"' and text[j] == "\\") else 1
            i = j + 1 if j < n and text[j] == ch else j
            continue
        elif ch == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return line
        elif ch in "]}":
            depth -= 1
        i += 1
    return None


# ---------------------------------------------------------------- validation

@dataclass(frozen=True, order=True)
class Problem:
    line: int
    message: str


class _Checker:
    def __init__(self, text: str) -> None:
        self.idx = _LineIndex(text)
        self.problems: list[Problem] = []
        self.items: list[Item] = []  # what the safety analysis reads
        self.labels: dict[str, str] = {}  # source id → label

    def err(self, path: Iterable[Any], message: str) -> None:
        self.problems.append(Problem(self.idx.line_of(path), message))

    # --- typed getters: report and return a fallback on a wrong type
    def table(self, d: Mapping[str, Any], allowed: dict[str, str], path: tuple[Any, ...],
              what: str) -> None:
        for k in d:
            if k in _RETIRED and k not in allowed:
                self.err((*path, k), _RETIRED[k])
            elif k not in allowed:
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

    def number(self, d: Mapping[str, Any], key: str, path: tuple[Any, ...],
               default: Any = None) -> Any:
        """A number of `LIMITS[key]`: NaN, infinities and out-of-range values refused."""
        if key not in d:
            return default
        why = limit_problem(key, d[key])
        if why is not None:
            self.err((*path, key), f"{key!r} {why}"
                     + ("" if isinstance(d[key], int | float) else f", not {_tname(d[key])}"))
            return default
        return d[key]

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

    def item(self, path: tuple[Any, ...], what: str, text: str, role: str,
             sources: tuple[str, ...] = (), **kw: Any) -> None:
        labels = tuple(self.labels.get(s, "") for s in sources)
        self.items.append(Item(path, what, text, role, labels=labels, **kw))


_A = {"str": "a string", "bool": "true or false", "int": "a whole number",
      "number": "a number", "table": "a table", "list": "a list"}
_RETIRED = {k: f"{k!r} is no longer read: what a prompt does comes from its text and its "
               f"`does` list (see docs/GUIDANCE.md)" for k in ("suggests", "reassuring")}


def _tname(v: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "a list", dict: "a table"}.get(type(v), type(v).__name__)


_GUIDANCE_KEYS = {"id": "str!", "title": "str!", "start": "str!", "version": "any",
                  "jurisdiction": "str", "description": "str", "language": "str",
                  "handout": "list", "start_note": "str"}
_SOURCE_KEYS = {"id": "str!", "label": "str!", "url": "str", "title": "str", "note": "str"}
_LINE_KEYS = {"text": "str!", "source": "any!", "when": "table", "does": "any"}
_STEP_KEYS = {"id": "str!", "title": "str!", "lines": "list!", "next": "list",
              "prompt": "list", "notes": "list", "terminal": "bool"}
_NOTE_KEYS = {"id": "str!", "title": "str!", "lines": "list!"}
_NEXT_KEYS = {"action": "str!", "label": "str!", "goto": "str", "when": "table",
              "params": "table", "primary": "bool"}
_PROMPT_KEYS = {"id": "str!", "text": "str!", "source": "any!", "when": "table",
                "kind": "str", "does": "any", "priority": "int"}
_TIMER_KEYS = {"id": "str!", "label": "str!", "kind": "str!", "source": "any!",
               "start": "any", "stop": "any", "interval_s": "number", "length_s": "number",
               "per_start": "bool", "alert": "list"}
_ALERT_KEYS = {"at_s": "number!", "text": "str!", "source": "any!", "when": "table",
               "does": "any", "kind": "str", "priority": "int"}
_KIT_KEYS = {"im": "int", "nasal": "int", "source": "any!"}
_TOP_KEYS = {"guidance": "table!", "source": "list!", "step": "list!", "note": "list",
             "prompt": "list", "on": "list", "timer": "list", "kit": "table"}


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
        quantity = QUANTITIES[q]
        if quantity.kind in ("number", "count"):
            if isinstance(v, bool) or not isinstance(v, int | float) or (
                    quantity.kind == "count" and not isinstance(v, int)):
                need = "a whole number" if quantity.kind == "count" else "a number"
                c.err(p, f"condition {q!r} needs {need}, not {_tname(v)}")
                continue
            why = condition_value_problem(quantity, v)
            if why is not None:
                c.err(p, f"condition {q!r} {why}")
                continue
            checks.append((q, v if quantity.kind == "count" else float(v)))
        elif quantity.kind == "bool":
            if not isinstance(v, bool):
                c.err(p, f"condition {q!r} needs true or false, not {_tname(v)}")
                continue
            checks.append((q, v))
        else:
            vals = v if isinstance(v, list) else [v]
            bad = [x for x in vals if not isinstance(x, str) or x not in quantity.words]
            if bad or not vals:
                c.err(p, f"condition {q!r} must be one of {', '.join(quantity.words)} "
                         f"(or a list of them), not {bad[0] if bad else v!r}")
                continue
            checks.append((q, vals[0] if len(vals) == 1 else tuple(vals)))
    return Condition(tuple(checks))


def _does(c: _Checker, d: Mapping[str, Any], path: tuple[Any, ...]) -> frozenset[str]:
    names = c.str_list(d, "does", path)
    for n in names:
        if n not in INTENTS:
            c.err((*path, "does"), f"unknown intent {n!r} in `does` (known: "
                                   f"{', '.join(INTENTS)})")
    return frozenset(n for n in names if n in INTENTS)


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


def _text(c: _Checker, text: str, path: tuple[Any, ...], role: str) -> None:
    allowed = PLACEHOLDERS[role]
    for ph in re.findall(r"\{[^{}]*\}", text):
        if ph not in allowed:
            c.err(path, f"unknown placeholder {ph} (allowed: {', '.join(allowed) or 'none here'})")


def _lines(c: _Checker, raw: Any, path: tuple[Any, ...], known: set[str], what: str,
           role: str) -> tuple[Line, ...]:
    if not isinstance(raw, list):
        return ()
    if not 1 <= len(raw) <= MAX_LINES:
        c.err(path, f"'lines' must hold one to {MAX_LINES} lines, not {len(raw)}")
    out: list[Line] = []
    for i, item in enumerate(raw):
        p = (*path, i)
        if isinstance(item, str):
            c.err(p, "missing source: write a line as { text = \"...\", source = \"ID\" }")
            continue
        if not isinstance(item, dict):
            c.err(p, f"a line must be a table {{ text, source }}, not {_tname(item)}")
            continue
        c.table(item, _LINE_KEYS if role == "line" else
                {k: v for k, v in _LINE_KEYS.items() if k in ("text", "source")}, p, "a line")
        text = c.get(item, "text", "str", p)
        srcs = _sources(c, item, p, known)
        when = _condition(c, c.get(item, "when", "table", p), (*p, "when"))
        declared = _does(c, item, p)
        if text:
            _text(c, text, p, "line")
            c.item(p, f"{what} line {i + 1}", text, role, srcs, declared=declared, when=when)
            out.append(Line(text, srcs, when, declared | intents_of(text)))
    if role == "line" and sum(1 for ln in out if not ln.when) > MAX_PLAIN_LINES:
        c.err(path, f"at most {MAX_PLAIN_LINES} lines of a step may be shown always; give the "
                    f"others a `when`")
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
        elif action is Action.NALOXONE and k == "route" and v not in ROUTES:
            c.err((*path, "params", k), f"naloxone route must be 'im' or 'nasal', not {v!r}")
        else:
            params.append((k, v))
    primary = c.get(d, "primary", "bool", path, False)
    if action is None or label is None:
        return None
    c.item((*path, "label"), f"{what} ({action.value})", label, "label",
           own=OWN_INTENTS.get(action, frozenset()), when=when)
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
    declared = _does(c, d, path)
    priority = c.number(d, "priority", path, 1)
    if text:
        _text(c, text, (*path, "text"), "prompt")
    if pid is None or text is None:
        return None
    c.item((*path, "text"), f"prompt {pid!r}", text, "prompt", srcs, declared=declared,
           when=when, kind=kind)
    return PromptDef(pid, text, srcs, when, kind, declared | intents_of(text), int(priority))


def _alert_context(timer_start: tuple[Action, ...], at_s: float) -> Condition:
    """What is true whenever an alert of a timer started only by naloxone (or only by the
    911 call) is due: the latest start was at least `at_s` ago."""
    if timer_start == (Action.NALOXONE,):
        return cond(doses_at_least=1, minutes_since_naloxone_at_least=at_s / 60.0)
    if timer_start == (Action.CALLED_911,):
        return cond(called_911=True, minutes_since_911_at_least=at_s / 60.0)
    return Condition()


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
    start = tuple(dict.fromkeys(a for a in (_action(c, n, (*path, "start"))
                                            for n in c.str_list(d, "start", path)) if a))
    stop = tuple(a for a in (_action(c, n, (*path, "stop"))
                             for n in c.str_list(d, "stop", path)) if a)
    if not start:
        c.err(path, "a timer needs 'start': the action(s) that start it")
    interval = c.number(d, "interval_s", path, 5.0)
    length = c.number(d, "length_s", path)
    if label:
        _text(c, label, (*path, "label"), "timer")
        c.item((*path, "label"), f"timer {tid!r} label", label, "title")
    alerts: list[AlertDef] = []
    raw_alerts = c.get(d, "alert", "list", path, []) or []
    if raw_alerts and kind == "metronome":
        c.err((*path, "alert"), "a metronome timer has no alerts (use a 'since' timer)")
    for i, a in enumerate(raw_alerts):
        p = (*path, "alert", i)
        if not isinstance(a, dict):
            c.err(p, "a timer alert must be a table")
            continue
        c.table(a, _ALERT_KEYS, p, "a timer alert")
        at = c.number(a, "at_s", p)
        text = c.get(a, "text", "str", p)
        asrc = _sources(c, a, p, known)
        when = _condition(c, c.get(a, "when", "table", p), (*p, "when"))
        akind = c.get(a, "kind", "str", p, "suggestion")
        if akind not in PROMPT_KINDS:
            c.err((*p, "kind"), f"alert kind must be one of {', '.join(PROMPT_KINDS)}")
        declared = _does(c, a, p)
        prio = c.number(a, "priority", p, 2)
        if text:
            _text(c, text, (*p, "text"), "alert")
        if at is not None and text:
            c.item((*p, "text"), f"timer {tid!r} alert at {float(at):g} s", text, "alert", asrc,
                   declared=declared, when=when, kind=akind,
                   context=_alert_context(start, float(at)))
            alerts.append(AlertDef(float(at), text, asrc, when, declared | intents_of(text),
                                   akind, int(prio)))
    if tid is None or label is None or kind is None:
        return None
    return TimerDef(tid, label, kind, srcs, start, stop, float(interval),
                    float(length) if length is not None else None,
                    bool(c.get(d, "per_start", "bool", path, False)),
                    tuple(sorted(alerts, key=lambda a: a.at_s)))


def _kit(c: _Checker, d: Any, known: set[str]) -> tuple[tuple[tuple[str, int], ...],
                                                        tuple[str, ...]]:
    if d is None:
        return (), ()
    if not isinstance(d, dict):
        c.err(("kit",), "'kit' must be a table: [kit]")
        return (), ()
    c.table(d, _KIT_KEYS, ("kit",), "[kit]")
    sizes: list[tuple[str, int]] = []
    for route in ROUTES:
        n = d.get(route)
        if n is None:
            continue
        why = limit_problem("kit", n)
        if why is not None or isinstance(n, float):
            c.err(("kit", route), f"{route!r} (doses in a kit) "
                                  f"{why or 'must be a whole number'}")
            continue
        sizes.append((route, int(n)))
    srcs = _sources(c, d, ("kit",), known)
    if not any(r in d for r in ROUTES):
        c.err(("kit",), "[kit] needs at least one route: im = 3, nasal = 2")
    return tuple(sizes), srcs


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


def validate_text(text: str, name: str = "<guidance>", *,
                  safety: bool = True) -> tuple[Guidance | None, list[Problem]]:
    """Checks a guidance document; returns the protocol (None if invalid) and every problem.

    With `safety=False` only the structure is checked (the safety analysis is skipped): the
    tests use it to feed the engine files the checker refuses, and show the engine's own
    rules still hold."""
    deep = _max_depth_line(text, MAX_DEPTH)
    if deep is not None:
        return None, [Problem(deep, f"brackets nested deeper than {MAX_DEPTH} levels")]
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
    sources: dict[str, Citation] = {}
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
            sources.setdefault(sid, Citation(sid, label or "", url or "",
                                           c.get(s, "title", "str", p, "") or ""))
    _unique(c, src_ids, "source")
    known = set(sources)
    c.labels = {k: s.label for k, s in sources.items()}

    # notes (which ones are shown with a step is known after the steps)
    raw_notes: list[tuple[str, str, Any, tuple[Any, ...]]] = []
    note_ids: list[tuple[str, tuple[Any, ...]]] = []
    for i, n in enumerate(array("note")):
        p = ("note", i)
        if not isinstance(n, dict):
            c.err(p, "a note must be a table")
            continue
        c.table(n, _NOTE_KEYS, p, "a note")
        nid = c.get(n, "id", "str", p)
        ntitle = c.get(n, "title", "str", p, "")
        if nid:
            note_ids.append((nid, p))
            raw_notes.append((nid, ntitle, c.get(n, "lines", "list", p), p))
    _unique(c, note_ids, "note")
    note_names = {nid for nid, *_ in raw_notes}

    # global transitions, prompts, timers, kit
    on = tuple(t for t in (_transition(c, d, ("on", i), "an [[on]] entry")
                           for i, d in enumerate(array("on"))) if t)
    prompts = [(p, ("prompt", i)) for i, d in enumerate(array("prompt"))
               if (p := _prompt(c, d, ("prompt", i), known))]
    timers = [(t, ("timer", i)) for i, d in enumerate(array("timer"))
              if (t := _timer(c, d, ("timer", i), known))]
    _unique(c, [(t.id, p) for t, p in timers], "timer")
    all_prompts = list(prompts)
    kit, kit_sources = _kit(c, doc.get("kit"), known)

    # steps
    steps: dict[str, StepDef] = {}
    raw_gotos: dict[str, list[str]] = {}
    step_ids: list[tuple[str, tuple[Any, ...]]] = []
    step_paths: dict[str, tuple[Any, ...]] = {}
    shown_notes: set[str] = set()
    for i, s in enumerate(array("step")):
        p = ("step", i)
        if not isinstance(s, dict):
            c.err(p, "a step must be a table")
            continue
        c.table(s, _STEP_KEYS, p, "a step")
        sid = c.get(s, "id", "str", p)
        stitle = c.get(s, "title", "str", p, "")
        if stitle:
            c.item((*p, "title"), f"step {sid!r} title", stitle, "title")
        lines = _lines(c, c.get(s, "lines", "list", p), (*p, "lines"), known,
                       f"step {sid!r}", "line")
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
            if n not in note_names:
                c.err((*p, "notes"), f"unknown note {n!r}")
        shown_notes.update(snotes)
        if sid:
            step_ids.append((sid, p))
            if sid not in steps:
                step_paths[sid] = p
                steps[sid] = StepDef(sid, stitle, lines, nxt, tuple(q for q, _ in sprompts),
                                     tuple(snotes),
                                     bool(c.get(s, "terminal", "bool", p, False)))
    _unique(c, step_ids, "step")
    _unique(c, [(q.id, pp) for q, pp in all_prompts], "prompt")

    notes: dict[str, NoteDef] = {}
    for nid, ntitle, raw, p in raw_notes:
        role = "note" if nid in shown_notes else "handout"
        lines = _lines(c, raw, (*p, "lines"), known, f"note {nid!r}", role)
        notes.setdefault(nid, NoteDef(nid, ntitle, lines))

    handout = tuple(c.str_list(g, "handout", ("guidance",))) or tuple(notes)
    for n in handout:
        if n not in notes:
            c.err(("guidance", "handout"), f"unknown note {n!r} in the handout")
    start_note = c.get(g, "start_note", "str", ("guidance",), "") or ""
    if start_note and start_note not in notes:
        c.err(("guidance", "start_note"), f"unknown note {start_note!r}")

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

    if not c.problems and safety:
        for f in analyse(c.items, kit=[n for _, n in kit]):
            c.err(f.path, f.message)
    if c.problems:
        return None, sorted(set(c.problems))
    proto = Guidance(gid, title, start, steps, sources, notes, tuple(q for q, _ in prompts),
                     on, tuple(t for t, _ in timers), name,
                     g.get("jurisdiction", "") if isinstance(g.get("jurisdiction"), str) else "",
                     str(g.get("version", "")), kit, kit_sources, handout, start_note)
    return proto, []


def read_bounded(path: str | Path) -> bytes:
    """The bytes of a guidance file, refusing what is not a small regular file (checked
    before it is opened: a FIFO or a device is never read). Raises ConfigError with one line
    naming the path (the shared reader's words: drivers/safe_files.py)."""
    try:
        return read_input(path, limit=MAX_BYTES, what="guidance file")
    except FormatError as e:
        raise ConfigError(f"{e.path}:1: {e.reason}") from None


def decode(data: bytes) -> tuple[str | None, Problem | None]:
    """The text of a guidance file, or the problem that it is not UTF-8."""
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as e:
        return None, Problem(1, f"not UTF-8 text ({e.reason})")


def check_file(path: str | Path, *, safety: bool = True) -> tuple[Guidance | None, list[str]]:
    """Every problem of a guidance file as `FILE:LINE: message`."""
    p = Path(path)
    try:
        data = read_bounded(p)
    except ConfigError as e:
        return None, [str(e)]
    return check_bytes(data, p, safety=safety)


def check_bytes(data: bytes, path: str | Path, *,
                safety: bool = True) -> tuple[Guidance | None, list[str]]:
    """`validate_text` on a file's bytes, with each problem as `FILE:LINE: message`."""
    text, bad = decode(data)
    if text is None:
        assert bad is not None
        return None, [f"{path}:{bad.line}: {bad.message}"]
    proto, problems = validate_text(text, str(path), safety=safety)
    return proto, [f"{path}:{pr.line}: {pr.message}" for pr in problems]


def protocol_problems(p: Guidance) -> list[str]:
    """What makes a protocol built in code (not read from a checked file) unusable: the same
    number limits the checker applies, so the engine and `guidance check` agree."""
    out: list[str] = []

    def conditions() -> Iterable[tuple[str, Condition]]:
        for t in p.on:
            yield "an [[on]] entry", t.when
        for pr in p.prompts:
            yield f"prompt {pr.id!r}", pr.when
        for s in p.steps.values():
            for t in s.next:
                yield f"step {s.id!r}", t.when
            for pr in s.prompts:
                yield f"prompt {pr.id!r}", pr.when
            for ln in s.lines:
                yield f"step {s.id!r}", ln.when
        for tm in p.timers:
            for a in tm.alerts:
                yield f"timer {tm.id!r}", a.when

    for what, c in conditions():
        for q, v in c.checks:
            quantity = QUANTITIES.get(q)
            if quantity is None:
                out.append(f"{what}: unknown quantity {q!r}")
            elif quantity.kind in ("number", "count"):
                why = condition_value_problem(quantity, v)
                if why:
                    out.append(f"{what}: condition {q!r} {why}")
    for tm in p.timers:
        for key, v in (("interval_s", tm.interval_s), ("length_s", tm.length_s)):
            why = None if v is None else limit_problem(key, v)
            if why:
                out.append(f"timer {tm.id!r}: {key!r} {why}")
        for a in tm.alerts:
            for key, v in (("at_s", a.at_s), ("priority", a.priority)):
                why = limit_problem(key, v)
                if why:
                    out.append(f"timer {tm.id!r}: alert {key!r} {why}")
    for pr in (*p.prompts, *(q for s in p.steps.values() for q in s.prompts)):
        why = limit_problem("priority", pr.priority)
        if why:
            out.append(f"prompt {pr.id!r}: 'priority' {why}")
    for route, n in p.kit:
        why = limit_problem("kit", n)
        if why:
            out.append(f"kit {route!r}: {why}")
    if p.start not in p.steps:
        out.append(f"start step {p.start!r} does not exist")
    return out


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


@functools.lru_cache(maxsize=16)
def _load_cached(path: str, mtime_ns: int, size: int) -> Guidance:
    proto, problems = check_file(path)
    if proto is None:
        more = f" (and {len(problems) - 1} more; run `oxi-assist guidance check {path}`)" \
            if len(problems) > 1 else ""
        raise ConfigError(problems[0] + more)
    return proto


def load(name_or_path: str | Path | None = None) -> Guidance:
    """Loads and validates; raises ConfigError with the first problem. A file that has not
    changed since it was last loaded is not checked again."""
    path = resolve(name_or_path)
    try:
        st = check_input(path, what="guidance file")
    except FormatError as e:
        why = "no such guidance file" if e.reason == "no such file" else e.reason
        raise ConfigError(f"{e.path}: {why}") from None
    return _load_cached(str(path), st.st_mtime_ns, st.st_size)
