"""The class's MQTT topics: every name in one place, built and parsed here and nowhere else.

Layout under `oxi-assist/v1/class/{class_id}/` (docs/CLASSROOM.md has the table):

    class                       class state (trainer, retained, QoS 1)
    cmd/all                     commands to every station (trainer, QoS 1)
    cmd/{station}               commands to one station, and resends (trainer, QoS 1)
    ack/{station}               the trainer's receipt of a station's events (retained, QoS 1)
    station/{station}/event     actions, step changes, alarms, applied commands (QoS 1)
    station/{station}/status    a snapshot about once a second (QoS 0)
    station/{station}/presence  online / left; the last will says lost (retained)
    station/{station}/state     what a station needs to come back after a drop (retained)
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from oxi_assist.classroom.codes import valid_station_id

ROOT = "oxi-assist/v1/class"


class TopicKind(enum.Enum):
    CLASS = "class"
    COMMAND = "cmd"
    ACK = "ack"
    EVENT = "event"
    STATUS = "status"
    PRESENCE = "presence"
    STATE = "state"


#: The station's own topics (station/{id}/…), in the order they are documented.
STATION_KINDS = (TopicKind.EVENT, TopicKind.STATUS, TopicKind.PRESENCE, TopicKind.STATE)


@dataclass(frozen=True)
class TopicRef:
    """What a topic name means: its kind and the station it concerns (None: all stations or
    the class itself)."""

    kind: TopicKind
    station: str | None = None


@dataclass(frozen=True)
class Topics:
    class_id: str
    root: str = ROOT

    @property
    def base(self) -> str:
        return f"{self.root}/{self.class_id}"

    @property
    def class_state(self) -> str:
        return f"{self.base}/class"

    @property
    def cmd_all(self) -> str:
        return f"{self.base}/cmd/all"

    def cmd(self, station: str) -> str:
        return f"{self.base}/cmd/{station}"

    def ack(self, station: str) -> str:
        return f"{self.base}/ack/{station}"

    def station(self, station: str, kind: TopicKind) -> str:
        if kind not in STATION_KINDS:
            raise ValueError(f"{kind} is not a station topic")
        return f"{self.base}/station/{station}/{kind.value}"

    def every_station(self, kind: TopicKind) -> str:
        """The subscription filter for one kind of topic of all stations."""
        return f"{self.base}/station/+/{kind.value}"

    @property
    def everything(self) -> str:
        return f"{self.base}/#"

    def station_may_publish(self, station: str) -> tuple[str, ...]:
        """The only topics a station may publish to (the broker's ACL)."""
        return tuple(self.station(station, k) for k in STATION_KINDS)

    def station_may_read(self, station: str) -> tuple[str, ...]:
        """The only topics a station may subscribe to (the broker's ACL): the class state,
        commands to all and to itself, its acks, and its own saved state to come back."""
        return (self.class_state, self.cmd_all, self.cmd(station), self.ack(station),
                self.station(station, TopicKind.STATE))

    def parse(self, topic: str) -> TopicRef | None:
        """The meaning of a topic of this class, or None for anything else."""
        prefix = self.base + "/"
        if not topic.startswith(prefix):
            return None
        parts = topic[len(prefix):].split("/")
        if parts == ["class"]:
            return TopicRef(TopicKind.CLASS)
        if len(parts) == 2 and parts[0] in ("cmd", "ack"):
            who = parts[1]
            if parts[0] == "cmd" and who == "all":
                return TopicRef(TopicKind.COMMAND)
            if valid_station_id(who):
                return TopicRef(TopicKind(parts[0]), who)
            return None
        if len(parts) == 3 and parts[0] == "station" and valid_station_id(parts[1]):
            try:
                kind = TopicKind(parts[2])
            except ValueError:
                return None
            if kind in STATION_KINDS:
                return TopicRef(kind, parts[1])
        return None
