"""The session's recorders: the tee gives the file and the in-memory copy the same records,
and a file that fails stops only itself."""

from __future__ import annotations

import numpy as np

from drivers.clock import VirtualClock
from drivers.formats import load
from drivers.formats.native import SessionWriter
from drivers.reading import LinkEvent, LinkState, Reading
from oxi_assist.session.recorder import FileRecorder, MemoryRecorder, Tee


def _feed(rec: Tee) -> None:
    """One of each record, at session times, as a session makes them."""
    rec.link(LinkEvent(0.0, LinkState.CONNECTED, device="Test Oximeter"))
    for i in range(8):
        rec.reading(Reading(t=1.0 + i, spo2=97 - i, pulse=70 + i))
    rec.alarm(6.5, "spo2_low", "medium", "raised", "SpO2 low", onset=4.0, technical=False)
    rec.event(7.0, "naloxone", by="responder", route="im", dose=1)
    rec.alarm(8.5, "spo2_low", "medium", "cleared", "SpO2 low")
    rec.link(LinkEvent(9.0, LinkState.LOST, reason="out of range"))
    rec.flush()


def test_the_tee_gives_the_file_and_the_memory_the_same_records(tmp_path):
    clock = VirtualClock()
    path = tmp_path / "s.oxi.jsonl"
    failures: list[str] = []
    memory = MemoryRecorder()
    tee = Tee(memory, FileRecorder(SessionWriter(path, source="sim:x", clock=clock),
                                   failures.append))
    _feed(tee)
    tee.close(t=10.0, reason="done")

    on_disk = load(path)
    kept = memory.recording("(not recorded)", source="sim:x", device="", start_wall=0.0,
                            interrupted=False)
    assert failures == []
    assert kept.alarms == on_disk.alarms and len(kept.alarms) == 2
    assert kept.events == on_disk.events and kept.events[0]["route"] == "im"
    assert kept.links == on_disk.links and len(kept.links) == 2
    disk, mem = on_disk.columns(), kept.columns()
    assert np.array_equal(disk.t, mem.t) and np.array_equal(disk.spo2, mem.spo2)
    assert np.array_equal(disk.pulse, mem.pulse)


def test_a_file_that_fails_stops_itself_not_the_memory(tmp_path):
    clock = VirtualClock()
    writer = SessionWriter(tmp_path / "s.oxi.jsonl", source="sim:x", clock=clock)
    calls = 0

    def full_disk(*a: object, **k: object) -> None:
        nonlocal calls
        calls += 1
        raise OSError(28, "No space left on device")

    writer.reading = full_disk  # type: ignore[method-assign]
    writer.event = full_disk  # type: ignore[method-assign]
    failures: list[str] = []
    memory = MemoryRecorder()
    _feed(Tee(memory, FileRecorder(writer, failures.append)))

    # said once, in the screen's words; nothing more is tried on the closed writer
    assert failures == ["recording stopped: write failed (no space left on the device)"]
    assert writer.closed and calls == 1
    kept = memory.recording("(not recorded)", source="sim:x", device="", start_wall=0.0,
                            interrupted=True)
    assert len(kept.columns().t) == 8
    assert [a["state"] for a in kept.alarms] == ["raised", "cleared"]
    assert [e["name"] for e in kept.events] == ["naloxone"]
    assert [ln.state for ln in kept.links] == [LinkState.CONNECTED, LinkState.LOST]


def test_a_record_that_cannot_be_encoded_stops_the_file_with_its_reason(tmp_path):
    writer = SessionWriter(tmp_path / "s.oxi.jsonl", source="sim:x", clock=VirtualClock())
    failures: list[str] = []
    memory = MemoryRecorder()
    tee = Tee(memory, FileRecorder(writer, failures.append))
    tee.event(1.0, "note", value=float("nan"))  # not JSON: the writer refuses it
    tee.event(2.0, "after")
    assert len(failures) == 1 and failures[0].startswith(
        "recording stopped: a record could not be written (")
    assert [e["name"] for e in memory.events] == ["note", "after"]


def test_the_summary_counts_what_the_memory_holds():
    memory = MemoryRecorder()
    memory.reading(Reading(t=-1.0, spo2=None, pulse=None, pleth=(1.0,), wave_only=True))
    memory.reading(Reading(t=2.0, spo2=88, pulse=60))
    memory.reading(Reading(t=3.0, spo2=93, pulse=62))
    memory.alarm(2.0, "spo2_low", "medium", "raised", "SpO2 low")
    memory.alarm(3.0, "spo2_low", "medium", "cleared", "SpO2 low")
    memory.event(2.5, "911", by="responder")
    memory.event(2.6, "guide", by="guide", kind="step", text="A: Airway")
    assert memory.summary(5.0) == {"duration": 6.0, "lowest_spo2": 88.0, "alarms": 1,
                                   "actions": 1}
