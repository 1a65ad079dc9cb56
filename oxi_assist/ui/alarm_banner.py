"""The alarm banner: what is wrong, how urgent, and how to acknowledge or pause it.

IEC 60601-1-8 practice (DOMAIN.md §10.1): high priority flashes red at 1.4–2.8 Hz (here 2 Hz)
and rings the terminal bell; medium flashes yellow at 0.4–0.8 Hz (here 0.6 Hz); low is steady.
An acknowledged alarm stops flashing and stays lit. A pause shows its countdown (never more than
2 min). Priority is also written as `***`/`**`/`*` and in words, not colour alone.

The flash phase is a function of the injected clock's time (`ScreenModel.flash_t`), not of
redraws or of session time: a 10× training run flashes at the same rate as a live one, and a
test on a `VirtualClock` sees the same phase every run. The App repaints the banner often enough
between session changes (`FLASH_CHECK_HZ`) for the rate to hold whatever the source's pace.
"""

from __future__ import annotations

from rich.text import Text

from oxi_assist.monitor.priority import Priority
from oxi_assist.monitor.vitals import BANDS
from oxi_assist.ui import theme
from oxi_assist.ui.model import ScreenModel
from oxi_assist.ui.panel import Painted, Panel
from oxi_assist.ui.vitals_panel import no_value_state

FLASH_HZ = 2.0  # high priority (IEC 60601-1-8: 1.4–2.8 Hz)
MEDIUM_FLASH_HZ = 0.6  # medium priority (0.4–0.8 Hz)
#: How often the App checks the phase between redraws: 8 checks per high-priority cycle keeps
#: each on/off edge within 1/16 s of where the clock puts it.
FLASH_CHECK_HZ = 8 * FLASH_HZ

_FLASH_HZ = {Priority.HIGH: FLASH_HZ, Priority.MEDIUM: MEDIUM_FLASH_HZ}


def flash_on(t: float, hz: float = FLASH_HZ) -> bool:
    """On for the first half of each cycle of `hz`, from t = 0 (a 50 % duty cycle)."""
    return int(t * hz * 2) % 2 == 0


def flashes(model: ScreenModel) -> bool:
    """Whether the banner is flashing now (a high or medium alarm, not acknowledged or paused)."""
    a = model.alarm
    if a is None or a.acknowledged or a.priority not in _FLASH_HZ:
        return False
    return not (model.alarm_paused_for is not None and model.alarm_paused_for > 0)


#: The keys that answer an alarm, written after it when the line has room (the footer lists
#: them too, so a narrow screen keeps the alarm's own words whole instead).
ANSWER_KEYS = "   [k] ack  [p] pause 2 min"


def banner_text(model: ScreenModel, width: int = 200, *,
                with_vitals: bool = False) -> tuple[Text, str]:
    """The banner line and its CSS class (alarm-high / alarm-medium / alarm-low / alarm-none).

    `with_vitals`: the narrow layout, where the figures sit below the guidance and the keys,
    out of sight on a small screen: the quiet banner carries SpO2 and pulse in a few words
    (never a number that is not a reading)."""
    a = model.alarm
    if a is None:
        if model.link is None:
            return Text("No oximeter: guidance and timers only. Trust what you see and hear."), \
                "alarm-none"
        if not with_vitals:
            return Text("✓ No active alarm"), "alarm-none"
        return Text("✓ No alarm · ").append_text(vitals_words(model)), "alarm-none"
    kind = "TECHNICAL" if a.technical else "PATIENT"
    mark = theme.PRIORITY_MARK[a.priority]
    t = Text()  # wraps on a narrow screen: the alarm's words are never cut
    if model.alarm_paused_for is not None and model.alarm_paused_for > 0:
        t.append(f"‖ ALARM PAUSED {theme.fmt_clock(model.alarm_paused_for)}  ", style="bold")
        t.append(f"{mark} {a.message}")
        return t, "alarm-paused"
    t.append(f"{mark} {a.priority.label.upper()} {kind}: {a.message}", style="bold")
    if a.acknowledged:
        t.append("  (acknowledged)")
    elif a.latched:
        t.append("  (cleared — press k)")
    if len(t) + len(ANSWER_KEYS) <= width:
        t.append(ANSWER_KEYS)
    if a.priority in _FLASH_HZ:
        cls = "alarm-high" if a.priority is Priority.HIGH else "alarm-medium"
        t_flash = model.elapsed if model.flash_t is None else model.flash_t
        if flashes(model) and not flash_on(t_flash, _FLASH_HZ[a.priority]):
            cls += "-off"
    else:
        cls = "alarm-low"
    return t, cls


def vitals_words(model: ScreenModel) -> Text:
    """SpO2 with its band's symbol and colour, and pulse, in one short line (the band in words
    is in the vitals below); a state word when there is no value."""
    state = no_value_state(model)
    v = model.vitals
    if state is not None or v is None or v.spo2 is None:
        word = state[0] if state is not None else "NO READING"
        return Text(f"SpO₂ -- {word}", style=f"bold {theme.GREY}")
    t = Text("SpO₂ ")
    t.append(f"{v.spo2:.0f}% {BANDS[v.band].symbol}", style=theme.BAND_STYLE[v.band])
    t.append(f" · pulse {v.pulse:.0f}" if v.pulse is not None else " · pulse --")
    return t


class AlarmBanner(Panel, Painted):
    URGENT = True
    WRAP = True

    _CLASSES = ("alarm-none", "alarm-high", "alarm-high-off", "alarm-medium",
                "alarm-medium-off", "alarm-low", "alarm-paused")

    def paint(self, model: ScreenModel) -> None:
        text, cls = banner_text(model, self.content_size.width or self.app.size.width - 2,
                                with_vitals=self.screen.has_class("-narrow"))
        self.set_text(text)
        for c in self._CLASSES:
            self.set_class(c == cls, c)
