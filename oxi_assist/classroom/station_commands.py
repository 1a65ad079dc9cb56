"""The order in which a station applies the trainer's commands.

Commands come on two channels (all stations, this station), numbered per channel. Each is
applied once, in order: one that arrives early waits for the ones before it (at most
`MAX_PENDING` wait), a repeat is counted and dropped. The last applied numbers go out in every
status, so the trainer resends what a station misses.
"""

from __future__ import annotations

from collections.abc import Iterator

from oxi_assist.classroom.messages import Channel, Command, CommandName
from oxi_assist.classroom.station_outbox import StationCounters

MAX_PENDING = 256  # early commands held while one before them is missing


class CommandOrder:
    """Holds commands until their turn; `ready()` hands them over in order."""

    def __init__(self, counters: StationCounters) -> None:
        self.counters = counters
        #: the last number applied per channel (None: all-stations numbering not known yet)
        self.last: dict[Channel, int | None] = {Channel.ALL: None, Channel.OWN: 0}
        self._pending: dict[tuple[Channel, int], Command] = {}

    def offer(self, cmd: Command, *, own_topic: bool) -> None:
        """A command as it arrived (`own_topic`: on this station's own topic)."""
        if cmd.channel is Channel.OWN and not own_topic:
            self.counters.rejected.add("cmd/all", "a station's own command on the all topic")
            return
        last = self.last[cmd.channel]
        if last is not None and cmd.seq <= last:
            self.counters.commands_repeated += 1
            return
        if len(self._pending) < MAX_PENDING:
            self._pending[(cmd.channel, cmd.seq)] = cmd

    def ready(self, *, can_start: bool) -> Iterator[Command]:
        """The commands whose turn has come, in order per channel; a "start" waits while the
        station cannot start (`can_start`: the class state, with its scenario and seed, is
        known). Each one handed over counts as applied: the caller applies it at once."""
        progress = True
        while progress:
            progress = False
            for ch in Channel:
                last = self.last[ch]
                if last is None:
                    continue
                for key in [k for k in self._pending if k[0] is ch and k[1] <= last]:
                    del self._pending[key]
                    self.counters.commands_repeated += 1
                cmd = self._pending.get((ch, last + 1))
                if cmd is None:
                    continue
                if cmd.name is CommandName.START and not can_start:
                    continue
                del self._pending[(ch, last + 1)]
                self.last[ch] = cmd.seq
                yield cmd
                progress = True
