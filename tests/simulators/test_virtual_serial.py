"""The virtual Contec serial oximeter, driven from the host side with plain pyserial, plus the
`virtual-device` and `download` commands against it."""

from __future__ import annotations

import os
import time
from datetime import datetime
from pathlib import Path

import pytest
import serial

from drivers.errors import OxiError
from drivers.formats import native
from drivers.protocols.cms50_legacy import CMS50LegacyCodec
from drivers.protocols.cms50_v7 import (
    START_LIVE,
    STOP_LIVE,
    CMS50V7Codec,
    Packet,
    command,
)
from drivers.reading import Reading, Status
from oxi_assist.cli import main
from simulators.virtual_serial import (
    VirtualSerialOximeter,
    frames,
    pty_supported,
    sample_storage,
    steady_patient,
)

pytestmark = pytest.mark.skipif(not pty_supported(), reason="needs a POSIX pty")
TIMEOUT = 3.0


class Host:
    """A host on the pty: pyserial + the V7 codec; reads until a condition, bounded."""

    def __init__(self, path: str, codec: object | None = None) -> None:
        self.s = serial.Serial(path, 115200, timeout=0.05)
        self.codec = codec or CMS50V7Codec()
        self.readings: list[Reading] = []

    def until(self, pred: object, timeout: float = TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while not pred():  # type: ignore[operator]
            assert time.monotonic() < deadline, "timed out waiting for the device"
            try:
                waiting = self.s.in_waiting
            except OSError as e:  # pyserial's read() says SerialException for a pty torn
                raise serial.SerialException(str(e)) from e  # down; in_waiting says EIO
            self.readings += self.codec.feed(self.s.read(waiting or 1))

    def packet(self, ptype: int) -> Packet:
        def have() -> bool:
            return any(p.type == ptype for p in self.codec.packets)
        self.until(have)
        return next(p for p in self.codec.packets if p.type == ptype)

    def close(self) -> None:
        self.s.close()


def test_frames_expand_pleth_and_mark_beats() -> None:
    rs = list(steady_patient(pulse=60, rate=60, seconds=2))
    fr = list(frames(rs))
    assert len(fr) == 120
    beats = [i for i, (r, _) in enumerate(fr) if r.status & Status.BEAT]
    assert len(beats) == 2 and beats[1] - beats[0] == 60  # one peak a beat at 60 bpm
    wave = Reading(t=0, pleth=(10.0, 20.0), wave_only=True)
    (a, pa), (b, pb) = list(frames([Reading(t=0, spo2=91, pulse=88), wave]))[1:]
    assert (a.spo2, pa, b.spo2, pb) == (91, 10.0, 91, 20.0)


def test_device_plays_the_scenario_engine_patient() -> None:
    from oxi_assist.commands.virtual_device import patient

    gen = patient("opioid-overdose", seed=1)
    seconds = [next(gen) for _ in range(3)]
    codec = CMS50V7Codec()
    decoded = codec.feed(b"".join(CMS50V7Codec.encode(r, p)
                                  for r, p in frames(iter(seconds))))
    assert len(decoded) == sum(max(1, len(r.pleth)) for r in seconds) == 180
    for k, r in enumerate(seconds):
        got = decoded[k * 60 + 30]
        assert got.spo2 == (round(r.spo2) if r.spo2 is not None else None)
        assert got.pulse == (round(r.pulse) if r.pulse is not None else None)


def test_v7_device_waits_for_start_answers_identity_and_stops(tmp_path: Path) -> None:
    with VirtualSerialOximeter("cms50-v7", steady_patient(spo2=93, pulse=131),
                               device_id="OXIV7") as dev:
        host = Host(dev.path)
        try:
            host.s.write(command(0xAA))
            ident = host.packet(0x04)
            assert ident.data.rstrip(b" ") == b"OXIV7"
            assert host.readings == []  # no live data before A1
            host.s.write(START_LIVE)
            host.until(lambda: len(host.readings) >= 10)
            assert {(r.spo2, r.pulse) for r in host.readings} == {(93.0, 131.0)}
            host.s.write(command(0xA0) + command(0xC3))
            assert tuple(host.packet(0x06).data) == (0, 7)
            fb = host.packet(0x0B)
            assert tuple(fb.data) == (0xC3, 0x05)  # unknown command: "not supported"
            host.s.write(STOP_LIVE)
            host.packet(0x0C)
            assert dev.wait_for(lambda d: not d.streaming, TIMEOUT)
        finally:
            host.close()


def test_legacy_device_streams_and_ignores_the_host() -> None:
    with VirtualSerialOximeter("cms50-legacy", steady_patient(pulse=200)) as dev:
        host = Host(dev.path, CMS50LegacyCodec())
        try:
            host.s.write(START_LIVE)
            host.until(lambda: len(host.readings) >= 10)
            assert {r.pulse for r in host.readings} == {200.0}
            assert dev.commands == []
        finally:
            host.close()


def test_cues_garbage_stall_and_disconnect(tmp_path: Path) -> None:
    link = tmp_path / "tty"
    with VirtualSerialOximeter("cms50-legacy", steady_patient(), link_path=link) as dev:
        assert link.is_symlink()
        host = Host(str(link), CMS50LegacyCodec())
        try:
            host.until(lambda: len(host.readings) >= 5)
            dev.inject("garbage", n=300)
            host.until(lambda: host.codec.stats.bytes_skipped > 0)
            n = len(host.readings)
            host.until(lambda: len(host.readings) >= n + 5)
            dev.inject("stall", seconds=30)
            assert dev.wait_for(lambda d: d.stalled_until > 0, TIMEOUT)
            sent = dev.frames_sent
            # a stalled device sends nothing: the wait for one more frame runs out
            assert not dev.wait_for(lambda d: d.frames_sent > sent, 0.1)
            dev.inject("disconnect", seconds=0.2)
            # the unplug reaches the host as pyserial's SerialException from read() or as a
            # plain OSError (EIO) from the ioctl behind in_waiting, whichever runs first;
            # both are OSErrors, which is what the serial transport treats as "gone"
            with pytest.raises(OSError):
                host.until(lambda: False, timeout=TIMEOUT)
        finally:
            host.close()
        assert dev.wait_for(lambda d: d.plugged and d.pty_name != "", TIMEOUT)
        assert link.is_symlink()
    with pytest.raises(ValueError, match="unknown virtual device cue"):
        dev.inject("explode")
    assert not os.path.lexists(link)  # our link went with the device


def test_the_link_is_only_made_where_nothing_is(tmp_path: Path) -> None:
    """`--link night.csv` used to replace a recording with a symlink and delete it on exit."""
    night = tmp_path / "night.csv"
    night.write_text("a night's recording")
    dangling = tmp_path / "old-link"
    dangling.symlink_to(tmp_path / "gone")
    for taken in (night, dangling, tmp_path):
        dev = VirtualSerialOximeter("cms50-v7", steady_patient(), link_path=taken)
        with pytest.raises(OxiError, match="already exists"):
            dev.start()
        dev.stop()
    assert night.read_text() == "a night's recording"
    assert os.readlink(dangling) == str(tmp_path / "gone")


def test_only_our_own_link_is_removed(tmp_path: Path) -> None:
    """Something put in the link's place while the device runs is left alone at the end."""
    link = tmp_path / "tty"
    with VirtualSerialOximeter("cms50-legacy", steady_patient(), link_path=link) as dev:
        assert os.readlink(link) == dev.pty_name
        link.unlink()
        link.write_text("a user's file now")
    assert link.read_text() == "a user's file now"


def test_download_command_writes_native_sessions(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    start = datetime(2026, 11, 26, 22, 0, 0)
    storage = [*sample_storage(start, seconds=120),
               *sample_storage(datetime(2026, 11, 27, 1, 2, 3), seconds=10)]
    out = tmp_path / "night.jsonl"
    with VirtualSerialOximeter("cms50-v7", steady_patient(), storage=storage) as dev:
        rc = main(["download", f"serial:{dev.path}", "--output", str(out)])
    assert rc == 0
    rec = native.read(out)
    assert rec.start_wall == start.timestamp() and rec.interval == 1.0
    assert len(rec.readings) == 120 and not rec.interrupted
    assert rec.readings[100].spo2 is None and rec.readings[100].status & Status.FINGER_OUT
    assert rec.readings[60].pulse == 135.0
    second = native.read(tmp_path / "night-2.jsonl")
    assert len(second.readings) == 10
    assert "night-2.jsonl: 10 samples" in capsys.readouterr().out
    assert oct(out.stat().st_mode & 0o777) == "0o600"


def test_download_errors_are_one_line(tmp_path: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["download", "ble:AA:BB", "-o", str(tmp_path / "x")]) == 2
    assert main(["download", str(tmp_path / "nope"), "-o", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and all(e.startswith("oxi-assist: error:") for e in err)
    assert "no such port" in err[1]


def test_virtual_device_command_prints_the_port(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("garbage 10\nbogus\nquit\n"))
    link = tmp_path / "vdev"
    rc = main(["virtual-device", "serial", "--protocol", "cms50-v7", "--link", str(link),
               "--duration", "2", "steady"])
    assert rc == 0
    out, err = capsys.readouterr()
    assert out.strip() == str(link)
    assert "cue: garbage 10" in err and "bad cue 'bogus'" in err
    assert not link.exists()  # the device is gone after quit
