"""The breathing-rate counter: the responder taps a key at each breath the person takes.

An oximeter measures oxygen, not breathing (DOMAIN §1 rule 3, §7), so the app asks about
breathing separately and helps answer it: BC calls one breath every 5 s (about 12/min) normal,
and in the prolonged-sedation branch more naloxone is only for fewer than 10 breaths/min (§4).

The rate is taken over the taps of a sliding window. Until there are enough taps it says
"counting"; when no tap has come for a while it says "stale" (the responder stopped counting,
or the person stopped breathing: either way the old number is no longer shown as current).
The window, the tap counts and the stale limit are app-defined.
"""

from __future__ import annotations

import enum
from collections import deque
from dataclasses import dataclass

#: BC: more naloxone only if fewer than 10 breaths/min (Interior Health / Northern Health alerts).
NOT_NORMAL_BELOW = 10.0
#: BC: a breath every 5 s is normal (about 12/min).
NORMAL_PER_MIN = 12.0


class CountState(enum.Enum):
    IDLE = "idle"  # no taps yet
    COUNTING = "counting"  # some taps, not enough for a rate
    READY = "ready"  # a rate over the window
    STALE = "stale"  # no tap for longer than the stale limit


@dataclass(frozen=True)
class BreathCount:
    """The counter as the screen shows it. `per_min` is None unless `state` is READY."""

    state: CountState = CountState.IDLE
    per_min: float | None = None
    taps: int = 0  # taps inside the window
    since_last: float | None = None  # seconds since the last tap

    @property
    def normal(self) -> bool | None:
        """True at ≥ 10/min, False below, None when there is no current rate."""
        if self.state is not CountState.READY or self.per_min is None:
            return None
        return self.per_min >= NOT_NORMAL_BELOW

    @property
    def text(self) -> str:
        if self.state is CountState.READY and self.per_min is not None:
            return f"{self.per_min:.0f} breaths/min"
        if self.state is CountState.COUNTING:
            return f"counting… ({self.taps} taps)"
        if self.state is CountState.STALE:
            return "no breath tapped recently"
        return "not counted"


class BreathCounter:
    """Breaths per minute from tap times over a sliding window.

    Ready after `min_taps` taps, or after two taps spanning `min_span` seconds (so a very slow
    rate is reported instead of "counting" forever). The rate also falls when the taps stop:
    the gap since the last tap counts as at least one interval, so a person who stops breathing
    never keeps showing the rate they had before.
    """

    def __init__(self, window: float = 60.0, min_taps: int = 4, min_span: float = 20.0,
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
        if since_last > self.stale_after:
            return BreathCount(CountState.STALE, None, len(self._taps), since_last)
        n = len(self._taps)
        if n < 2:
            return BreathCount(CountState.COUNTING, None, n, since_last)
        first, last = self._taps[0], self._taps[-1]
        span = last - first
        if n < self.min_taps and now - first < self.min_span:
            return BreathCount(CountState.COUNTING, None, n, since_last)
        if span <= 0:
            return BreathCount(CountState.COUNTING, None, n, since_last)
        intervals = n - 1
        # the open gap since the last tap is an interval in progress: once it is longer than
        # the mean interval, it stretches the time the counted breaths took, so a person who
        # stops breathing pulls the rate down straight away
        if since_last > span / intervals:
            span += since_last
        rate = 60.0 * intervals / span
        return BreathCount(CountState.READY, rate, n, since_last)
