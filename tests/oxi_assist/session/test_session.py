"""Session wiring on a virtual clock: every item recorded, actions routed, a failing source,
history buffers, file modes, the no-source mode. (Monitor/guide integration:
test_session_wiring.py.)"""

from __future__ import annotations

import asyncio
import json
import os
import stat
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.clock import VirtualClock
from drivers.formats import load
from drivers.reading import LinkEvent, LinkState, Reading, Status
from oxi_assist.actions import Action
from oxi_assist.debrief import summarize
from oxi_assist.monitor.monitor import Monitor
from oxi_assist.recordings import open_writer, scan
from oxi_assist.session import PlethHistory, Session, TrendHistory


class ScriptedSource:
    """A source that yields a fixed script on the session clock, then optionally raises."""

    name = "scripted"

    def __init__(self, clock: VirtualClock, items, *, fail_with: Exception | None = None,
                 every: float = 1.0) -> None:
        self.clock, self.items, self.fail_with, self.every = clock, items, fail_with, every
        self.closed = False

    def __aiter__(self):
        return self._gen()

    async def _gen(self):
        for it in self.items:
            await self.clock.sleep(self.every)
            yield it
        if self.fail_with is not None:
            await self.clock.sleep(self.every)
            raise self.fail_with

    async def close(self) -> None:
        self.closed = True


class Injected:
    """Stands in for the simulator's `inject` only (the Controllable protocol)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict]] = []

    def inject(self, action: str, **params: object) -> None:
        self.calls.append((action, params))


def _lines(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_every_reading_and_link_is_recorded_with_session_times(tmp_path):
    clock = VirtualClock(start=100.0)
    w = open_writer("sim:x", clock, base=tmp_path)
    s = Session(clock=clock, writer=w, source_label="sim:x")
    s.on_item(LinkEvent(100.0, LinkState.CONNECTED, device="Sim AA:BB"))
    for i in range(30):
        clock.advance(1.0)
        s.on_item(Reading(t=clock.now(), spo2=97 - i * 0.5, pulse=80,
                          pleth=(10.0, 50.0, 90.0), pleth_rate=3.0))
    s.on_item(Reading(t=clock.now(), status=Status.FINGER_OUT))
    s.close()
    recs = _lines(w.path)
    assert recs[0]["format"] == "oxi-assist-session"
    rs = [r for r in recs if r.get("k") == "r"]
    assert len(rs) == 31 == s.readings
    assert rs[0]["t"] == 1.0 and rs[29]["t"] == 30.0 and rs[-1]["st"] == ["finger_out"]
    assert recs[-1]["k"] == "end"
    rec = load(w.path)
    assert not rec.interrupted and rec.links[0].device == "Sim AA:BB"
    assert s.device == "Sim AA:BB"


def test_actions_go_to_recorder_and_simulator(tmp_path):
    clock = VirtualClock()
    w = open_writer("sim:x", clock, base=tmp_path)
    sim = Injected()
    s = Session(clock=clock, writer=w, source_label="sim:x", controllable=sim)
    clock.advance(10)
    s.on_action(Action.CALLED_911)
    clock.advance(5)
    s.on_action(Action.BREATHS_START)
    clock.advance(20)
    s.on_action(Action.NALOXONE, route="im")
    s.on_action(Action.BREATHS_STOP)
    s.on_action(Action.OXYGEN)
    s.on_action(Action.RECOVERY_POSITION)
    clock.advance(300)
    s.on_action("naloxone", route="nasal")
    s.on_action("finger_out")
    s.on_action("motion")
    s.close()
    assert sim.calls == [
        ("breaths_on", {}), ("naloxone", {"route": "im"}), ("breaths_off", {}),
        ("oxygen", {}), ("recovery", {}), ("naloxone", {"route": "nasal"}),
        ("finger_out", {}), ("motion", {}),
    ]
    assert s.doses == 2
    summ = summarize(load(w.path))
    assert (summ.t_911, summ.t_breaths, summ.t_naloxone) == (10, 15, 35)
    assert summ.naloxone_times == [35, 335]
    trainer = [e for e in load(w.path).events if e.get("by") == "trainer"]
    assert [e["name"] for e in trainer] == ["finger_out", "motion"]
    assert [ln.kind for ln in s.log][-2:] == ["trainer", "trainer"]


def test_unknown_action_name_is_an_error_not_a_crash():
    from drivers.errors import OxiError

    s = Session(clock=VirtualClock())
    with pytest.raises(OxiError):
        s.on_action("dance")


def test_simulator_failure_on_inject_is_recorded_not_raised(tmp_path):
    class Broken:
        def inject(self, action, **p):
            raise RuntimeError("model not running")

    clock = VirtualClock()
    w = open_writer("sim:x", clock, base=tmp_path)
    s = Session(clock=clock, writer=w, controllable=Broken())
    s.on_action(Action.NALOXONE)
    s.close()
    names = [e["name"] for e in load(w.path).events]
    assert "naloxone" in names and "inject_failed" in names


def test_version_counts_every_change():
    clock = VirtualClock()
    s = Session(clock=clock)
    seen: list[int] = []
    s.on_change = lambda: seen.append(s.version)
    v0 = s.version
    s.on_item(Reading(t=0.0, spo2=95, pulse=70))
    s.on_action(Action.CALLED_911)
    s.tick()
    assert s.version == v0 + 3 and seen == [v0 + 1, v0 + 2, v0 + 3]


def test_tick_flushes_a_quiet_session_within_a_second(tmp_path):
    clock = VirtualClock()
    w = open_writer("sim:x", clock, base=tmp_path)
    s = Session(clock=clock, writer=w)
    clock.advance(0.2)
    s.on_action(Action.CALLED_911)  # written to the buffer, not yet to disk
    assert '"911"' not in w.path.read_text()
    clock.advance(1.0)
    s.tick()  # no data arrives, yet the file catches up
    assert '"911"' in w.path.read_text()
    assert scan(w.path).interrupted  # a kill now leaves it readable, marked interrupted
    s.close()
    assert not scan(w.path).interrupted


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes")
def test_recording_file_and_folder_are_private(tmp_path, monkeypatch):
    monkeypatch.setenv("OXI_ASSIST_DATA_DIR", str(tmp_path / "d"))
    clock = VirtualClock()
    s = Session(clock=clock, writer=open_writer("ble:auto", clock), source_label="ble:auto")
    s.close()
    assert stat.S_IMODE(os.stat(s.recording_path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(s.recording_path.parent).st_mode) == 0o700


def test_no_record_session_has_no_file_but_a_recording():
    clock = VirtualClock()
    s = Session(clock=clock, source_label="sim:x")
    for i in range(20):
        clock.advance(1)
        s.on_item(Reading(t=clock.now(), spo2=95 - i, pulse=70))
    s.on_action(Action.NALOXONE)
    assert s.recording_path is None
    rec = s.recording()
    summ = summarize(rec)
    assert summ.lowest_spo2 == 76 and summ.doses == 1 and summ.t_naloxone == 20
    assert rec.interrupted
    s.close()
    assert not s.recording().interrupted


def test_in_memory_copy_is_thinned_for_fast_sources():
    clock = VirtualClock()
    s = Session(clock=clock)
    for _i in range(600):  # 60 frames a second for 10 s, same value
        clock.advance(1 / 60)
        s.on_item(Reading(t=clock.now(), spo2=96, pulse=70))
    n = len(s.recording().readings)
    assert 35 <= n <= 45
    clock.advance(1.0)
    s.on_item(Reading(t=clock.now(), spo2=96, pulse=70))  # starts a bin
    clock.advance(1 / 60)
    s.on_item(Reading(t=clock.now(), spo2=71, pulse=70))  # one frame's dip inside it
    clock.advance(1 / 60)
    s.on_item(Reading(t=clock.now(), spo2=96, pulse=70))
    rec = s.recording()
    assert len(rec.readings) == n + 1
    assert summarize(rec).lowest_spo2 == 71


def test_trend_bins_a_fast_source_and_keeps_its_gaps():
    h = TrendHistory(seconds=60, max_rate=4)
    for i in range(60 * 60):  # one minute at 60 vitals a second
        t = i / 60
        gap = 1000 <= i < 1003  # a 50 ms moment without a reading
        h.append(t, None if gap else 95.0, 70.0, None if gap else 95.0)
    t, spo2, _p, _r = h.arrays()
    assert t[0] < 1.0 and t[-1] == pytest.approx(3599 / 60)  # the whole minute is there
    assert len(t) <= 4 * 60 + 1
    assert np.isnan(spo2).sum() == 1  # the moment is still drawn as a gap


def test_trend_ring_keeps_the_window_in_order():
    h = TrendHistory(seconds=10, max_rate=2)
    assert h.capacity == 20
    for i in range(50):
        h.append(float(i), 90.0 + (i % 3), None if i % 7 == 0 else 70.0, 90.0)
    t, _spo2, pulse, _raw = h.arrays()
    assert list(t) == [float(i) for i in range(40, 50)]
    assert np.isnan(pulse[list(t).index(42.0)])
    t5, *_ = h.arrays(seconds=5)
    assert list(t5) == [45.0, 46.0, 47.0, 48.0, 49.0]
    assert len(h) == 20 and h.last_t() == 49.0


def test_pleth_ring_times_and_gap():
    p = PlethHistory(seconds=1.0, max_rate=100)
    p.extend(1.0, tuple(float(i) for i in range(50)), 50.0)
    t, v = p.arrays()
    assert len(t) == 50 and t[-1] == 1.0 and t[0] == pytest.approx(0.02)
    p.mark_gap()
    p.mark_gap()  # one break is enough
    p.extend(2.0, tuple(range(50)), None)
    t, v = p.arrays(seconds=1.5)
    assert t[-1] == 2.0 and np.all(np.diff(t) >= 0)
    assert np.isfinite(v).sum() == 50  # only the last second: the window is 1 s
    p2 = PlethHistory(seconds=5.0)
    p2.extend(1.0, (1.0, 2.0), 50.0)
    p2.mark_gap()
    p2.extend(1.5, (3.0, 4.0), 50.0)
    t, v = p2.arrays()
    assert np.isnan(v[2]) and list(v[[0, 1, 3, 4]]) == [1.0, 2.0, 3.0, 4.0]


async def test_run_survives_a_failing_source_and_keeps_ticking(tmp_path):
    clock = VirtualClock()
    w = open_writer("serial:x", clock, base=tmp_path)
    s = Session(clock=clock, writer=w, source_label="serial:x")
    items = [Reading(t=float(i + 1), spo2=96, pulse=70) for i in range(5)]
    src = ScriptedSource(clock, items, fail_with=OSError(5, "Input/output error"))
    ticks = 0
    orig = s.tick

    def counting_tick():
        nonlocal ticks
        ticks += 1
        orig()

    s.tick = counting_tick  # type: ignore[method-assign]
    task = asyncio.create_task(s.run(src, tick_every=0.5, stay=True))
    await clock.run_for(10.0)
    assert s.readings == 5
    assert s.link is LinkState.LOST and "Input/output error" in s.error
    assert src.closed
    before = ticks
    await clock.run_for(5.0)
    assert ticks - before >= 9  # timers keep going after the device is gone
    s.on_action(Action.NALOXONE)  # the responder still works
    s.stop()
    why = await asyncio.wait_for(task, 1.0)
    assert why.startswith("failed:")
    s.close()
    rec = load(w.path)
    assert [e.state for e in rec.links] == [LinkState.LOST]
    assert "source failed" in rec.links[0].reason
    names = [e["name"] for e in rec.events]
    assert names[-3:] == ["naloxone", "session_end", "session_summary"]


async def test_run_stops_on_closed():
    clock = VirtualClock()
    s = Session(clock=clock)
    items = [Reading(t=1.0, spo2=96, pulse=70), LinkEvent(2.0, LinkState.CLOSED),
             Reading(t=3.0, spo2=96, pulse=70)]
    task = asyncio.create_task(s.run(ScriptedSource(clock, items), tick_every=None))
    await clock.run_for(5.0)
    assert await asyncio.wait_for(task, 1.0) == "closed"
    assert s.readings == 1 and s.link is LinkState.CLOSED and not s.running


async def test_no_source_mode_runs_until_stopped():
    clock = VirtualClock()
    s = Session(clock=clock)
    task = asyncio.create_task(s.run(None, tick_every=1.0))
    await clock.run_for(3.5)
    v = s.version
    await clock.run_for(2.0)
    assert s.version >= v + 2 and s.running
    s.stop()
    assert await asyncio.wait_for(task, 1.0) == "stopped"


async def test_stop_interrupts_a_silent_source():
    clock = VirtualClock()
    s = Session(clock=clock)

    class Silent:
        name = "silent"
        closed = False

        def __aiter__(self):
            return self

        async def __anext__(self):
            await asyncio.Event().wait()

        async def close(self):
            self.closed = True

    src = Silent()
    task = asyncio.create_task(s.run(src, tick_every=None))
    await clock.run_for(1.0)
    s.stop()
    assert await asyncio.wait_for(task, 1.0) == "stopped"
    assert src.closed


def test_a_failing_disk_stops_the_recording_not_the_session(tmp_path):
    clock = VirtualClock()
    w = open_writer("sim:x", clock, base=tmp_path)
    s = Session(clock=clock, writer=w)

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    w.reading = boom  # type: ignore[method-assign]
    s.on_item(Reading(t=0.5, spo2=96, pulse=70))
    s.on_action(Action.CALLED_911)
    assert s.record_error == "recording stopped: write failed (no space left on the device)"
    assert s.readings == 1 and s.actions[-1].name == "911"
    s.close()


class FullDisk:
    """`native.write_all` on a disk that holds `capacity` bytes of this file: a write that does
    not fit writes what fits, then fails with ENOSPC, as a full disk does."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.failures = 0

    def __call__(self, fd: int, data: bytes) -> None:
        import errno

        room = self.capacity - os.lseek(fd, 0, os.SEEK_CUR)
        if len(data) > room:
            os.write(fd, data[:max(0, room)])
            self.failures += 1
            raise OSError(errno.ENOSPC, "No space left on device")
        os.write(fd, data)


def test_a_full_disk_cuts_the_file_says_so_and_the_session_keeps_everything(
        tmp_path, monkeypatch, capsys):
    from drivers.formats import native
    from drivers.formats.native import read as read_native
    from oxi_assist.cli import main
    from oxi_assist.debrief import debrief_text

    disk = FullDisk(capacity=6000)
    monkeypatch.setattr(native, "write_all", disk)
    clock = VirtualClock()
    w = open_writer("sim:x", clock, base=tmp_path)
    s = Session(clock=clock, writer=w, monitor=Monitor(), source_label="sim:x")
    for i in range(400):  # 97 %, then 80 % from 100 s on: the low-SpO2 alarm is raised
        clock.set(float(i))
        s.on_item(Reading(t=float(i), spo2=97.0 if i < 100 else 80.0, pulse=70))
        s.tick()
        if i == 30:
            s.on_action(Action.CALLED_911)
        if i == 350:
            s.on_action(Action.NALOXONE)
    s.close("responder ended the session")
    assert disk.failures >= 1
    assert "no space left on the device" in s.record_error
    # the file: whole records up to the failure, then an end record saying why
    lines = w.path.read_text().splitlines()
    assert lines[-1].startswith('{"k":"end"') and "write failed: no space left" in lines[-1]
    rec = read_native(w.path)
    assert rec.interrupted and rec.header["cut"].startswith("write failed")
    info = scan(w.path)
    assert info.cut.startswith("write failed") and not info.error
    assert "Cut short" in debrief_text(rec) and "crashed" not in debrief_text(rec)
    assert main(["sessions", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "cut short (write failed: no space left on the device)" in out
    assert "interrupted" not in out
    # the session kept everything, including what came after the disk filled up
    mem = s.recording()
    names = [e["name"] for e in mem.events if e.get("by") == "responder"]
    assert names == ["911", "naloxone"]
    assert any(a["kind"] == "spo2_low" and a["state"] == "raised" for a in mem.alarms)
    assert len(mem.readings) == 400


def test_items_without_a_usable_time_are_dropped_not_fatal():
    clock = VirtualClock()
    s = Session(clock=clock)
    clock.advance(1)
    s.on_item(Reading(t=clock.now(), spo2=95, pulse=70))
    s.on_item(Reading(t=float("nan"), spo2=95, pulse=70))
    s.on_item("not an item")  # type: ignore[arg-type]
    clock.advance(1)
    s.on_item(Reading(t=clock.now(), spo2=94, pulse=70))
    assert s.dropped == 2 and s.readings == 2
    assert s.elapsed() == pytest.approx(2.0)


@settings(max_examples=80, deadline=None)
@given(steps=st.lists(st.floats(0.01, 3.0), min_size=0, max_size=120),
       window=st.floats(1.0, 40.0), cap_rate=st.floats(0.5, 3.0),
       ask=st.one_of(st.none(), st.floats(0.5, 60.0)))
def test_trend_ring_matches_a_plain_list(steps, window, cap_rate, ask):
    h = TrendHistory(seconds=window, max_rate=cap_rate)
    ref: list[tuple[float, float]] = []  # (t, spo2) per bin, built the plain way
    t, bin_start = 0.0, -1e9
    for i, dt in enumerate(steps):
        t += dt
        v = np.nan if i % 5 == 4 else 80.0 + i % 20
        h.append(t, None if v != v else v, 70.0, None if v != v else v)
        if ref and t - bin_start < 1.0 / cap_rate:
            ref[-1] = (t, ref[-1][1] if ref[-1][1] != ref[-1][1] else v)
        else:
            ref.append((t, v))
            bin_start = t
    kept = ref[-h.capacity:]
    span = window if ask is None else min(ask, window)
    if kept:
        kept = [x for x in kept if x[0] > kept[-1][0] - span]
    tt, spo2, _pulse, _raw = h.arrays(ask)
    assert list(tt) == [x[0] for x in kept]
    np.testing.assert_array_equal(spo2, np.array([x[1] for x in kept]))


@settings(max_examples=80, deadline=None)
@given(chunks=st.lists(st.integers(1, 40), min_size=1, max_size=60),
       rate=st.sampled_from([25.0, 50.0, 100.0]))
def test_pleth_ring_matches_a_plain_list(chunks, rate):
    p = PlethHistory(seconds=2.0, max_rate=100.0)
    ref: list[tuple[float, float]] = []
    t, k = 0.0, 0
    for n in chunks:
        t += n / rate
        vals = tuple(float(k + j) for j in range(n))
        k += n
        p.extend(t, vals, rate)
        # spaced 1/rate apart, reckoned as the history does: a sample exactly at the
        # window's edge then falls on the same side of it
        ref += [(t - (1.0 / rate) * (n - 1 - j), v) for j, v in enumerate(vals)]
    kept = ref[-p.capacity:]
    kept = [x for x in kept if x[0] > kept[-1][0] - 2.0]
    tt, vv = p.arrays()
    np.testing.assert_allclose(tt, [x[0] for x in kept])
    assert list(vv) == [x[1] for x in kept]


CHILD = r"""
import sys, time
sys.path.insert(0, sys.argv[1])
from drivers.clock import RealClock
from drivers.reading import Reading
from oxi_assist.recordings import open_writer
from oxi_assist.session import Session
c = RealClock()
w = open_writer("sim:kill", c, base=sys.argv[2])
s = Session(clock=c, writer=w, source_label="sim:kill")
print(w.path, flush=True)
i = 0
while True:
    s.on_item(Reading(t=c.now(), spo2=90 + i % 5, pulse=70))
    s.tick()
    i += 1
    print(f"{s.elapsed():.3f}", flush=True)
    time.sleep(0.02)
"""


def test_a_killed_session_loses_at_most_the_last_second(tmp_path, repo_root):
    import subprocess

    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(repo_root), str(tmp_path)],
                            stdout=subprocess.PIPE, text=True)
    try:
        path = proc.stdout.readline().strip()
        last = 0.0
        while last < 1.8:  # bounded: the child prints every ~20 ms
            line = proc.stdout.readline()
            assert line, "the recording process stopped by itself"
            last = float(line)
        proc.kill()  # SIGKILL / TerminateProcess: no cleanup, no end record
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    rec = load(path)
    assert rec.interrupted
    t = rec.arrays()[0]
    assert len(t) > 0 and t[-1] >= last - 1.0 - 0.1  # at most the last second is missing


def test_the_debrief_after_a_write_failure_comes_from_the_session(tmp_path, monkeypatch):
    """The file on disk is cut; the debrief shown when the session ends is the whole session."""
    from drivers.formats import native
    from oxi_assist.ui.debrief_screen import DebriefScreen

    monkeypatch.setattr(native, "write_all", FullDisk(capacity=3000))
    clock = VirtualClock()
    s = Session(clock=clock, writer=open_writer("sim:x", clock, base=tmp_path),
                source_label="sim:x")
    for i in range(200):
        clock.set(float(i))
        s.on_item(Reading(t=float(i), spo2=96.0, pulse=70))
        s.tick()
    s.on_action(Action.NALOXONE)  # long after the disk filled up
    s.close()
    assert s.record_error
    rec = DebriefScreen.for_session(s).rec
    assert [e["name"] for e in rec.events if e.get("by") == "responder"] == ["naloxone"]
