"""Guidance files (guidance/*.toml): finding, reading and checking them.

Guidance is data so an organisation can adapt wording, steps, thresholds and timers without
touching code. A file is checked completely on load and every problem is reported as
`FILE:LINE: message`; nothing in a file is ever evaluated as code. Conditions are a small
declarative vocabulary over named quantities (`spo2_below = 90`, `breathing = "normal"`, …;
oxi_assist/guide/conditions.py); what each piece of text tells the responder is read from
the text itself (oxi_assist/guide/vocabulary.py) and checked against the safety rules
(oxi_assist/guide/analysis.py). The format is described in docs/GUIDANCE.md. The shapes a
file becomes are in oxi_assist/guide/model.py, the checks of each piece in
oxi_assist/guide/checks.py; this module walks the whole document.

Reading is bounded: only a regular file is opened, at most `MAX_BYTES` of it is read, and
brackets nested deeper than `MAX_DEPTH` are refused before the TOML parser sees them, so
`/dev/zero`, a FIFO or a 1,000-level nested file gives one line, not a hang or a traceback.
Lines come from the shared TOML reader (drivers/toml_file.py), which keeps positions.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from drivers import toml_file
from drivers.errors import ConfigError, FormatError
from drivers.safe_files import check_input, read_input
from drivers.toml_file import Problem
from oxi_assist.guide import checks
from oxi_assist.guide.analysis import analyse
from oxi_assist.guide.conditions import (
    QUANTITIES,
    Condition,
    condition_value_problem,
    limit_problem,
)
from oxi_assist.guide.model import LABELS, Citation, Guidance, NoteDef, StepDef

GUIDANCE_DIR = Path(__file__).resolve().parents[2] / "guidance"
DEFAULT_GUIDANCE = "bc-save-me"
#: The most a guidance file may be, and the deepest its brackets may nest.
MAX_BYTES = 1 << 20
MAX_DEPTH = 16


def validate_text(text: str, name: str = "<guidance>", *,
                  safety: bool = True) -> tuple[Guidance | None, list[Problem]]:
    """Checks a guidance document; returns the protocol (None if invalid) and every problem.

    With `safety=False` only the structure is checked (the safety analysis is skipped): the
    tests use it to feed the engine files the checker refuses, and show the engine's own
    rules still hold."""
    try:
        doc = toml_file.parse(text, max_depth=MAX_DEPTH)
    except toml_file.NotToml as e:
        why = (f"brackets nested deeper than {MAX_DEPTH} levels" if e.nesting
               else f"not valid TOML: {e.detail}")
        return None, [Problem(e.line or 1, why)]
    c = checks.Checker(text, name)
    c.table(doc, checks.TOP_KEYS, (), "the file")

    g = doc.get("guidance") if isinstance(doc.get("guidance"), dict) else {}
    if "guidance" in doc and not isinstance(doc["guidance"], dict):
        c.err(("guidance",), "'guidance' must be a table: [guidance]")
    c.table(g, checks.GUIDANCE_KEYS, ("guidance",), "[guidance]") if "guidance" in doc else None
    gid = c.get(g, "id", "str", ("guidance",), "")
    title = c.get(g, "title", "str", ("guidance",), "")
    start = c.get(g, "start", "str", ("guidance",), "")

    def array(key: str) -> list[Any]:
        v = doc.get(key, [])
        if not isinstance(v, list):
            c.err((key,), f"{key!r} must be written as [[{key}]] tables")
            return []
        return v

    def tables(key: str, keys: Any) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
        """Each [[key]] table with its path, its keys checked; an entry that is not a table
        is a problem and is passed over."""
        for i, t in enumerate(array(key)):
            p = (key, i)
            if not isinstance(t, dict):
                c.err(p, f"a {key} must be a table")
                continue
            c.table(t, keys, p, f"a {key}")
            yield p, t

    # sources
    sources: dict[str, Citation] = {}
    src_ids: list[tuple[str, tuple[Any, ...]]] = []
    for p, s in tables("source", checks.SOURCE_KEYS):
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
    checks.check_unique(c, src_ids, "source")
    known = set(sources)
    c.labels = {k: s.label for k, s in sources.items()}

    # notes (which ones are shown with a step is known after the steps)
    raw_notes: list[tuple[str, str, Any, tuple[Any, ...]]] = []
    note_ids: list[tuple[str, tuple[Any, ...]]] = []
    for p, n in tables("note", checks.NOTE_KEYS):
        nid = c.get(n, "id", "str", p)
        ntitle = c.get(n, "title", "str", p, "")
        if nid:
            note_ids.append((nid, p))
            raw_notes.append((nid, ntitle, c.get(n, "lines", "list", p), p))
    checks.check_unique(c, note_ids, "note")
    note_names = {nid for nid, *_ in raw_notes}

    # global transitions, prompts, timers, kit
    on = tuple(t for t in (checks.check_transition(c, d, ("on", i), "an [[on]] entry")
                           for i, d in enumerate(array("on"))) if t)
    prompts = [(p, ("prompt", i)) for i, d in enumerate(array("prompt"))
               if (p := checks.check_prompt(c, d, ("prompt", i), known))]
    timers = [(t, ("timer", i)) for i, d in enumerate(array("timer"))
              if (t := checks.check_timer(c, d, ("timer", i), known))]
    checks.check_unique(c, [(t.id, p) for t, p in timers], "timer")
    all_prompts = list(prompts)
    kit, kit_sources = checks.check_kit(c, doc.get("kit"), known)

    # steps
    steps: dict[str, StepDef] = {}
    raw_gotos: dict[str, list[str]] = {}
    step_ids: list[tuple[str, tuple[Any, ...]]] = []
    step_paths: dict[str, tuple[Any, ...]] = {}
    shown_notes: set[str] = set()
    for p, s in tables("step", checks.STEP_KEYS):
        sid = c.get(s, "id", "str", p)
        stitle = c.get(s, "title", "str", p, "")
        if stitle:
            c.item((*p, "title"), f"step {sid!r} title", stitle, "title")
        lines = checks.check_lines(c, c.get(s, "lines", "list", p), (*p, "lines"), known,
                       f"step {sid!r}", "line")
        nxt = tuple(t for t in (checks.check_transition(c, d, (*p, "next", j),
                                                        "a [[step.next]] entry")
                                for j, d in enumerate(c.get(s, "next", "list", p, []) or []))
                    if t)
        sprompts = [(q, (*p, "prompt", j))
                    for j, d in enumerate(c.get(s, "prompt", "list", p, []) or [])
                    if (q := checks.check_prompt(c, d, (*p, "prompt", j), known))]
        all_prompts.extend(sprompts)
        raw_gotos.setdefault(sid or "", []).extend(checks.raw_gotos(s.get("next")))
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
    checks.check_unique(c, step_ids, "step")
    checks.check_unique(c, [(q.id, pp) for q, pp in all_prompts], "prompt")

    notes: dict[str, NoteDef] = {}
    for nid, ntitle, raw, p in raw_notes:
        role = "note" if nid in shown_notes else "handout"
        lines = checks.check_lines(c, raw, (*p, "lines"), known, f"note {nid!r}", role)
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
        global_targets = checks.raw_gotos(doc.get("on"))
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
        return None, c.problems.sorted()
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
        return toml_file.decode(data), None
    except toml_file.NotToml as e:
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
