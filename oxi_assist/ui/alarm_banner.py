"""The alarm banner: what is wrong, how urgent, and how to acknowledge or pause it.

High priority flashes red (about 2 Hz, from the session clock so a test sees a fixed phase) and
rings the terminal bell; medium is yellow; a pause shows its countdown (never more than 2 min,
DOMAIN.md §10.1). Priority is also written as `***`/`**`/`*` and in words, not colour alone.
"""

from __future__ import annotations

from rich.text import Text

from oxi_assist.ui import theme
from oxi_assist.ui.model import ScreenModel
from oxi_assist.ui.panel import Panel
from oxi_assist.vitals import Priority

FLASH_HZ = 2.0


def flash_on(elapsed: float) -> bool:
    return int(elapsed * FLASH_HZ * 2) % 2 == 0


def banner_text(model: ScreenModel) -> tuple[Text, str]:
    """The banner line and its CSS class (alarm-high / alarm-medium / alarm-low / alarm-none)."""
    a = model.alarm
    if a is None:
        if model.link is None:
            return Text("No oximeter: guidance and timers only. Trust what you see and hear."), \
                "alarm-none"
        return Text("✓ No active alarm"), "alarm-none"
    kind = "TECHNICAL" if a.technical else "PATIENT"
    mark = theme.PRIORITY_MARK[a.priority]
    t = Text(no_wrap=True, overflow="ellipsis")
    if model.alarm_paused_for is not None and model.alarm_paused_for > 0:
        t.append(f"‖ ALARM PAUSED {theme.fmt_clock(model.alarm_paused_for)}  ", style="bold")
        t.append(f"{mark} {a.message}")
        return t, "alarm-paused"
    t.append(f"{mark} {a.priority.label.upper()} {kind}: {a.message}", style="bold")
    if a.acknowledged:
        t.append("  (acknowledged)")
    elif a.latched:
        t.append("  (cleared — press k)")
    t.append("   [k] ack  [p] pause 2 min")
    if a.priority is Priority.HIGH:
        cls = "alarm-high" if flash_on(model.elapsed) or a.acknowledged else "alarm-high-off"
    elif a.priority is Priority.MEDIUM:
        cls = "alarm-medium"
    else:
        cls = "alarm-low"
    return t, cls


class AlarmBanner(Panel):
    _CLASSES = ("alarm-none", "alarm-high", "alarm-high-off", "alarm-medium", "alarm-low",
                "alarm-paused")

    def show(self, model: ScreenModel) -> None:
        text, cls = banner_text(model)
        self.set_text(text)
        for c in self._CLASSES:
            self.set_class(c == cls, c)
