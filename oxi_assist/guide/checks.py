"""The checks of each piece of a guidance file: its keys and types, conditions, sources,
lines, transitions, prompts, timers and kit.

`Checker` reports each problem at the line of the key it concerns (drivers/toml_file.py) and
returns a fallback, so one pass finds every problem of a file; it also gathers the texts the
safety analysis reads (`items`). The whole document is walked by `oxi_assist.guide.schema`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from drivers.toml_file import Positions, Problems
from oxi_assist.actions import Action
from oxi_assist.guide.analysis import Item
from oxi_assist.guide.conditions import (
    QUANTITIES,
    Condition,
    cond,
    condition_value_problem,
    limit_problem,
)
from oxi_assist.guide.model import (
    MAX_LINES,
    MAX_PLAIN_LINES,
    OWN_INTENTS,
    PLACEHOLDERS,
    PROMPT_KINDS,
    ROUTES,
    TIMER_KINDS,
    AlertDef,
    Line,
    PromptDef,
    TimerDef,
    Transition,
)
from oxi_assist.guide.vocabulary import INTENTS, intents_of


class Checker:
    def __init__(self, text: str, name: str = "<guidance>") -> None:
        self.problems = Problems(Positions(text), name)
        self.items: list[Item] = []  # what the safety analysis reads
        self.labels: dict[str, str] = {}  # source id → label

    def err(self, path: Iterable[Any], message: str) -> None:
        self.problems.add(path, message)

    def line_of(self, path: Iterable[Any]) -> int:
        return self.problems.positions.line_of(path)

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


GUIDANCE_KEYS = {"id": "str!", "title": "str!", "start": "str!", "version": "any",
                  "jurisdiction": "str", "description": "str", "language": "str",
                  "handout": "list", "start_note": "str"}
SOURCE_KEYS = {"id": "str!", "label": "str!", "url": "str", "title": "str", "note": "str"}
_LINE_KEYS = {"text": "str!", "source": "any!", "when": "table", "does": "any"}
STEP_KEYS = {"id": "str!", "title": "str!", "lines": "list!", "next": "list",
              "prompt": "list", "notes": "list", "terminal": "bool"}
NOTE_KEYS = {"id": "str!", "title": "str!", "lines": "list!"}
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
TOP_KEYS = {"guidance": "table!", "source": "list!", "step": "list!", "note": "list",
             "prompt": "list", "on": "list", "timer": "list", "kit": "table"}


def is_table(c: Checker, d: Any, keys: dict[str, str], path: tuple[Any, ...],
             what: str) -> bool:
    """Whether `d` is a table; if so its keys are checked against `keys`."""
    if not isinstance(d, dict):
        c.err(path, f"{what} must be a table")
        return False
    c.table(d, keys, path, what)
    return True


def check_action(c: Checker, name: Any, path: tuple[Any, ...]) -> Action | None:
    if not isinstance(name, str):
        c.err(path, f"action must be a string, not {_tname(name)}")
        return None
    for a in Action:
        if name == a.value:
            return a
    c.err(path, f"unknown action {name!r} (known: {', '.join(a.value for a in Action)})")
    return None


def check_condition(c: Checker, d: Any, path: tuple[Any, ...]) -> Condition:
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


def check_does(c: Checker, d: Mapping[str, Any], path: tuple[Any, ...]) -> frozenset[str]:
    names = c.str_list(d, "does", path)
    for n in names:
        if n not in INTENTS:
            c.err((*path, "does"), f"unknown intent {n!r} in `does` (known: "
                                   f"{', '.join(INTENTS)})")
    return frozenset(n for n in names if n in INTENTS)


def check_sources(c: Checker, d: Mapping[str, Any], path: tuple[Any, ...], known: set[str],
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


def check_text(c: Checker, text: str, path: tuple[Any, ...], role: str) -> None:
    allowed = PLACEHOLDERS[role]
    for ph in re.findall(r"\{[^{}]*\}", text):
        if ph not in allowed:
            c.err(path, f"unknown placeholder {ph} (allowed: {', '.join(allowed) or 'none here'})")


def check_lines(c: Checker, raw: Any, path: tuple[Any, ...], known: set[str], what: str,
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
        srcs = check_sources(c, item, p, known)
        when = check_condition(c, c.get(item, "when", "table", p), (*p, "when"))
        declared = check_does(c, item, p)
        if text:
            check_text(c, text, p, "line")
            c.item(p, f"{what} line {i + 1}", text, role, srcs, declared=declared, when=when)
            out.append(Line(text, srcs, when, declared | intents_of(text)))
    if role == "line" and sum(1 for ln in out if not ln.when) > MAX_PLAIN_LINES:
        c.err(path, f"at most {MAX_PLAIN_LINES} lines of a step may be shown always; give the "
                    f"others a `when`")
    return tuple(out)


def check_transition(c: Checker, d: Any, path: tuple[Any, ...], what: str) -> Transition | None:
    if not is_table(c, d, _NEXT_KEYS, path, what):
        return None
    action = check_action(c, d["action"], (*path, "action")) if "action" in d else None
    label = c.get(d, "label", "str", path)
    goto = c.get(d, "goto", "str", path)
    when = check_condition(c, c.get(d, "when", "table", path), (*path, "when"))
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


def check_prompt(c: Checker, d: Any, path: tuple[Any, ...], known: set[str]) -> PromptDef | None:
    if not is_table(c, d, _PROMPT_KEYS, path, "a prompt"):
        return None
    pid = c.get(d, "id", "str", path)
    said = _said(c, d, path, known, "prompt", 1)
    text = said.text
    if pid is None or text is None:
        return None
    c.item((*path, "text"), f"prompt {pid!r}", text, "prompt", said.sources,
           declared=said.declared, when=said.when, kind=said.kind)
    return PromptDef(pid, text, said.sources, said.when, said.kind,
                     said.declared | intents_of(text), int(said.priority))


@dataclass(frozen=True)
class _Said:
    """What a prompt or a timer alert says, checked: its text, sources, condition, kind,
    declared intents and priority."""

    text: str | None
    sources: tuple[str, ...]
    when: Condition
    kind: str
    declared: frozenset[str]
    priority: Any


def _said(c: Checker, d: Mapping[str, Any], path: tuple[Any, ...], known: set[str],
          role: str, priority: int) -> _Said:
    """The keys a prompt and a timer alert share (`role`: "prompt" or "alert")."""
    text = c.get(d, "text", "str", path)
    srcs = check_sources(c, d, path, known)
    when = check_condition(c, c.get(d, "when", "table", path), (*path, "when"))
    kind = c.get(d, "kind", "str", path, "suggestion")
    if kind not in PROMPT_KINDS:
        c.err((*path, "kind"), f"{role} kind must be one of {', '.join(PROMPT_KINDS)}")
    declared = check_does(c, d, path)
    prio = c.number(d, "priority", path, priority)
    if text:
        check_text(c, text, (*path, "text"), role)
    return _Said(text, srcs, when, kind, declared, prio)


def _alert_context(timer_start: tuple[Action, ...], at_s: float) -> Condition:
    """What is true whenever an alert of a timer started only by naloxone (or only by the
    911 call) is due: the latest start was at least `at_s` ago."""
    if timer_start == (Action.NALOXONE,):
        return cond(doses_at_least=1, minutes_since_naloxone_at_least=at_s / 60.0)
    if timer_start == (Action.CALLED_911,):
        return cond(called_911=True, minutes_since_911_at_least=at_s / 60.0)
    return Condition()


def check_timer(c: Checker, d: Any, path: tuple[Any, ...], known: set[str]) -> TimerDef | None:
    if not is_table(c, d, _TIMER_KEYS, path, "a timer"):
        return None
    tid = c.get(d, "id", "str", path)
    label = c.get(d, "label", "str", path)
    kind = c.get(d, "kind", "str", path)
    if kind is not None and kind not in TIMER_KINDS:
        c.err((*path, "kind"), f"timer kind must be one of {', '.join(TIMER_KINDS)}")
    srcs = check_sources(c, d, path, known)
    start = tuple(dict.fromkeys(a for a in (check_action(c, n, (*path, "start"))
                                            for n in c.str_list(d, "start", path)) if a))
    stop = tuple(a for a in (check_action(c, n, (*path, "stop"))
                             for n in c.str_list(d, "stop", path)) if a)
    if not start:
        c.err(path, "a timer needs 'start': the action(s) that start it")
    interval = c.number(d, "interval_s", path, 5.0)
    length = c.number(d, "length_s", path)
    if label:
        check_text(c, label, (*path, "label"), "timer")
        c.item((*path, "label"), f"timer {tid!r} label", label, "title")
    alerts: list[AlertDef] = []
    raw_alerts = c.get(d, "alert", "list", path, []) or []
    if raw_alerts and kind == "metronome":
        c.err((*path, "alert"), "a metronome timer has no alerts (use a 'since' timer)")
    for i, a in enumerate(raw_alerts):
        p = (*path, "alert", i)
        if not is_table(c, a, _ALERT_KEYS, p, "a timer alert"):
            continue
        at = c.number(a, "at_s", p)
        said = _said(c, a, p, known, "alert", 2)
        text = said.text
        if at is not None and text:
            c.item((*p, "text"), f"timer {tid!r} alert at {float(at):g} s", text, "alert",
                   said.sources, declared=said.declared, when=said.when, kind=said.kind,
                   context=_alert_context(start, float(at)))
            alerts.append(AlertDef(float(at), text, said.sources, said.when,
                                   said.declared | intents_of(text), said.kind,
                                   int(said.priority)))
    if tid is None or label is None or kind is None:
        return None
    return TimerDef(tid, label, kind, srcs, start, stop, float(interval),
                    float(length) if length is not None else None,
                    bool(c.get(d, "per_start", "bool", path, False)),
                    tuple(sorted(alerts, key=lambda a: a.at_s)))


def check_kit(c: Checker, d: Any, known: set[str]) -> tuple[tuple[tuple[str, int], ...],
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
    srcs = check_sources(c, d, ("kit",), known)
    if not any(r in d for r in ROUTES):
        c.err(("kit",), "[kit] needs at least one route: im = 3, nasal = 2")
    return tuple(sizes), srcs


def raw_gotos(entries: Any) -> list[str]:
    """Targets named by transitions, even ones with other problems, so one mistake is not
    reported again as an unreachable step."""
    if not isinstance(entries, list):
        return []
    return [e["goto"] for e in entries if isinstance(e, dict) and isinstance(e.get("goto"), str)]


def check_unique(c: Checker, items: list[tuple[str, tuple[Any, ...]]], what: str) -> None:
    seen: dict[str, int] = {}
    for ident, path in items:
        if ident in seen:
            c.err((*path, "id"), f"duplicate {what} id {ident!r} "
                                 f"(first defined on line {seen[ident]})")
        else:
            seen[ident] = c.line_of((*path, "id"))


