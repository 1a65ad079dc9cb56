"""What the guide tells the screen and the recorder, as frozen values.

The UI renders a `GuideState` and binds keys to the `OfferedAction`s in it; the session recorder
stores the `LogEntry`s. These types are a contract: fields are only ever added, with defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from oxi_assist.actions import Action
from oxi_assist.breathing import BreathCount


@dataclass(frozen=True)
class SourceRef:
    """Where a line of guidance comes from, so a number that is ours is never shown as BC's."""

    id: str
    label: str  # "BC-official", "BC-derived", "app-defined", "other-jurisdiction", ...
    url: str = ""  # empty only for app-defined rules
    title: str = ""


@dataclass(frozen=True)
class StepView:
    """The step the responder is on: short lines to read mid-response, each with its sources."""

    id: str
    title: str
    lines: tuple[str, ...]
    sources: tuple[SourceRef, ...]  # the distinct sources of this step's lines, in order
    line_sources: tuple[tuple[SourceRef, ...], ...] = ()  # per line, same order as `lines`

    @property
    def labels(self) -> tuple[str, ...]:
        """Distinct source labels, e.g. ("BC-official", "app-defined")."""
        return tuple(dict.fromkeys(s.label for s in self.sources))


@dataclass(frozen=True)
class OfferedAction:
    """Something the responder can say happened. The UI binds a key to `action` and sends
    `params` with it (e.g. naloxone dose and route)."""

    action: Action
    label: str
    params: tuple[tuple[str, str], ...] = ()  # frozen form of a dict; use `params_dict`
    primary: bool = False  # the step's recommended next move (draw it first / highlighted)
    safety: bool = False  # always offered (911, breaths, naloxone): never hidden by a reading
    hint: str = ""  # e.g. "counted 7/min" when the breathing counter suggests this answer

    @property
    def params_dict(self) -> dict[str, str]:
        return dict(self.params)


@dataclass(frozen=True)
class Prompt:
    """A suggestion tied to live vitals or a timer, or a warning about the signal."""

    id: str
    text: str
    kind: str = "suggestion"  # "suggestion" or "warning"
    sources: tuple[SourceRef, ...] = ()
    suggests: str = ""  # "breaths", "naloxone", "911", "recovery", "check" or ""
    reassuring: bool = False  # tells the responder things look fine (only on a good signal)
    priority: int = 1  # 1 low … 3 high; warnings about the signal are 3


@dataclass(frozen=True)
class TimerState:
    """A running timer. `elapsed` and `remaining` are never negative."""

    id: str  # e.g. "metronome", "naloxone-1", "since-911", "observation"
    label: str
    elapsed: float
    remaining: float | None = None  # for timers with a length (the observation period)
    due: bool = False  # an alert of this timer is active now
    message: str = ""  # the active alert's text, if any
    sources: tuple[SourceRef, ...] = ()
    beat: int | None = None  # metronome: breaths cued so far (1, 2, …)
    phase: float | None = None  # metronome: 0.0 at a cue, rising to 1.0 at the next
    interval: float | None = None  # metronome: seconds between cues


@dataclass(frozen=True)
class LogEntry:
    """One line of the event timeline the recorder stores and the debrief shows."""

    t: float
    kind: str  # "step", "action", "prompt", "warning", "alarm", "timer", "ignored", "info"
    text: str


@dataclass(frozen=True)
class GuideState:
    """Everything the screen shows about the response at time `t`."""

    t: float
    step: StepView
    offered: tuple[OfferedAction, ...]
    suggestions: tuple[Prompt, ...] = ()
    warnings: tuple[Prompt, ...] = ()
    timers: tuple[TimerState, ...] = ()
    doses: int = 0
    breathing: BreathCount = field(default_factory=BreathCount)
    breathing_answer: str = "unknown"  # the responder's last answer: normal/not_normal/unknown
    breaths_on: bool = False
    called_911: bool = False
    ended: bool = False
    notes: tuple[StepView, ...] = ()  # reference notes for this step (oximeter placement, …)
    log: tuple[LogEntry, ...] = ()
    guidance_id: str = ""
    guidance_title: str = ""
