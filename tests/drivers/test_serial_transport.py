"""The serial driver end to end through a real pty and pyserial: the virtual Contec device on one
side, `open_serial` and the Monitor on the other. Waits are on I/O with bounded timeouts."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from drivers.catalogue_serial import Candidate
from drivers.clock import RealClock, VirtualClock
from drivers.errors import ProtocolError, SourceError
from drivers.reading import LinkEvent, LinkState, Reading, Status
from drivers.serial_download import download_v7
from drivers.serial_transport import connect_serial, open_serial, resolve_port
from simulators.virtual_serial import (
    VirtualSerialOximeter,
    pty_supported,
    sample_storage,
    steady_patient,
)

pytestmark = pytest.mark.skipif(not pty_supported(), reason="needs a POSIX pty")
TIMEOUT = 5.0  # s: upper bound for any single wait on the pty


class Collector:
    """Runs a Source in a task; tests wait for conditions on what it has yielded."""

    def __init__(self, src: object) -> None:
        self.src = src
        self.items: list[Reading | LinkEvent] = []
        self.stamps: list[float] = []
        self._changed = asyncio.Event()
        self.task = asyncio.ensure_future(self._run())

    async def _run(self) -> None:
        async for item in self.src:  # type: ignore[attr-defined]
            self.items.append(item)
            self.stamps.append(time.monotonic())
            self._changed.set()

    @property
    def readings(self) -> list[Reading]:
        return [i for i in self.items if isinstance(i, Reading)]

    def states(self) -> list[LinkState]:
        return [i.state for i in self.items if isinstance(i, LinkEvent)]

    async def until(self, pred: object, timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not pred():  # type: ignore[operator]
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out; states {self.states()}, "
                                     f"{len(self.readings)} readings")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    async def close(self) -> None:
        await self.src.close()  # type: ignore[attr-defined]
        await asyncio.wait_for(self.task, TIMEOUT)


def patient_until(flag: threading.Event) -> Iterator[Reading]:
    """SpO2 96, PR 140 until the test sets `flag`, then finger out."""
    for r in steady_patient(spo2=96, pulse=140, rate=6):
        if flag.is_set():
            break
        yield r
    while True:
        yield Reading(t=0.0, status=Status.FINGER_OUT)


@pytest.fixture()
def link(tmp_path: Path) -> Path:
    return tmp_path / "ttyCMS50"


@pytest.mark.parametrize("protocol", ["cms50-v7", "cms50-legacy"])
async def test_detects_protocol_and_monitor_sees_pulse_above_127(protocol: str, link: Path
                                                                 ) -> None:
    from oxi_assist.monitor.monitor import Monitor

    finger_out = threading.Event()
    with VirtualSerialOximeter(protocol, patient_until(finger_out), link_path=link) as dev:
        src = open_serial(str(link), {"probe": "0.3"}, RealClock())
        c = Collector(src)
        await c.until(lambda: sum(r.valid for r in c.readings) >= 30)
        finger_out.set()
        await c.until(lambda: any(r.status & Status.FINGER_OUT for r in c.readings))
        await c.close()
        assert c.states()[:2] == [LinkState.CONNECTING, LinkState.CONNECTED]
        assert c.states()[-1] == LinkState.CLOSED
        assert src.link is None or src.link.protocol == protocol
        connected = next(i for i in c.items if isinstance(i, LinkEvent)
                         and i.state == LinkState.CONNECTED)
        assert connected.reason == protocol
        if protocol == "cms50-v7":  # the identity query answered during detection
            assert connected.device.startswith("CMS50 V7.0 CMS50E on ")
        good = [r for r in c.readings if r.valid]
        assert len(good) >= 10
        assert {(r.spo2, r.pulse) for r in good} == {(96.0, 140.0)}
        assert any(r.status & Status.BEAT for r in good)
        fo = [r for r in c.readings if r.status & Status.FINGER_OUT]
        assert all(r.spo2 is None and r.pulse is None for r in fo)
        ts = [r.t for r in c.readings]
        assert ts == sorted(ts)
        mon = Monitor()
        states = [mon.update(i) for i in c.items if isinstance(i, Reading)]
        seen = [s for s in states if s.spo2 is not None]
        assert seen and seen[-1].spo2 == pytest.approx(96.0, abs=0.5)
        assert any(s.pulse is not None and s.pulse > 127 for s in states)
        assert states[-1].spo2 is None  # finger out: no number shown
        assert dev.frames_sent > 0


async def test_unplug_gives_lost_within_2s_and_replug_reconnects(link: Path) -> None:
    with VirtualSerialOximeter("cms50-v7", steady_patient(pulse=72), link_path=link) as dev:
        c = Collector(open_serial(str(link), {"protocol": "cms50-v7"}, RealClock()))
        await c.until(lambda: len(c.readings) >= 10)
        t_unplug = time.monotonic()
        dev.inject("disconnect", seconds=0.4)
        await c.until(lambda: LinkState.LOST in c.states())
        lost_at = c.stamps[next(i for i, x in enumerate(c.items) if isinstance(x, LinkEvent)
                            and x.state == LinkState.LOST)]
        assert lost_at - t_unplug < 2.0
        await c.until(lambda: c.states().count(LinkState.CONNECTED) >= 2)
        n = len(c.readings)
        await c.until(lambda: len(c.readings) >= n + 10)
        await c.close()
        st = c.states()
        i_lost = st.index(LinkState.LOST)
        assert st[i_lost + 1] == LinkState.RECONNECTING
        assert LinkState.CONNECTED in st[i_lost:]
        assert dev.commands.count(0xA1) >= 2  # restarted the stream after the replug


async def test_garbage_is_skipped_and_counted(link: Path) -> None:
    with VirtualSerialOximeter("cms50-v7", steady_patient(pulse=72), link_path=link,
                               seed=3) as dev:
        src = open_serial(str(link), {"protocol": "cms50-v7"}, RealClock())
        c = Collector(src)
        await c.until(lambda: len(c.readings) >= 10)
        dev.inject("garbage", n=500)
        await c.until(lambda: src.codec is not None and src.codec.stats.bytes_skipped > 0)
        n = len(c.readings)
        await c.until(lambda: len(c.readings) >= n + 20)
        stats = src.codec.stats
        await c.close()
        assert all(r.spo2 in (None, 97.0) for r in c.readings)
        assert all(r.pulse is None or 0 < r.pulse <= 254 for r in c.readings)
        assert stats.frames_good >= 30


async def test_keepalive_every_5s_stale_and_lost_on_the_injected_clock(link: Path) -> None:
    clock = VirtualClock()
    with VirtualSerialOximeter("cms50-v7", steady_patient(pulse=72), link_path=link) as dev:
        src = open_serial(str(link), {"protocol": "cms50-v7", "stale": "3", "lost": "8"},
                          clock)
        c = Collector(src)
        await c.until(lambda: len(c.readings) >= 5)
        # Data keeps flowing while virtual time passes: keep-alives, never stale.
        for _ in range(11):
            n = len(c.readings)
            await c.until(lambda n=n: len(c.readings) > n)
            await clock.run_for(0.5)
        ok = await asyncio.to_thread(dev.wait_for, lambda d: d.keepalives >= 1, TIMEOUT)
        assert ok and src.keepalives_sent == 1
        assert LinkState.STALE not in c.states()
        # The device goes quiet: STALE after 3 s, then LOST after 8 s and a reopen.
        dev.inject("stall", seconds=60)
        await asyncio.to_thread(dev.wait_for, lambda d: d.stalled_until > 0, TIMEOUT)
        await asyncio.sleep(0.05)  # frames already on the wire
        await clock.run_for(3.3)
        await c.until(lambda: LinkState.STALE in c.states())
        assert LinkState.LOST not in c.states()
        await clock.run_for(5.0)
        await c.until(lambda: LinkState.LOST in c.states())
        lost = [i for i in c.items if isinstance(i, LinkEvent) and i.state == LinkState.LOST]
        assert "no data" in lost[0].reason
        await c.until(lambda: c.states().count(LinkState.CONNECTED) >= 2)
        await c.close()


def test_open_errors_are_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(SourceError, match="no such port"):
        open_serial(str(tmp_path / "nope"), {}, RealClock())
    with pytest.raises(ProtocolError, match="not a serial protocol"):
        open_serial("auto", {"protocol": "pc60f"}, RealClock())
    with pytest.raises(SourceError, match="stale"):
        open_serial(str(tmp_path), {"stale": "x"}, RealClock())
    two = [Candidate("serial", p, 0x10C4, 0xEA60, ("cms50-v7",)) for p in ("/dev/a", "/dev/b")]
    monkeypatch.setattr("drivers.serial_transport.serial_candidates", lambda: two)
    with pytest.raises(SourceError, match=r"several candidate ports.*/dev/a, /dev/b") as e:
        open_serial("auto", {}, RealClock())
    assert "\n" not in str(e.value)


def test_silent_port_is_not_detected(link: Path) -> None:
    dev = VirtualSerialOximeter("cms50-v7", steady_patient(), link_path=link,
                                keepalive_timeout=None)
    dev.start()
    try:
        dev._command = lambda cmd, args: None  # type: ignore[method-assign]  # a mute device
        with pytest.raises(SourceError, match="no Contec oximeter answered"):
            connect_serial(str(link), None, probe_timeout=0.2)
    finally:
        dev.stop()


def test_download_pulls_stored_recordings(link: Path) -> None:
    start = datetime(2026, 11, 26, 23, 15, 0)
    storage = sample_storage(start, seconds=301)
    with VirtualSerialOximeter("cms50-v7", steady_patient(), link_path=link, storage=storage):
        recs = download_v7(str(link))
    (rec,) = recs
    assert rec.start == start
    assert rec.announced == 301 and len(rec.samples) == 301
    want = [(None if s is None else float(s), None if p is None else float(p))
            for s, p in storage[0].samples]
    assert [(s, p) for s, p, _ in rec.samples] == want
    assert max(p for _, p, _ in rec.samples if p is not None) == 135.0  # PR above 127


def test_catalogue_finds_contec_ports_and_hidraw_nodes(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from serial.tools.list_ports_common import ListPortInfo

    from drivers import catalogue_serial as cat

    def port(dev: str, vid: int | None, pid: int | None) -> ListPortInfo:
        p = ListPortInfo(dev, skip_link_detection=True)
        p.vid, p.pid, p.description = vid, pid, "CP2102 USB to UART"
        return p

    ports = [port("/dev/ttyUSB1", 0x10C4, 0xEA60), port("/dev/ttyS0", None, None),
             port("/dev/ttyACM0", 0x2341, 0x0043)]
    monkeypatch.setattr("serial.tools.list_ports.comports", lambda: ports)
    (c,) = cat.serial_candidates()
    assert (c.uri, c.protocols) == ("serial:/dev/ttyUSB1", ("cms50-v7", "cms50-legacy"))
    assert resolve_port("auto") == "/dev/ttyUSB1"
    for name, hid_id in (("hidraw0", "0003:0000046D:0000C52B"),
                         ("hidraw3", "0003:000028E9:0000028A")):
        d = tmp_path / name / "device"
        d.mkdir(parents=True)
        (d / "uevent").write_text(f"DRIVER=hid-generic\nHID_ID={hid_id}\nHID_NAME=CMS50E\n")
    (h,) = cat._hidraw_candidates(tmp_path)
    assert (h.uri, h.protocols, h.description) == ("hid:/dev/hidraw3", ("contec-hid",), "CMS50E")


def test_scan_lists_wired_candidates(monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    from oxi_assist.cli import main

    two = [Candidate("serial", p, 0x10C4, 0xEA60, ("cms50-v7", "cms50-legacy"), "CP2102")
           for p in ("/dev/ttyUSB0", "/dev/ttyUSB1")]
    monkeypatch.setattr("oxi_assist.commands.scan.serial_candidates", lambda: two)
    monkeypatch.setattr("oxi_assist.commands.scan.hid_backend", lambda: None)
    assert main(["scan", "--no-ble"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split()[:3] == ["serial:/dev/ttyUSB0", "USB", "10C4:EA60"]
    assert out[2].startswith("  serial:/dev/ttyUSB1")
    assert "unavailable" in out[4] and "hidapi" in out[4]


@pytest.mark.parametrize(("raw", "key"), [("nan", "stale"), ("inf", "lost"), ("0", "stale"),
                                          ("-1", "stale"), ("1e308", "probe"),
                                          ("nan", "probe")])
def test_numeric_options_must_be_finite_and_in_range(raw: str, key: str) -> None:
    with pytest.raises(SourceError, match=rf"serial: bad {key}='{raw}': expected a number"):
        open_serial("auto", {key: raw}, RealClock())


def test_paths_that_are_not_serial_ports_are_refused_with_the_reason(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a port")
    with pytest.raises(SourceError, match=r"notes\.txt: a regular file, not a serial port"):
        open_serial(str(text), {}, RealClock())
    with pytest.raises(SourceError, match="a directory, not a serial port"):
        open_serial(str(tmp_path), {}, RealClock())
    with pytest.raises(SourceError, match="/dev/null: not a serial port"):
        open_serial("/dev/null", {}, RealClock())


async def test_serial_auto_with_no_cable_starts_and_keeps_looking(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing plugged in: the source opens (the guidance starts), says why the link is lost,
    and looks again with backoff until a cable appears."""
    looked: list[int] = []
    monkeypatch.setattr("drivers.serial_transport.serial_candidates",
                        lambda: looked.append(1) or [])
    clock = VirtualClock()
    src = open_serial("auto", {}, clock)
    items: list = []

    async def consume() -> None:
        async for it in src:
            items.append(it)

    task = asyncio.ensure_future(consume())
    for _ in range(40):
        await clock.run_for(0.25)
        await asyncio.sleep(0.01)  # the connect attempt runs in a worker thread
    states = [i.state for i in items]
    assert states[:3] == [LinkState.CONNECTING, LinkState.LOST, LinkState.RECONNECTING]
    assert "no Contec serial cable" in items[1].reason
    assert len(looked) >= 4  # one look at open, then one per retry
    await src.close()
    await asyncio.wait_for(task, 5.0)
    assert items[-1].state == LinkState.CLOSED
