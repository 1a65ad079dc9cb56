"""Session time: one timeline for items stamped on each source's own clock.

Each source stamps items on its own timeline (a device on the clock, the simulator in scenario
seconds, a replay in the recording's seconds). The session maps them onto one timeline of
seconds since the start: the first item fixes the offset, each item then sets the time, and
between items time runs as fast as the source's stamps have been running (10× for a simulation
or a replay at 10× speed, the clock's pace for a device), stops while a simulation is paused,
and follows the clock with no source and once the source has gone. So a 10× training run or
replay is recorded in scenario or recording time, and the guide's timers and the Monitor's
alarm delays run in that same time.

The Monitor and the Guide are given session time on the clock's scale (`t0` + session
seconds): the Guide is made by the caller on the clock before the session starts, so its own
start time is on that scale.
"""

from __future__ import annotations

from drivers.clock import Clock
from drivers.reading import Reading, Trainable

#: The fastest a source's timeline is believed to run against the clock (the simulator's top
#: speed is 20×); an unpaced replay is faster, but then its items alone move session time.
MAX_PACE = 50.0


class Timeline:
    """Session seconds from the clock and from the stamps of the source being followed."""

    def __init__(self, clock: Clock, source: object | None = None) -> None:
        self.clock = clock
        self.t0 = clock.now()
        self._following = source is not None  # no source: session time is the clock's
        # a simulation the trainer can pause: session time stops with it
        self._trainable = source if isinstance(source, Trainable) else None
        self._s_anchor = 0.0
        self._c_anchor = self.t0
        self.offset: float | None = None  # session seconds = source time + offset
        self._pace_est = 1.0
        self._pace_ref: tuple[float, float] | None = None  # (clock, S) of an earlier item

    def follow(self, source: object | None) -> None:
        """From now on session time runs at the pace of `source` (None: the clock's)."""
        self.reanchor()
        self._following = source is not None
        self._trainable = source if isinstance(source, Trainable) else None
        if source is not None:
            self._pace_est, self._pace_ref = 1.0, None

    def pace(self) -> float:
        """How fast session time runs against the clock between items: as fast as the
        source's own stamps ran over the last second or so (10 for a simulation at 10×
        speed or a replay at 10×, 1 for a device), 0 while a simulation is paused, 1 with no
        source and once the source has gone. Measured, not taken from a `speed` setting,
        because sources differ in what they stamp."""
        if not self._following:
            return 1.0
        if self._trainable is not None and self._trainable.paused is True:
            self._pace_ref = None
            return 0.0
        return self._pace_est

    def _measure_pace(self, s: float) -> None:
        c = self.clock.now()
        ref = self._pace_ref
        if ref is None or s < ref[1]:
            self._pace_ref = (c, s)
        elif c - ref[0] >= 1.0:
            self._pace_est = min(max((s - ref[1]) / (c - ref[0]), 0.0), MAX_PACE)
            self._pace_ref = (c, s)

    def now(self) -> float:
        """Session seconds now."""
        c = self.clock.now()
        return self._s_anchor + max(0.0, c - self._c_anchor) * self.pace()

    def reanchor(self) -> float:
        """Fixes session time at this instant of the clock (before the pace changes);
        returns it."""
        s_now = self.now()
        self._s_anchor, self._c_anchor = s_now, self.clock.now()
        return s_now

    def map(self, t_source: float) -> float:
        """Session time of an item stamped `t_source` on its source's timeline.

        The first item fixes the offset and session time then follows the source's own
        stamps (between items it runs on at the source's pace), so the Monitor's data-age
        rules see the source's real spacing. A source that stalled (items more than two of
        its seconds behind) is slid forward instead, so session time never runs back by more
        than a moment; the Monitor and the guide ignore such a moment (their time only moves
        forward)."""
        s_now = self.now()
        if self.offset is None:
            self.offset = s_now - t_source
        s = t_source + self.offset
        if s < s_now - 2.0 * max(1.0, self.pace()):
            self.offset += s_now - s
            s = s_now
        self._s_anchor, self._c_anchor = s, self.clock.now()
        self._measure_pace(s)
        return s

    def to_clock(self, s: float) -> float:
        """Session seconds on the clock's scale: the time the Monitor and the Guide take."""
        return self.t0 + s

    def to_session(self, t: float) -> float:
        """The inverse of `to_clock`: what the Monitor or the Guide stamped, in session
        seconds."""
        return t - self.t0


def shifted(r: Reading, dt: float) -> Reading:
    """`r` moved `dt` seconds along (the same object when `dt` is 0)."""
    if dt == 0:
        return r
    return Reading(t=r.t + dt, spo2=r.spo2, pulse=r.pulse, pi=r.pi, pleth=r.pleth,
                   pleth_rate=r.pleth_rate, status=r.status, wave_only=r.wave_only)
