"""The guidance engine: walks a responder through a guidance protocol (guidance/*.toml).

Public types (re-exported here for the UI and the recorder): `GuideState`, `StepView`,
`OfferedAction`, `Prompt`, `TimerState`, `LogEntry`, `SourceRef`, `BreathCount`.
"""

from __future__ import annotations

from oxi_assist.breathing import BreathCount, CountState
from oxi_assist.guide_state import (
    GuideState,
    LogEntry,
    OfferedAction,
    Prompt,
    SourceRef,
    StepView,
    TimerState,
)

__all__ = [
    "BreathCount",
    "CountState",
    "GuideState",
    "LogEntry",
    "OfferedAction",
    "Prompt",
    "SourceRef",
    "StepView",
    "TimerState",
]
