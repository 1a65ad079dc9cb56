"""What the guide tells the screen and the recorder, as frozen values.

The UI renders a `GuideState` and binds keys to the `OfferedAction`s in it; the session recorder
stores the `LogEntry`s. These types are a contract: fields are only ever added, with defaults.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from oxi_assist.actions import Action
from oxi_assist.guide.breathing import BreathCount

#: How each source label reads on screen, in the order origins are listed: a line that cites
#: BC and our own rule reads "BC + ours" (DOMAIN.md §0, §1 rule 4).
ORIGIN_WORDS: tuple[tuple[str, str], ...] = (
    ("BC-official", "BC"),
    ("BC-derived", "BC"),
    ("app-defined", "ours"),
    ("other-jurisdiction", "other jurisdiction"),
    ("clinical-ref", "clinical"),
    ("research", "research"),
)


def origin_label(sources: Iterable[SourceRef]) -> str:
    """"BC", "ours", "BC + ours", "research", … from the labels of `sources` ("" for none).
    The one place a source label becomes the words the screen shows."""
    labels = {s.label for s in sources}
    words: list[str] = []
    for label, word in ORIGIN_WORDS:
        if label in labels and word not in words:
            words.append(word)
    return " + ".join(words)


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

    @property
    def origin(self) -> str:
        """Where the step's lines come from, as the screen says it ("BC + ours")."""
        return origin_label(self.sources)

    @property
    def origins(self) -> tuple[str, ...]:
        """Per line, where it comes from ("BC", "ours", …), same order as `lines`."""
        return tuple(origin_label(refs) for refs in self.line_sources)


@dataclass(frozen=True)
class OfferedAction:
    """Something the responder can say happened. The UI binds a key to `action` and sends
    `params` with it (e.g. naloxone dose and route)."""

    action: Action
    label: str
    params: tuple[tuple[str, str], ...] = ()  # frozen form of a dict; use `params_dict`
    primary: bool = False  # the step's recommended next move (draw it first / highlighted)
    safety: bool = False  # always offered (911, breaths, CPR, naloxone): never hidden
    hint: str = ""  # e.g. "counted 7/min" when the breathing counter suggests this answer

    @property
    def params_dict(self) -> dict[str, str]:
        return dict(self.params)


#: The order in which a prompt's intents name what it pushes toward (`Prompt.suggests`).
_SUGGESTS_ORDER = ("naloxone", "911", "compressions", "breaths", "keep_breaths", "recovery",
                   "check")


@dataclass(frozen=True)
class Prompt:
    """A suggestion tied to live vitals or a timer, a warning, or a calm reassurance.

    `does` is what the engine enforces: the intents the text says plus those the file
    declares (oxi_assist/guide/vocabulary.py). `kind` is "warning", "suggestion" or
    "reassurance" — a reassurance is drawn calmly, after the step, never like a warning."""

    id: str
    text: str
    kind: str = "suggestion"
    sources: tuple[SourceRef, ...] = ()
    does: frozenset[str] = frozenset()
    priority: int = 1  # 1 low … 3 high; warnings about the signal are 3

    @property
    def origin(self) -> str:
        return origin_label(self.sources)

    @property
    def suggests(self) -> str:
        """The main thing it pushes toward ("naloxone", "911", "breaths", …) or ""."""
        return next(("breaths" if i == "keep_breaths" else i
                     for i in _SUGGESTS_ORDER if i in self.does), "")

    @property
    def reassuring(self) -> bool:
        return "reassure" in self.does


@dataclass(frozen=True)
class TimerState:
    """A running timer. `elapsed` and `remaining` are never negative."""

    id: str  # e.g. "metronome", "naloxone-1", "since-911", "resedation-watch"
    label: str
    elapsed: float
    remaining: float | None = None  # for timers with a length
    due: bool = False  # an alert of this timer is active now
    message: str = ""  # the active alert's text, if any
    sources: tuple[SourceRef, ...] = ()
    beat: int | None = None  # metronome: breaths cued so far (1, 2, …)
    phase: float | None = None  # metronome: 0.0 at a cue, rising to 1.0 at the next
    interval: float | None = None  # metronome: seconds between cues


@dataclass(frozen=True)
class LogEntry:
    """One line of the event timeline the recorder stores and the debrief shows: plain words
    ("S: Stimulate"), with the step, prompt or timer id apart in `ref`."""

    t: float
    kind: str  # "step", "prompt", "warning", "timer", "info", "ignored"
    text: str
    ref: str = ""


@dataclass(frozen=True)
class GuideState:
    """Everything the screen shows about the response at time `t`."""

    t: float
    step: StepView
    offered: tuple[OfferedAction, ...]
    suggestions: tuple[Prompt, ...] = ()  # suggestions and reassurances, highest first
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
    compressions_on: bool = False
    responsive: str = "unknown"  # "unknown", "yes", "no"
    doses_by_route: tuple[tuple[str, int], ...] = ()  # ("im", 2), ("nasal", 1)
    kit: tuple[tuple[str, int], ...] = ()  # declared doses per kit and route
    last_dose_t: float | None = None
    handout: tuple[StepView, ...] = ()  # every oximeter handout note, for the handout screen
    start_cue: StepView | None = None  # the placement cue to show when a session starts
