"""A virtual Contec serial oximeter on a pseudo-terminal, so the serial driver, the CLI and the
UI run end to end without hardware.

It answers the V7.0 commands a host sends (start / stop, identity, storage download), streams a
patient at 60 frames/s through the codec's own `encode` side, and on cue injects garbage, stalls
or "unplugs" (closes the pty and opens a fresh one after a pause; an optional symlink goes
away with the cable and comes back pointing at the new pty, as a re-enumerated USB cable's
name does). The symlink is only ever made where nothing is, and only our own link is
removed: a path that holds anything else is never touched. The legacy 5-byte
device streams from power-on and ignores the host, as those units do.

The device runs in its own thread on its own (real) clock, like hardware would: it must keep
streaming whatever the host's event loop is doing. On a `VirtualClock` it runs in lockstep
instead: it acts only when `poke()`d (or `sync()`ed) after the clock has moved, and then sends
every frame that has fallen due (`catch_up=None`), so hours of a shift cost no real waiting.
POSIX only (ptys); on Windows use a com0com pair or a real device.
"""

from __future__ import annotations

import contextlib
import math
import os
import queue
import random
import select
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from drivers.clock import Clock, RealClock, VirtualClock
from drivers.errors import OxiError, SourceError
from drivers.protocols import cms50_legacy, cms50_v7
from drivers.protocols.cms50_v7 import CMS50V7Codec, CommandDecoder
from drivers.reading import Reading, Status
from drivers.safe_files import make_link, remove_link

PROTOCOLS = (cms50_v7.NAME, cms50_legacy.NAME)
MAX_BACKLOG = 4096  # bytes: beyond this live frames are dropped, as a UART FIFO would
CATCH_UP = 10  # at most this many late frames are sent in one go (real-time default)
IDLE_WAIT = 0.2  # s (real): longest the device thread blocks before checking for a stop


def pty_supported() -> bool:
    return sys.platform != "win32" and hasattr(os, "openpty")


NO_PTY_MESSAGE = ("the virtual serial oximeter needs a POSIX pseudo-terminal (Linux or macOS); "
                  "on Windows use a com0com port pair or a real device")


@dataclass
class StoredSession:
    """A recording held in the device's memory: 1 Hz (SpO2, PR) from `start`."""

    start: datetime
    samples: list[tuple[int | None, int | None]]
    user: int = 0


def steady_patient(spo2: float = 97.0, pulse: float = 72.0, pi: float | None = 2.5,
                   rate: int = 60, seconds: float | None = None) -> Iterator[Reading]:
    """One Reading a second with a synthetic pleth: a stand-in patient for tests and for
    `virtual-device` when no scenario engine is available."""
    k = 0
    phase = 0.0
    while seconds is None or k < seconds:
        samples = []
        for _ in range(rate):
            phase = (phase + pulse / 60.0 / rate) % 1.0
            v = 0.5 + 0.4 * math.sin(2 * math.pi * phase) + 0.1 * math.sin(4 * math.pi * phase)
            samples.append(round(max(0.0, min(1.0, v)) * 100, 3))
        k += 1
        yield Reading(t=float(k), spo2=spo2, pulse=pulse, pi=pi, pleth=tuple(samples),
                      pleth_rate=float(rate), status=Status.BEAT)


def frames(readings: Iterable[Reading]) -> Iterator[tuple[Reading, float | None]]:
    """Readings (any pleth length) → one (vitals, pleth sample) per device frame. Wave-only
    readings carry the last vitals forward; the beat flag goes on the pleth peaks."""
    vitals = Reading(t=0.0, status=Status.SEARCHING)
    for r in readings:
        if not r.wave_only:
            vitals = r
        base = replace(vitals, status=(vitals.status | (r.status & Status.FINGER_OUT))
                       & ~Status.BEAT)
        if not r.pleth:
            yield base, None
            continue
        p = r.pleth
        mid = (min(p) + max(p)) / 2
        n = len(p)
        for i, v in enumerate(p):
            peak = (v > mid and (i == 0 or p[i - 1] < v) and (i == n - 1 or p[i + 1] <= v))
            yield (replace(base, status=base.status | Status.BEAT) if peak else base), v


class VirtualSerialOximeter:
    """A Contec oximeter on a pty. `start()` returns the path a host opens."""

    def __init__(self, protocol: str, readings: Iterable[Reading], *, rate: float = 60.0,
                 link_path: str | os.PathLike[str] | None = None,
                 storage: list[StoredSession] | None = None, device_id: str = "CMS50E",
                 keepalive_timeout: float | None = 15.0, seed: int = 0,
                 clock: Clock | None = None, catch_up: int | None = CATCH_UP) -> None:
        if protocol not in PROTOCOLS:
            raise SourceError(f"virtual serial device: unknown protocol {protocol!r} "
                              f"(known: {', '.join(PROTOCOLS)})")
        if not pty_supported():
            raise SourceError(NO_PTY_MESSAGE)
        self.protocol = protocol
        self._frames = frames(readings)
        self.period = 1.0 / rate
        self.link_path = Path(link_path) if link_path else None
        self._link_target = ""  # what our link points at while it exists
        self._linked_once = False
        self.link_given_up = False  # the link's path was taken by something else meanwhile
        self.storage = list(storage or [])
        self.device_id = device_id
        self.keepalive_timeout = keepalive_timeout
        self._rng = random.Random(seed)
        self._clock = clock or RealClock()
        # a VirtualClock does not move by itself: the device then acts when poked (lockstep)
        self._lockstep = isinstance(self._clock, VirtualClock)
        self.catch_up = catch_up  # late frames sent in one go; None = every frame due
        self._encode = (CMS50V7Codec.encode if protocol == cms50_v7.NAME
                        else cms50_legacy.CMS50LegacyCodec.encode)
        self._cmd = CommandDecoder()
        self._ctl: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self._wake_r, self._wake_w = os.pipe()
        self._master = -1
        self._slave = -1
        self._out = bytearray()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self.pty_name = ""
        # Live state, readable from other threads (for tests and the CLI).
        self.streaming = protocol == cms50_legacy.NAME
        self.plugged = False
        self.frames_sent = 0
        self.frames_dropped = 0
        self.commands: list[int] = []
        self.keepalives = 0
        self.stalled_until = 0.0
        self.exhausted = False
        self._last_command = 0.0
        self._replug_at: float | None = None
        self._base = 0.0  # frame k is due at _base + k * period (no drift over a long run)
        self._k = 0
        self._poked = 0  # poke() count, and the last one the device thread has acted on
        self._synced = 0

    # --- control (any thread) -------------------------------------------------------------

    @property
    def path(self) -> str:
        return str(self.link_path) if self.link_path else self.pty_name

    @property
    def replug_at(self) -> float | None:
        """When a pulled cable comes back (clock time), if one is out with a return time."""
        return self._replug_at

    def start(self) -> str:
        """Opens the pty (and makes the link, only where nothing is: an existing path is
        refused with an OxiError, before any thread starts) and starts the device."""
        try:
            self._open_pty()
        except BaseException:
            self._close_pty()
            raise
        self._pace_from(self._clock.now())
        self._last_command = self._clock.now()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"virtual-{self.protocol}")
        self._thread.start()
        return self.path

    def inject(self, action: str, **params: Any) -> None:
        """Trainer cues: `garbage` (n bytes), `stall` (seconds), `disconnect` (seconds until
        the cable comes back; None = stays out), `reconnect`."""
        if action not in ("garbage", "stall", "disconnect", "reconnect"):
            raise ValueError(f"unknown virtual device cue {action!r} "
                             "(known: garbage, stall, disconnect, reconnect)")
        self._ctl.put((action, params))
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"\x00")

    def poke(self) -> int:
        """Wakes the device thread to act on the clock as it is now (after a `VirtualClock`
        moved). Returns a ticket for `sync`-style waits."""
        with self._cond:
            self._poked += 1
            ticket = self._poked
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"\x01")
        return ticket

    def sync(self, timeout: float = 2.0) -> bool:
        """Pokes and blocks (real time, at most `timeout`) until the device thread has acted
        on the clock as it is now: every frame due sent to the pty, a due replug done. False
        if the thread did not answer in time (stopped, or the machine is overloaded)."""
        ticket = self.poke()
        return self.wait_for(lambda d: d._synced >= ticket, timeout)

    def wait_for(self, predicate: Any, timeout: float) -> bool:
        """Block until `predicate(self)` holds (checked whenever the device changes state)."""
        with self._cond:
            return self._cond.wait_for(lambda: predicate(self), timeout)

    def stop(self) -> None:
        self._stop.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"\x00")
        if self._thread is not None:
            self._thread.join(timeout=2.0)
        self._close_pty()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def __enter__(self) -> VirtualSerialOximeter:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- pty ----------------------------------------------------------------------------------

    def _open_pty(self) -> None:
        import tty

        master, slave = os.openpty()
        tty.setraw(slave)
        os.set_blocking(master, False)
        self._master, self._slave = master, slave
        self.pty_name = os.ttyname(slave)
        if self.link_path is not None and not self.link_given_up:
            try:
                make_link(self.link_path, self.pty_name)  # never over anything that is there
            except OxiError:
                if not self._linked_once:
                    raise  # at start: the user chose a path that is taken
                self.link_given_up = True  # after a replug something else took it: leave it
            else:
                self._linked_once = True
                self._link_target = self.pty_name
        self._out.clear()
        self.plugged = True
        self._cmd = CommandDecoder()

    def _close_pty(self) -> None:
        self.plugged = False  # first: a host that sees the port close sees this too
        if self.link_path is not None and self._link_target:
            remove_link(self.link_path, self._link_target)  # only if it is still ours
            self._link_target = ""
        for fd in (self._master, self._slave):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = -1
        if self.protocol == cms50_v7.NAME:
            self.streaming = False  # a V7.0 unit waits for a new start command

    # --- the device thread -------------------------------------------------------------------

    def _notify(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._step()
        finally:
            self._notify()

    @property
    def _next(self) -> float:
        return self._base + self._k * self.period

    def _pace_from(self, t: float) -> None:
        self._base, self._k = t, 0

    def _step(self) -> None:
        now = self._clock.now()
        rlist = [self._wake_r]
        wlist = []
        if self._master >= 0:
            rlist.append(self._master)
            if self._out:
                wlist.append(self._master)
        if self._lockstep:
            timeout = IDLE_WAIT  # virtual time moves only between pokes
        elif self._replug_at is not None:
            timeout = max(0.0, self._replug_at - now)
        elif self.plugged and self.streaming:
            timeout = max(0.0, self._next - now)
        else:
            timeout = IDLE_WAIT
        r, _w, _ = select.select(rlist, wlist, [], min(timeout, IDLE_WAIT))
        if self._wake_r in r:
            os.read(self._wake_r, 512)
        ticket = self._poked  # read before the clock: the poke came after the clock moved
        self._controls()
        if self._master >= 0 and self._master in r:
            try:
                data = os.read(self._master, 4096)
            except OSError:
                data = b""
            if data:
                self._handle(data)
        now = self._clock.now()
        if self._replug_at is not None and now >= self._replug_at:
            self._replug_at = None
            self._open_pty()
            self._notify()
        if self.plugged and self.streaming:
            if (self.protocol == cms50_v7.NAME and self.keepalive_timeout is not None
                    and now - self._last_command > self.keepalive_timeout):
                self.streaming = False  # the host went quiet: the device stops, as units do
                self._notify()
            elif now >= self._next - 1e-9:
                due = int((now - self._base) / self.period + 1e-6) + 1  # frames 0 .. due-1
                late = max(1, due - self._k)
                self._k += late
                if now >= self.stalled_until:
                    self._live_frames(late if self.catch_up is None
                                      else min(late, self.catch_up))
                    self._notify()
        if self._master >= 0 and self._out:
            self._flush()
        if ticket != self._synced:
            self._synced = ticket
            self._notify()

    def _flush(self) -> None:
        try:
            n = os.write(self._master, self._out)
        except BlockingIOError:
            return
        except OSError:
            self._out.clear()
            return
        del self._out[:n]

    def _send(self, data: bytes) -> None:
        self._out += data
        self._flush()

    def _live_frames(self, n: int) -> None:
        """`n` frames in one write (one syscall, not one a frame); frames beyond the FIFO's
        room are dropped and counted, as a UART would lose them."""
        buf = bytearray()
        sent = 0
        for _ in range(n):
            try:
                vitals, pleth = next(self._frames)
            except StopIteration:
                if not self.exhausted:
                    self.exhausted = True
                    self._notify()
                vitals, pleth = Reading(t=0.0, status=Status.FINGER_OUT), None
            if len(self._out) + len(buf) > MAX_BACKLOG:
                self.frames_dropped += 1
                continue
            buf += self._encode(vitals, pleth)
            sent += 1
        self.frames_sent += sent
        if buf:
            self._send(bytes(buf))

    def _controls(self) -> None:
        while True:
            try:
                action, p = self._ctl.get_nowait()
            except queue.Empty:
                return
            now = self._clock.now()
            if action == "garbage":
                n = int(p.get("n", 64))
                if self._master >= 0:
                    self._send(bytes(self._rng.randrange(256) for _ in range(n)))
            elif action == "stall":
                self.stalled_until = now + float(p.get("seconds", 5.0))
            elif action == "disconnect":
                self._close_pty()
                secs = p.get("seconds")
                self._replug_at = None if secs is None else now + float(secs)
            elif action == "reconnect" and not self.plugged:
                self._replug_at = None
                self._open_pty()
            self._notify()

    # --- V7.0 command handling ------------------------------------------------------------

    def _handle(self, data: bytes) -> None:
        if self.protocol != cms50_v7.NAME:
            return  # the 5-byte units ignore the host (live data only)
        for cmd, args in self._cmd.feed(data):
            self.commands.append(cmd)
            self._last_command = self._clock.now()
            self._command(cmd, args)
        self._notify()

    def _pkt(self, ptype: int, data: list[int]) -> None:
        self._send(CMS50V7Codec.encode_packet(ptype, data))

    def _segments(self, user: int) -> list[StoredSession]:
        return [s for s in self.storage if s.user == user]

    def _command(self, cmd: int, a: bytes) -> None:
        v7 = cms50_v7
        if cmd == v7.CMD_START_LIVE:
            if not self.streaming:
                self._pace_from(self._clock.now())
            self.streaming = True
        elif cmd in (v7.CMD_STOP_LIVE, v7.CMD_STOP_STORAGE):
            self.streaming = False if cmd == v7.CMD_STOP_LIVE else self.streaming
            self._pkt(v7.PKG_FREE, [])
        elif cmd == v7.CMD_KEEP_ALIVE:
            self.keepalives += 1
        elif cmd == v7.CMD_DEVICE_ID:
            self._pkt(v7.PKG_DEVICE_ID, list(self.device_id.encode()[:7].ljust(7)))
        elif cmd == v7.CMD_PROTOCOL_VERSION:
            self._pkt(v7.PKG_VERSION, [0x00, 0x07])
        elif cmd == v7.CMD_MODEL_NAME:
            name = self.device_id.encode()[:12].ljust(12)
            self._pkt(v7.PKG_MODEL, [0, *name[:6]])
            self._pkt(v7.PKG_MODEL, [1, *name[6:12]])
        elif cmd == v7.CMD_VENDOR:
            self._pkt(v7.PKG_VENDOR, list(b"CONTEC "))
        elif cmd == v7.CMD_PI_SUPPORT:
            self._pkt(v7.PKG_PI_ID, [0])
        elif cmd == v7.CMD_USER_COUNT:
            self._pkt(v7.PKG_USER_COUNT, [max(1, len({s.user for s in self.storage}))])
        elif cmd == v7.CMD_STORAGE_IDS:
            self._pkt(v7.PKG_NOTICE, [1, 1 if self.storage else 0, 0, 0, 0, 0])
        elif cmd == v7.CMD_SEGMENT_COUNT:
            self._pkt(v7.PKG_SEGMENT_COUNT, [a[0], len(self._segments(a[0]))])
        elif cmd in (v7.CMD_DATA_LENGTH, v7.CMD_START_TIME, v7.CMD_SEND_STORAGE):
            segs = self._segments(a[0])
            if a[1] >= len(segs):
                self._pkt(v7.PKG_FEEDBACK, [cmd, 0xFF])
                return
            s = segs[a[1]]
            if cmd == v7.CMD_DATA_LENGTH:
                self._pkt(v7.PKG_DATA_LENGTH, [a[0], a[1], *len(s.samples).to_bytes(4, "little")])
            elif cmd == v7.CMD_START_TIME:
                d = s.start
                self._pkt(v7.PKG_START_DATE, [a[0], a[1], d.year // 100, d.year % 100, d.month,
                                              d.day])
                self._pkt(v7.PKG_START_TIME, [a[0], a[1], d.hour, d.minute, d.second, 0])
            else:
                self.streaming = False
                for k in range(0, len(s.samples), 3):
                    chunk = list(s.samples[k:k + 3])
                    chunk += [(0, 0)] * (3 - len(chunk))
                    body: list[int] = []
                    for sp, pr in chunk:
                        body += [0x7F if sp is None else sp, 0xFF if pr is None else pr]
                    self._pkt(v7.PKG_STORAGE, body)
        else:
            self._pkt(v7.PKG_FEEDBACK, [cmd, v7.REASON_NOT_SUPPORTED])


def sample_storage(start: datetime, seconds: int = 300, seed: int = 0) -> list[StoredSession]:
    """A plausible stored night fragment (with a dip, a finger-out gap and a PR above 127) so a
    download has something to carry."""
    rng = random.Random(seed)
    samples: list[tuple[int | None, int | None]] = []
    for k in range(seconds):
        if 100 <= k < 110:
            samples.append((None, None))
            continue
        dip = 8 if 150 <= k < 200 else 0
        pr = 135 if 60 <= k < 70 else 70 + rng.randrange(-3, 4)
        samples.append((max(1, 97 - dip + rng.randrange(-1, 2)), pr))
    return [StoredSession(start=start, samples=samples)]


__all__ = ["NO_PTY_MESSAGE", "StoredSession", "VirtualSerialOximeter", "frames",
           "pty_supported", "sample_storage", "steady_patient"]
