"""Contec 0xEB (USB-HID CMS50E) codec against the constructed frames in PROTOCOLS.md §4.5."""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from drivers.clock import VirtualClock
from drivers.errors import SourceError
from drivers.hid_transport import HidrawPort, connect_hid
from drivers.link import LinkSource
from drivers.protocols import codec_for
from drivers.protocols._contec import eb_message
from drivers.protocols.contec_hid import (
    KEEP_ALIVE,
    START_MEASUREMENTS,
    START_WAVE,
    STOP_LIVE,
    ContecHidCodec,
    pack_reports,
)
from drivers.reading import LinkEvent, LinkState, Reading, Status


def h(s: str) -> bytes:
    return bytes.fromhex(s.replace(" ", ""))


def test_constructed_vectors() -> None:
    c = codec_for("contec-hid")
    a, b, fo, w = c.feed(h("EB 01 04 51 5F 7F 00 1F" "EB 01 06 02 5F 7F 00 52"
                           "EB 01 04 51 7F 7F 00 3F" "EB 00 00 33 06 24"))
    assert (a.pulse, a.spo2, a.pi) == (81.0, 95.0, None)
    assert (b.pulse, b.spo2) == (130.0, 95.0)
    assert fo.status & Status.FINGER_OUT and fo.spo2 is None and fo.pulse is None
    assert w.wave_only and w.pleth == (round(51 * 100 / 127, 3),)
    assert c.stats.frames_good == 4 and c.stats.frames_bad == 0


def test_host_commands_checksums() -> None:
    assert h("9A 1A") == KEEP_ALIVE
    assert h("9B 00 1B") == START_WAVE
    assert h("9B 01 1C") == START_MEASUREMENTS
    assert h("9B 7F 1A") == STOP_LIVE
    assert eb_message(0x81) == h("81 01")


def test_pi_and_replies() -> None:
    c = ContecHidCodec()
    (r,) = c.feed(eb_message(0xEB, 0x01, 0x04, 70, 97, 590 & 0x7F, 590 >> 7) + h("EB 7F 6A")
                  + h("F0 70"))
    assert r.pi == 5.90
    assert c.replies == [h("EB 7F 6A"), h("F0 70")]


def test_finger_out_amplitude() -> None:
    (w,) = ContecHidCodec().feed(ContecHidCodec.encode_wave(None, finger_out=True))
    assert w.status & Status.FINGER_OUT and w.pleth == () and w.wave_only


def test_bad_checksum_is_counted_and_skipped() -> None:
    c = ContecHidCodec()
    good = h("EB 01 04 51 5F 7F 00 1F")
    rs = c.feed(good[:-1] + b"\x20" + good)
    assert len(rs) == 1
    assert c.stats.frames_bad == 1


def test_reports_padding_is_not_garbage() -> None:
    msgs = [ContecHidCodec.encode(Reading(t=0, spo2=96, pulse=70, pleth=(40.0,)))
            for _ in range(5)]
    reports = pack_reports(msgs)
    assert all(len(r) == 64 for r in reports)
    c = ContecHidCodec()
    rs = [r for rep in reports for r in c.feed(rep)]
    assert len(rs) == 10
    assert c.stats.bytes_skipped == 0 and c.stats.frames_bad == 0
    assert c.stats.extra["padding"] > 0


# --- the HID transport over a report-preserving socket (stands in for /dev/hidrawN) --------

class FakeHidDevice:
    """The device end: answers nothing, streams encoded reports, records host reports."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.host_reports: list[bytes] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        wave = [ContecHidCodec.encode(Reading(t=0, spo2=95, pulse=130, pleth=(p,)),
                                      vitals=(k % 20 == 0))
                for k, p in enumerate(range(0, 100, 2))]
        reports = pack_reports(wave)
        k = 0
        while not self.stop.is_set():
            r, _, _ = select.select([self.sock], [], [], 0.01)
            if r:
                data = self.sock.recv(65)
                if not data:
                    return
                self.host_reports.append(data)
            self.sock.send(reports[k % len(reports)])
            k += 1


@pytest.fixture()
def hid_pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    yield a, b
    a.close()
    b.close()


async def test_hid_source_streams_keeps_alive_and_reports_loss(hid_pair: tuple) -> None:
    host, dev_sock = hid_pair
    dev = FakeHidDevice(dev_sock)
    dev.thread.start()
    clock = VirtualClock()
    port = HidrawPort("hidraw-test", fd=os.dup(host.fileno()))
    src = LinkSource("hid:test", clock, lambda: connect_hid("hidraw-test", port=port),
                     stale_after=3.0, lost_after=10.0)
    items: list = []
    got = asyncio.Event()

    async def consume() -> None:
        async for it in src:
            items.append(it)
            got.set()

    task = asyncio.ensure_future(consume())

    async def until(pred: object) -> None:
        deadline = time.monotonic() + 5.0
        while not pred():  # type: ignore[operator]
            assert time.monotonic() < deadline, items[-3:]
            got.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(got.wait(), 0.5)

    await until(lambda: sum(1 for i in items if isinstance(i, Reading) and not i.wave_only) >= 2)
    meas = [i for i in items if isinstance(i, Reading) and not i.wave_only]
    assert {(m.spo2, m.pulse) for m in meas} == {(95.0, 130.0)}
    assert any(isinstance(i, Reading) and i.wave_only and i.pleth for i in items)
    # the host started both streams, one command per 64-byte report after report number 0
    assert dev.host_reports[0] == b"\x00" + START_WAVE.ljust(64, b"\x00")
    assert dev.host_reports[1] == b"\x00" + START_MEASUREMENTS.ljust(64, b"\x00")
    for _ in range(21):  # 5.25 virtual seconds while data flows
        n = len(items)
        await until(lambda n=n: len(items) > n)
        await clock.run_for(0.25)
    await until(lambda: any(r[1:3] == KEEP_ALIVE for r in dev.host_reports))
    assert not any(isinstance(i, LinkEvent) and i.state == LinkState.STALE for i in items)
    # unplug: the device end goes away
    dev.stop.set()
    dev.thread.join(1.0)
    dev_sock.shutdown(socket.SHUT_RDWR)
    await until(lambda: any(isinstance(i, LinkEvent) and i.state == LinkState.LOST
                            for i in items))
    await src.close()
    await asyncio.wait_for(task, 5.0)
    assert items[-1].state == LinkState.CLOSED


def test_hid_open_errors_are_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    import drivers.hid_transport as ht

    monkeypatch.setattr(ht, "hid_backend", lambda: None)
    with pytest.raises(SourceError, match="hidapi") as e:
        ht.open_hid("COM-like-path", {}, VirtualClock())
    assert "\n" not in str(e.value)
    monkeypatch.setattr(ht, "hid_backend", lambda: "hidraw")
    with pytest.raises(SourceError, match="hid: bad stale='nan'"):
        ht.open_hid("auto", {"stale": "nan"}, VirtualClock())
    with pytest.raises(SourceError, match="hid:/dev/null: not a USB-HID device"):
        ht.open_hid("/dev/null", {}, VirtualClock())
    notes = tmp_path / "notes.txt"
    notes.write_text("x")
    with pytest.raises(SourceError, match=r"notes\.txt: a regular file, not a USB-HID device"):
        ht.open_hid(str(notes), {}, VirtualClock())
    with pytest.raises(SourceError, match="hidraw99: no such device"):
        ht.open_hid("/dev/hidraw99", {}, VirtualClock())


async def test_hid_auto_with_nothing_plugged_in_starts_and_keeps_looking(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import drivers.hid_transport as ht

    monkeypatch.setattr(ht, "hid_backend", lambda: "hidraw")
    monkeypatch.setattr(ht, "hid_candidates", lambda: [])
    clock = VirtualClock()
    src = ht.open_hid("auto", {}, clock)
    items: list = []

    async def consume() -> None:
        async for it in src:
            items.append(it)

    task = asyncio.ensure_future(consume())
    for _ in range(20):
        await clock.run_for(0.25)
        await asyncio.sleep(0.01)
    states = [i.state for i in items]
    assert states[:3] == [LinkState.CONNECTING, LinkState.LOST, LinkState.RECONNECTING]
    assert "no Contec USB-HID" in items[1].reason
    await src.close()
    await asyncio.wait_for(task, 5.0)
