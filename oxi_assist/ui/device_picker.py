"""Choosing the Bluetooth oximeter when several are in range.

In a training room or a shared kit, `ble:auto` may see more than one oximeter; guessing would
put a stranger's numbers on this screen. The transport then stops with an error that carries
the candidates (`drivers.ble_transport.ChooseDevice`). `PickingSource` catches it where the
session reads the source, asks the screen (`DevicePicker`), remembers the answer on this machine
(`DeviceChoice`, so the next `ble:auto` connects to it on its own) and goes on reading from the
chosen device, all inside the same session: the guidance, its timers and the recording never
stop while the responder chooses.

The picker takes one key: the device's number (1–9; strongest signal first). Escape ends the
source as the responder's decision (link CLOSED: no technical alarm for it, as with no oximeter
at all); the guidance goes on without numbers. The responder keys that are not a device number
keep working on top of the picker, so "911 called" (9), naloxone, breaths and the alarm keys are
never blocked by it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from drivers.clock import Clock
from drivers.errors import SourceError
from drivers.reading import LinkEvent, LinkState
from oxi_assist.actions import KEYS, Action, KeyBinding, key_for
from oxi_assist.ui import theme
from oxi_assist.ui.screen_keys import SCREEN_KEYS

#: What the status bar names as the device after Escape.
NO_DEVICE = "no oximeter"
#: One key per device: 1–9.
MAX_SHOWN = 9
NAME_WIDTH = 16
KIND_WIDTH = 30

#: (lowest RSSI in dBm, bars, words): a rough reading of signal strength (ours, app-defined).
SIGNAL_STEPS: tuple[tuple[int, str, str], ...] = (
    (-60, "▮▮▮▮", "strong"),
    (-70, "▮▮▮▯", "good"),
    (-80, "▮▮▯▯", "fair"),
    (-90, "▮▯▯▯", "weak"),
)
_WEAKEST = ("▯▯▯▯", "very weak")

#: Responder keys that stay live over the picker: every key of the action table except 1–9,
#: which are device numbers first (9 is still 911 when there is no ninth device).
PASS_THROUGH: tuple[KeyBinding, ...] = tuple(
    kb for kb in KEYS if kb.keys not in {str(n) for n in range(1, MAX_SHOWN + 1)})


def signal(rssi: int) -> tuple[str, str]:
    """(bars, words) for an RSSI: never colour alone."""
    for floor, bars, words in SIGNAL_STEPS:
        if rssi >= floor:
            return bars, words
    return _WEAKEST


def ordered(candidates: Sequence[Any]) -> list[Any]:
    """Strongest signal first (the nearest device is most likely the one in hand); at most
    one per number key."""
    return sorted(candidates, key=lambda c: -int(c.rssi))[:MAX_SHOWN]


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def candidate_line(number: int, c: Any) -> Text:
    """` 1  PC-60FW 1234     11:11  ▮▮▮▯  -66 dBm  Viatom PC-60F` (72 columns at most): the
    bars say how strong the signal is without relying on their colour."""
    bars, words = signal(int(c.rssi))
    kind = c.profile.label if getattr(c, "profile", None) is not None else "unknown kind"
    t = Text(no_wrap=True, overflow="ellipsis")
    t.append(f" {number} ", style="bold reverse")
    t.append(f" {_fit(c.name or '?', NAME_WIDTH):<{NAME_WIDTH}} ", style="bold")
    t.append(f"{c.short:<5}  ")
    t.append(bars, style=theme.GREEN if words in ("strong", "good") else theme.YELLOW)
    t.append(f" {int(c.rssi):>4} dBm  ")
    t.append(_fit(kind, KIND_WIDTH), style="dim")
    return t


class DevicePicker(ModalScreen[Any]):
    """The list of oximeters in range; dismissed with the chosen candidate or None."""

    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(str(n), f"pick({n})", show=False) for n in range(1, MAX_SHOWN + 1)),
        Binding("escape", "cancel", "Not now"),
        *(Binding(kb.keys, f"app.press('{kb.id}')", show=False) for kb in PASS_THROUGH),
        *(Binding(k.keys, f"app.{k.action}", show=False) for k in SCREEN_KEYS
          if k.over_picker),
    ]

    def __init__(self, candidates: Sequence[Any]) -> None:
        super().__init__()
        self.candidates = ordered(candidates)
        self.more = max(0, len(candidates) - len(self.candidates))

    def compose(self) -> ComposeResult:
        n = len(self.candidates)
        with Vertical(id="device-picker"):
            yield Static(f"{n} oximeters in range: press the number of the one on this "
                         "person's finger", id="device-picker-title")
            yield Static(Text("\n").join(candidate_line(i, c)
                                          for i, c in enumerate(self.candidates, 1)),
                         id="device-picker-list")
            more = f" ({self.more} weaker not shown)" if self.more else ""
            yield Static(f"Strongest signal first{more}. Name and last address digits are "
                         "on the device's label or screen.", id="device-picker-note")
            first = f"1–{n}" if n > 1 else "1"
            yield Static(Text.assemble(
                (first, "bold"), " connect · ", ("Esc", "bold"), " not now (guidance goes on) · ",
                ("9 n b k p", "bold"), " still work"), id="device-picker-keys")

    async def action_pick(self, number: int) -> None:
        if 1 <= number <= len(self.candidates):
            self.dismiss(self.candidates[number - 1])
        elif number == 9:  # no ninth device: 9 keeps its everyday meaning
            kb = key_for(Action.CALLED_911)
            if kb is not None:
                await self.app.run_action(f"app.press('{kb.id}')")

    def action_cancel(self) -> None:
        self.dismiss(None)


#: Shows the candidates and returns the chosen one, or None.
Ask = Callable[[list[Any]], Awaitable[Any]]
#: Opens a source from a URI on a clock (`oxi_assist.uris.open_source`).
Opener = Callable[[str, Clock], Any]


def with_address(uri: str, address: str) -> str:
    """The URI with `address=` set: the transport connects to that device only, keeping any
    other option (scan time, profile) the responder gave."""
    base, _, query = uri.partition("?")
    kept = [p for p in query.split("&") if p and not p.startswith("address=")]
    return base + "?" + "&".join([*kept, f"address={address}"])


class PickingSource:
    """A source that, when its transport asks which device to use, asks the responder and
    continues from the chosen one. Everything else passes straight through."""

    def __init__(self, inner: Any, *, uri: str, clock: Clock, ask: Ask, reopen: Opener,
                 choice: Any) -> None:
        self.inner = inner
        self.uri = uri
        self.clock = clock
        self._ask = ask
        self._reopen = reopen
        self._choice = choice
        self.chosen: Any = None  # the candidate picked, once there is one
        self.remember_error = ""

    @property
    def name(self) -> str:
        return str(getattr(self.inner, "name", self.uri))

    @property
    def device(self) -> str:
        return str(getattr(self.inner, "device", ""))

    def __aiter__(self) -> AsyncIterator[Any]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Any]:
        while True:
            try:
                async for item in self.inner:
                    yield item
                    if isinstance(item, LinkEvent) and item.state is LinkState.CLOSED:
                        return
                return
            except SourceError as e:
                candidates = list(getattr(e, "candidates", None) or ())
                if not candidates:
                    raise
            yield LinkEvent(self.clock.now(), LinkState.CONNECTING,
                            f"{len(candidates)} oximeters in range: choose one")
            picked = await self._ask(ordered(candidates))
            await _close_quietly(self.inner)
            if picked is None:  # the responder's choice, not a fault: no alarm for it
                yield LinkEvent(self.clock.now(), LinkState.CLOSED,
                                "no oximeter chosen; guidance goes on without one",
                                NO_DEVICE)
                return
            self.chosen = picked
            try:
                self._choice.remember(picked.address, picked.name)
            except OSError as err:  # not remembered is a nuisance, never a reason to stop
                self.remember_error = f"could not remember the choice: {err}"
            self.inner = self._reopen(with_address(self.uri, picked.address), self.clock)

    async def close(self) -> None:
        await _close_quietly(self.inner)


async def _close_quietly(source: Any) -> None:
    close = getattr(source, "close", None)
    if close is not None:
        with contextlib.suppress(Exception):
            await close()
