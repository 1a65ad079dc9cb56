"""Screenshots of the trainer's console at 80×24 and 120×40: the lobby with the join code and
its QR code, and a class under way (a lost station, alarms, no reading shown as "--", times to
911 / breaths / naloxone). The real `TrainerCore`, fed the stations' own messages on a virtual
clock, so every run draws the same screen.

Update after checking by eye: `pytest tests/oxi_assist/classroom --snapshot-update`.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from drivers.clock import VirtualClock
from oxi_assist.classroom.codes import class_id
from oxi_assist.classroom.messages import (
    EventKind,
    Phase,
    Presence,
    PresenceState,
    StationEvent,
    StationStatus,
    encode,
)
from oxi_assist.classroom.topics import TopicKind, Topics
from oxi_assist.classroom.trainer import ClassSetup, TrainerCore
from oxi_assist.ui.class_console import ConsoleApp

CODE = "K7QX4M"
SIZES = [(80, 24), (120, 40)]


class Sink:
    def publish(self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False) -> bool:
        return True


def core(running: bool) -> TrainerCore:
    topics = Topics(class_id(CODE))
    c = TrainerCore(topics, ClassSetup("opioid-overdose"), VirtualClock(), Sink())
    names = ["Ann", "Bob", "Chen", "Dee"]
    for n in names:
        c.on_message(topics.station(n.lower(), TopicKind.PRESENCE),
                     encode(Presence(PresenceState.ONLINE, n)))
    if not running:
        return c
    c.start()
    statuses = [
        StationStatus("Ann", Phase.RUNNING, 95.0, "evaluate-support", "E: Evaluate and support",
                      93.0, "", "", 31.0, 40.0, 62.0, 1, 1.0),
        StationStatus("Bob", Phase.RUNNING, 95.0, "airway", "A: Airway", None, "finger_out",
                      "medium", 45.0, None, None, 0, 1.0),
        StationStatus("Chen", Phase.RUNNING, 95.0, "ventilate", "V: Ventilate", 78.0,
                      "spo2_low", "high", 20.0, 28.0, None, 0, 1.0),
        StationStatus("Dee", Phase.PAUSED, 60.0, "stimulate", "S: Stimulate", 96.0, "", "",
                      None, None, None, 0, 1.0),
    ]
    topics = c.topics
    for s in statuses:
        c.on_message(topics.station(s.name.lower(), TopicKind.STATUS), encode(s))
    c.on_message(topics.station("bob", TopicKind.PRESENCE),
                 encode(Presence(PresenceState.LOST, "Bob")))
    c.on_message(topics.station("ann", TopicKind.EVENT),
                 encode(StationEvent(1, 62.0, EventKind.ACTION, "naloxone", "Naloxone dose 1",
                                     {"dose": 1})))
    return c


def app(running: bool) -> ConsoleApp:
    node = SimpleNamespace(core=core(running), code=CODE)
    return ConsoleApp(node, broker="127.0.0.1:1883", web_url="http://127.0.0.1:8000/",
                      scenarios=["opioid-overdose"])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_console_lobby(snap_compare, size) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app(False), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_snapshot_console_running(snap_compare, size) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(app(True), terminal_size=size)
