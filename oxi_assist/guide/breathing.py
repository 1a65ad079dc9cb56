"""The breathing-rate counter: the responder taps a key at each breath the person takes.

An oximeter measures oxygen, not breathing (DOMAIN §1 rule 3, §7), so the app asks about
breathing separately and helps answer it. BC calls one breath every 5 s (about 12 a minute),
with no gurgling or snoring, normal (§2.1); in the prolonged-sedation branch more naloxone is
only for fewer than 10 breaths a minute (§4). So a count of 12 or more reads "normal", 10–11
"borderline" (slower than BC's normal: treated as not normal) and under 10 "not normal".

A rate is only given for a real count: taps spanning at least `min_span` seconds. Until then
the counter says "counting". When no tap has come for twice the usual interval (or
`stale_after` seconds) it says "no breath tapped for N s": the responder may have stopped
tapping, or the person stopped breathing — either way no rate is shown as current, and no
judgement about the rate is made from taps that stopped. The window, spans and limits are
app-defined.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass

from oxi_assist.guide.conditions import BREATHS_NORMAL_PER_MIN

#: BC prolonged-sedation guidance: more naloxone only if fewer than 10 breaths a minute
#: (Interior Health / Northern Health alerts, DOMAIN §4).
NOT_NORMAL_BELOW = 10.0
#: BC: a breath every 5 s is normal (about 12 a minute).
NORMAL_PER_MIN = BREATHS_NORMAL_PER_MIN


class CountState(enum.Enum):
    IDLE = "idle"  # no taps yet
    COUNTING = "counting"  # taps, but not yet over a real counting span
    READY = "ready"  # a current rate
    STALE = "stale"  # no tap for longer than the person's breaths would take


@dataclass(frozen=True)
class BreathCount:
    """The counter as the screen shows it. `per_min` is None unless `state` is READY."""

    state: CountState = CountState.IDLE
    per_min: float | None = None
    taps: int = 0  # taps inside the window
    since_last: float | None = None  # seconds since the last tap

    @property
    def judgement(self) -> str | None:
        """"normal" (≥ 12 a minute), "borderline" (10–11), "not_normal" (< 10), or None
        when there is no current rate."""
        if self.state is not CountState.READY or self.per_min is None:
            return None
        if self.per_min >= NORMAL_PER_MIN:
            return "normal"
        return "borderline" if self.per_min >= NOT_NORMAL_BELOW else "not_normal"

    @property
    def normal(self) -> bool | None:
        """True at ≥ 12 a minute, False below, None when there is no current rate."""
        j = self.judgement
        return None if j is None else j == "normal"

    @property
    def text(self) -> str:
        """About the person's breathing, in the words the screen uses."""
        if self.state is CountState.READY and self.per_min is not None:
            return f"{self.per_min:.0f} a minute"
        if self.state is CountState.COUNTING:
            return f"counting… ({self.taps} tap{'' if self.taps == 1 else 's'} so far)"
        if self.state is CountState.STALE and self.since_last is not None:
            return f"no breath tapped for {self.since_last:.0f} s"
        return "not counted"


class BreathCounter:
    """Breaths per minute from tap times over a sliding window."""

    def __init__(self, window: float = 60.0, min_taps: int = 3, min_span: float = 15.0,
                 stale_after: float = 20.0, debounce: float = 0.5) -> None:
        if window <= 0 or min_taps < 2 or min_span <= 0 or stale_after <= 0:
            raise ValueError("counter window, taps, span and stale limit must be positive")
        self.window = window
        self.min_taps = min_taps
        self.min_span = min_span
        self.stale_after = stale_after
        self.debounce = debounce
        self._taps: deque[float] = deque()
        self._last_t: float | None = None

    def tap(self, t: float) -> None:
        """One breath at time `t`. A tap earlier than the last one counts at the last time; a
        tap within `debounce` s of the last is a double press (nobody breathes 120 times a
        minute) and is ignored, which also keeps the rate finite."""
        if self._last_t is not None and t < self._last_t + self.debounce:
            return
        self._taps.append(t)
        self._last_t = t
        self._trim(t)

    def reset(self) -> None:
        self._taps.clear()
        self._last_t = None

    def _trim(self, now: float) -> None:
        while self._taps and self._taps[0] < now - self.window:
            self._taps.popleft()

    def count(self, now: float) -> BreathCount:
        if self._last_t is None:
            return BreathCount()
        now = max(now, self._last_t)
        self._trim(now)
        since_last = now - self._last_t
        n = len(self._taps)
        span = self._taps[-1] - self._taps[0] if n else 0.0
        mean = span / (n - 1) if n >= 2 else None
        # taps stopped: longer than the limit, or than two of the person's own breaths
        if since_last > self.stale_after or (mean is not None and since_last > 2 * mean
                                            and span >= self.min_span):
            return BreathCount(CountState.STALE, None, n, since_last)
        if n < self.min_taps or span < self.min_span or mean is None:
            return BreathCount(CountState.COUNTING, None, n, since_last)
        return BreathCount(CountState.READY, 60.0 / mean, n, since_last)
