"""What the screen shows, as one immutable snapshot.

Widgets draw from a `ScreenModel` and nothing else: the App builds one from the session at a
bounded rate (see `app.OxiApp`), and tests build them by hand. This keeps the widgets free of
session internals and makes every screen state reproducible from a small fixture.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from drivers.reading import LinkState
from oxi_assist.vitals import Alarm, VitalsState


@dataclass(frozen=True)
class ActionHint:
    """A responder action offered on screen with its key."""

    key: str
    label: str
    urgent: bool = False


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
    text: str = ""
    prompts: tuple[str, ...] = ()
    actions: tuple[ActionHint, ...] = ()
    timers: tuple[TimerView, ...] = ()
    breaths_on: bool = False
    breath_due_in: float | None = None  # seconds until the next rescue breath (metronome)
    doses: int = 0
    source: str = ""  # where the step's wording comes from


@dataclass(frozen=True)
class LogLine:
    t: float  # seconds since the session began
    text: str
    kind: str = "event"  # "event", "alarm", "link", "action", "guide"


@dataclass(frozen=True)
class TrainerView:
    paused: bool
    speed: float
    scenario: str


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
    log: tuple[LogLine, ...] = ()
    trainer: TrainerView | None = None
    ended: bool = False
    flash_t: float | None = None  # the injected clock's time, for the alarm flash phase
