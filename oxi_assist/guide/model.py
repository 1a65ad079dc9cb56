"""A guidance file's data model: what the engine walks through once the checker passed it.

The shapes here are what a checked guidance file (guidance/*.toml) becomes: a `Guidance` of
steps, lines, transitions, prompts, timers and notes, each line and prompt naming the
`Citation`s it comes from. Built by `oxi_assist.guide.schema` (or in code, for the tests);
read by the engine. The limits a file is held to live beside the shapes they limit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from oxi_assist.actions import Action
from oxi_assist.guide.conditions import Condition

#: Source labels a guidance file may use (DOMAIN.md §0). "unverified" is deliberately absent.
LABELS = ("BC-official", "BC-derived", "research", "other-jurisdiction", "clinical-ref",
          "app-defined")
#: A file sets "suggestion" or "warning"; a prompt whose text reassures is a "reassurance"
#: (drawn calmly, after the step), whatever the file says.
PROMPT_KINDS = ("suggestion", "warning")
TIMER_KINDS = ("metronome", "since")
ROUTES = ("im", "nasal")
#: Placeholders each kind of text may use; the engine fills them in (guide/prompts.py `fill`).
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "line": (),
    "prompt": ("{dose}", "{prev}", "{gap}", "{rate}", "{since_tap}", "{kit_left}"),
    "alert": ("{n}", "{dose}", "{prev}", "{gap}", "{rate}", "{since_tap}", "{kit_left}"),
    "timer": ("{n}", "{dose}"),
}
#: The most a guidance file may be, and the deepest its brackets may nest.
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

