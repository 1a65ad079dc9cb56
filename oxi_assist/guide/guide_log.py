"""The guide's timestamped log of its own steps, prompts, timer alerts and notes.

The recorder stores it beside the responder's actions and the alarms (which the session logs
itself, once). A prompt that comes back soon after it went away is not logged again, so an
SpO2 hovering at a threshold does not fill the recorded timeline.
"""

from __future__ import annotations

import math

from oxi_assist.guide.state import LogEntry, Prompt

#: A prompt that comes back within this many seconds of going away is not logged again, so an
#: SpO2 hovering at a threshold does not fill the recorded timeline [app-defined].
LOG_REPEAT_S = 30.0


class GuideLog:
    """The entries so far, and which prompts were on screen when."""

    def __init__(self) -> None:
        self.entries: list[LogEntry] = []
        self._prompt_ids: set[str] = set()
        self._prompt_seen: dict[str, float] = {}  # prompt id → last time it was active

    def add(self, t: float, kind: str, text: str, ref: str = "") -> None:
        self.entries.append(LogEntry(t, kind, text, ref))

    def append(self, entry: LogEntry) -> None:
        self.entries.append(entry)

    def prompts(self, t: float, warnings: list[Prompt], suggestions: list[Prompt]) -> None:
        """Logs each prompt that has just come on screen (timer alerts are logged when they
        come due)."""
        ids = {p.id for p in (*warnings, *suggestions)}
        for p in (*warnings, *suggestions):
            quiet = t - self._prompt_seen.get(p.id, -math.inf) <= LOG_REPEAT_S
            if p.id not in self._prompt_ids and ":" not in p.id and not quiet:
                self.add(t, "warning" if p.kind == "warning" else "prompt", p.text, p.id)
        for pid in self._prompt_ids | ids:
            self._prompt_seen[pid] = t
        self._prompt_ids = ids
