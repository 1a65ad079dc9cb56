"""What the trainer has taken of one station's events, and what it owes that station.

A station's events are taken once each, in sequence order: an early one waits for the one
before it (at most `MAX_EARLY` wait), a repeat is counted and dropped. The log also keeps what
the trainer needs to answer the station: when it last acknowledged and resent, and the last
saved state seen (republished after a broker restart).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from oxi_assist.classroom.messages import StationEvent

MAX_EARLY = 256  # events held per station while one before them is missing


@dataclass
class StationLog:
    name: str
    contiguous: int = 0  # every event up to this one is taken
    early: dict[int, StationEvent] = field(default_factory=dict)
    events: list[StationEvent] = field(default_factory=list)
    duplicates: int = 0
    saved: bytes | None = None  # the last saved state seen, to republish after a restart
    resent_at: float = -1e18
    acked_at: float = -1e18  # when the last ack went out
    ack_due: bool = False  # events taken since

    def receive(self, ev: StationEvent) -> list[StationEvent]:
        """The events this one lets the trainer take now, in order (none for a repeat or
        an early one), each added to `events`."""
        taken: list[StationEvent] = []
        if ev.seq <= self.contiguous or ev.seq in self.early:
            self.duplicates += 1
        elif ev.seq == self.contiguous + 1:
            taken.append(ev)
            self.contiguous = ev.seq
            while self.contiguous + 1 in self.early:
                nxt = self.early.pop(self.contiguous + 1)
                taken.append(nxt)
                self.contiguous = nxt.seq
        elif len(self.early) < MAX_EARLY:
            self.early[ev.seq] = ev
        self.events.extend(taken)
        return taken
