"""What the screen shows, as one immutable snapshot.

Widgets draw from a `ScreenModel` and nothing else: the App builds one from the session at a
bounded rate (see `app.OxiApp`), and tests build them by hand. This keeps the widgets free of
session internals and makes every screen state reproducible from a small fixture.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from drivers.reading import LinkState
from oxi_assist.monitor.vitals import Alarm, VitalsState


@dataclass(frozen=True)
class KeyView:
    """One responder key as the screen offers it: a chip to tap or click, and its key."""

    key_id: str  # the action's key name (`actions.KeyBinding.id`), what a click sends
    shown: str  # the key as printed ("9", "␣")
    label: str  # words on a wide screen
    short: str  # words on a narrow one
    core: bool = False  # 911, breaths, CPR, naloxone: always offered
    urgent: bool = False  # the step's recommended next move
    hint: str = ""  # e.g. "counted 7/min"


class Tone(enum.Enum):
    """How a prompt is drawn: a warning or an instruction loud, a reassurance calm and last."""

    WARNING = "warning"
    INSTRUCTION = "instruction"
    REASSURANCE = "reassurance"


@dataclass(frozen=True)
class PromptView:
    text: str
    origin: str = ""  # "BC", "ours", "BC + ours", …
    tone: Tone = Tone.INSTRUCTION


@dataclass(frozen=True)
class GuideLine:
    text: str
    origin: str = ""


@dataclass(frozen=True)
class NoteView:
    """A reference note (the oximeter handout: placement, what the numbers mean, limits)."""

    title: str
    lines: tuple[GuideLine, ...] = ()


@dataclass(frozen=True)
class TimerView:
    """One running timer. `seconds` counts down when `countdown`, else up (time since)."""

    label: str
    seconds: float
    countdown: bool = False
    urgent: bool = False  # due or overdue: shown loud
    note: str = ""


@dataclass(frozen=True)
class GuideView:
    step: str = ""  # short id or letter, e.g. "V"
    title: str = ""
    origin: str = ""  # where the step's wording comes from, e.g. "BC" or "BC + ours"
    lines: tuple[GuideLine, ...] = ()
    prompts: tuple[PromptView, ...] = ()  # warnings, instructions, then reassurance
    keys: tuple[KeyView, ...] = ()  # the core keys first, then what the step offers
    timers: tuple[TimerView, ...] = ()
    breaths_on: bool = False
    breath_due_in: float | None = None  # seconds until the next rescue breath (metronome)
    doses: int = 0
    handout: tuple[NoteView, ...] = ()  # the oximeter handout (the `i` screen)
    cue: NoteView | None = None  # the placement cue shown while a session starts


@dataclass(frozen=True)
class LogLineView:
    """One line of the event log as the screen draws it: the session's `LogLine` as plain
    data (its kind a plain word), so the screen's model holds no session type."""

    t: float  # seconds since the session began
    text: str
    kind: str = "event"  # "event", "alarm", "link", "action", "guide", "trainer"


@dataclass(frozen=True)
class TrainerView:
    paused: bool
    speed: float
    scenario: str
    status: str = ""  # the simulated patient's state in words, when the source gives it


@dataclass(frozen=True)
class ScreenModel:
    elapsed: float  # seconds since the session began, from the injected clock
    source_label: str = ""
    device: str = ""
    link: LinkState | None = None  # None: no source at all (guidance only)
    link_reason: str = ""
    simulated: bool = False
    replay: bool = False
    recording: str | None = None  # path being written, None when not recording
    recording_error: str = ""  # writing the recording failed (the session goes on)
    vitals: VitalsState | None = None
    breath_rate: float | None = None  # breaths/min from the responder's taps, when current
    breath_text: str = ""  # the counter's state in words ("counting… (3 taps)")
    trend_t: Sequence[float] = ()  # seconds since start
    trend_spo2: Sequence[float | None] = ()
    trend_window: float = 300.0
    pleth: Sequence[float] = ()
    alarm: Alarm | None = None
    alarm_paused_for: float | None = None  # seconds of pause left, None when not paused
    guide: GuideView = field(default_factory=GuideView)
    log: tuple[LogLineView, ...] = ()
    trainer: TrainerView | None = None
    ended: bool = False
    response_active: bool = False  # an overdose response is under way (ending asks first)
    show_cue: bool = False  # the placement cue is shown (a session with an oximeter starting)
    flash_t: float | None = None  # the injected clock's time, for the alarm flash phase
    #: the mode shown first on the status line instead of the source's (a class station:
    #: "TRAINING / CLASS"); "" for the usual LIVE / REPLAY / TRAINING / SIMULATED
    mark: str = ""
