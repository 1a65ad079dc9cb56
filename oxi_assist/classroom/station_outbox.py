"""A station's numbered events, kept until the trainer acknowledges them.

Every event a station sends (an action, a step change, an alarm, an applied command) gets the
next number and stays here, resent every `RESEND_S`, until the trainer's ack covers it. So an
event survives a dropped message, a broker restart and (through the saved state, which carries
the newest unacknowledged ones) the station's own restart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from drivers.clock import Clock
from oxi_assist.classroom.link import Publisher
from oxi_assist.classroom.messages import EventKind, Rejections, StationEvent, encode

RESEND_S = 1.0
#: unacknowledged events kept for resending (a long broker outage); the saved state carries
#: the newest `MAX_OUTBOX`
OUTBOX_LIMIT = 5000


@dataclass
class StationCounters:
    commands_applied: int = 0
    commands_repeated: int = 0
    events_sent: int = 0  # distinct events created (not resends)
    resends: int = 0
    rejected: Rejections = field(default_factory=Rejections)


@dataclass
class _Out:
    event: StationEvent
    last_sent: float


class EventOutbox:
    """The events not yet acknowledged, by number, and the last number given and acked."""

    def __init__(self, topic: str, clock: Clock, publisher: Publisher,
                 counters: StationCounters) -> None:
        self.topic = topic  # the station's event topic
        self.clock = clock
        self.pub = publisher
        self.counters = counters
        self.seq = 0  # the last number given
        self.acked = 0  # every event up to this one is acknowledged
        self._out: dict[int, _Out] = {}

    def __len__(self) -> int:
        return len(self._out)

    def add(self, kind: EventKind, name: str, t: float, *, text: str = "",
            params: dict[str, Any] | None = None) -> StationEvent:
        """Numbers a new event, keeps it and sends it."""
        self.seq += 1
        ev = StationEvent(self.seq, round(t, 3), kind, name, text[:200], dict(params or {}),
                          self.clock.wall())
        self.counters.events_sent += 1
        if len(self._out) >= OUTBOX_LIMIT:  # never grows without bound: oldest goes first
            self._out.pop(min(self._out))
        self._out[ev.seq] = _Out(ev, self.clock.now())
        self.pub.publish(self.topic, encode(ev), qos=1)
        return ev

    def keep(self, events: Iterable[StationEvent]) -> None:
        """Takes back the unacknowledged events of a saved state (sent again at the next
        resend)."""
        for e in events:
            if e.seq > self.acked:
                self._out[e.seq] = _Out(e, -1e18)

    def on_ack(self, seq: int, *, rejoining: bool) -> None:
        """The trainer has every event up to `seq`. A station that rejoins (`rejoining`: not
        yet settled) numbers on after what the trainer has."""
        self.acked = max(self.acked, seq)
        for s in [s for s in self._out if s <= self.acked]:
            del self._out[s]
        if rejoining:
            self.seq = max(self.seq, seq)

    def resend(self, *, force: bool = False) -> None:
        """Sends again each event not acknowledged within `RESEND_S` (`force`: every one)."""
        now = self.clock.now()
        for seq in sorted(self._out):
            out = self._out[seq]
            if force or now - out.last_sent >= RESEND_S:
                out.last_sent = now
                self.counters.resends += 1
                self.pub.publish(self.topic, encode(out.event), qos=1)

    def pending(self) -> tuple[StationEvent, ...]:
        """The unacknowledged events, oldest first (what the saved state carries)."""
        return tuple(o.event for _, o in sorted(self._out.items()))
