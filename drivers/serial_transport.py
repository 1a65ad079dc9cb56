"""Serial oximeters (Contec CMS50 V7.0 and the old 5-byte protocol) as a live `Source`.

Why a reader thread: pyserial's blocking `read` with a short timeout works the same on Linux,
macOS and Windows COM ports, while its asyncio transport is POSIX-only. The thread only moves
bytes; decoding, keep-alives, stale detection and reconnecting happen in the event loop, timed by
the injected `Clock`. The loop itself (`LinkSource`) is shared with the USB-HID transport.

URI forms: `serial:auto`, `serial:/dev/ttyUSB0`, `serial:COM3`, with options
`?protocol=cms50-v7|cms50-legacy` (skip detection), `parity=O|N|E` (5-byte protocol),
`stale=SECONDS`, `lost=SECONDS`, `probe=SECONDS` (how long detection listens per try).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import stat
import sys
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from drivers.catalogue_serial import serial_candidates
from drivers.clock import Clock, RealClock
from drivers.errors import ProtocolError, SourceError
from drivers.options import number_option
from drivers.protocols import cms50_legacy, cms50_v7
from drivers.reading import LinkEvent, LinkState, Reading, SourceItem
from drivers.safe_files import kind_of, os_reason

SERIAL_PROTOCOLS = (cms50_v7.NAME, cms50_legacy.NAME)
READ_TIMEOUT = 0.1  # s: how long the reader thread blocks before checking for a stop
PROBE_TIMEOUT = 1.0  # s: V7.0 devices answer within 1 s (spec §3.4)
TICK = 0.25  # s: how often keep-alive and staleness are checked
BACKOFF = (0.25, 0.5, 1.0, 2.0)  # s between reopen attempts, last one repeats
#: What the `stale=`, `lost=` and `probe=` options accept (seconds): a silent device must be
#: noticed (the alarm standard allows at most 30 s of old data, alarms.toml), and a probe long
#: enough for the slowest device but not so long that start-up seems to hang.
STALE_RANGE = (0.5, 30.0)
LOST_RANGE = (1.0, 120.0)
PROBE_RANGE = (0.1, 10.0)


#: blocking device I/O (probe, download) waits in real time, whatever clock drives the rest
_REAL = RealClock()

class Port(Protocol):
    """A byte pipe to a device. `read` blocks at most `timeout` and raises OSError (or
    pyserial's SerialException, an OSError) when the device is gone."""

    def read(self, timeout: float) -> bytes: ...

    def write(self, data: bytes) -> None: ...

    def close(self) -> None: ...


@dataclass
class Link:
    """One open connection: the port, the codec decoding it, what to send when."""

    port: Port
    codec: Any
    device: str
    rate: float
    keepalive: bytes | None = None
    stop: bytes | None = None
    protocol: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


# --- pyserial ports --------------------------------------------------------------------------


class SerialPort:
    def __init__(self, path: str, baudrate: int, parity: str = "N") -> None:
        import serial

        try:
            self._s = serial.Serial(path, baudrate=baudrate, bytesize=8, parity=parity,
                                    stopbits=1, timeout=READ_TIMEOUT, write_timeout=1.0,
                                    xonxoff=False, rtscts=False, dsrdtr=False)
        except (OSError, ValueError) as e:
            raise SourceError(f"serial:{path}: cannot open ({_open_reason(e)})") from None
        self.path = path

    def read(self, timeout: float) -> bytes:
        """Blocks at most READ_TIMEOUT whatever `timeout` asks: changing pyserial's timeout
        reconfigures the port each time, which some drivers (and ptys) reject."""
        s = self._s
        waiting = s.in_waiting
        data = s.read(waiting or 1)
        if not data and not os.path.exists(self.path) and sys.platform != "win32":
            raise OSError(f"{self.path} disappeared")
        return data

    def write(self, data: bytes) -> None:
        self._s.write(data)

    def reset_input(self) -> None:
        with contextlib.suppress(OSError):
            self._s.reset_input_buffer()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._s.close()


def _open_reason(e: BaseException) -> str:
    code = getattr(e, "errno", None)
    if code == errno.ENOENT:
        return "no such port"
    if code in (errno.EACCES, errno.EPERM):
        return ("permission denied; on Linux add yourself to the 'dialout' group"
                if sys.platform.startswith("linux") else "permission denied")
    if code == errno.EBUSY:
        return "port busy (another program has it open)"
    return _reason(e)


def _reason(e: BaseException) -> str:
    msg = str(e).strip() or type(e).__name__
    return msg.splitlines()[0]


def check_port(path: str) -> None:
    """Refuses, with its reason, a path that exists but cannot be a serial port: a regular file,
    a FIFO, a folder, or a character device that is not a terminal (/dev/null). A missing path
    is refused too (a typo; `serial:auto` waits for a cable instead). Windows port names are
    not paths and are left to the open."""
    if sys.platform == "win32":
        return
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise SourceError(f"serial:{path}: no such port (see oxi-assist scan)") from None
    except OSError as e:
        raise SourceError(f"serial:{path}: {os_reason(e)}") from None
    if not stat.S_ISCHR(st.st_mode):
        raise SourceError(f"serial:{path}: {kind_of(st.st_mode)}, not a serial port")
    try:
        fd = os.open(path, os.O_RDWR | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError:
        return  # busy or not allowed: opening it for real says which, with advice
    try:
        tty = os.isatty(fd)
    finally:
        os.close(fd)
    if not tty:
        raise SourceError(f"serial:{path}: not a serial port (a character device that is not "
                          "a terminal)")


def resolve_port(target: str) -> str:
    """`auto` → the single CP210x port; anything else is the port name itself."""
    if target != "auto":
        return target
    found = serial_candidates()
    if not found:
        raise SourceError("serial:auto: no Contec serial cable (USB 10C4:EA60) found; name the "
                          "port, e.g. serial:/dev/ttyUSB0 or serial:COM3 (see oxi-assist scan)")
    if len(found) > 1:
        raise SourceError("serial:auto: several candidate ports ("
                          + ", ".join(c.path for c in found) + "); name one, e.g. serial:"
                          + found[0].path)
    return found[0].path


def _probe(port: SerialPort, codec: Any, need: int, timeout: float) -> bool:
    """Read until `need` live readings decode or `timeout` (real time: this is device I/O)."""
    deadline = _REAL.now() + timeout
    got = 0
    while _REAL.now() < deadline:
        got += len(codec.feed(port.read(min(READ_TIMEOUT, max(0.01,
                                                             deadline - _REAL.now())))))
        if got >= need:
            return True
    return False


def device_id(codec: Any) -> str:
    """The device identifier from a 0x04 reply the codec has framed, if one arrived."""
    for pkt in codec.packets:
        if pkt.type == cms50_v7.PKG_DEVICE_ID:
            text = pkt.data.split(b"\0")[0].decode("ascii", "replace").strip()
            return "".join(ch for ch in text if ch.isprintable())
    return ""


def connect_serial(path: str, protocol: str | None, parity: str | None = None,
                   probe_timeout: float = PROBE_TIMEOUT) -> Link:
    """Open `path` and make the device stream: V7.0 if it answers the start command, else the
    5-byte protocol at 19200 (odd parity, then none). Blocking; run it in a thread."""
    if protocol not in (None, *SERIAL_PROTOCOLS):
        raise ProtocolError(f"serial: protocol {protocol!r} is not a serial protocol "
                            f"(known: {', '.join(SERIAL_PROTOCOLS)})")
    if protocol in (None, cms50_v7.NAME):
        port = SerialPort(path, cms50_v7.BAUDRATE, "N")
        try:
            port.reset_input()
            port.write(cms50_v7.STOP_STORAGE + cms50_v7.START_LIVE
                       + cms50_v7.command(cms50_v7.CMD_DEVICE_ID))
            probe = cms50_v7.CMS50V7Codec()
            if protocol == cms50_v7.NAME or _probe(port, probe, 2, probe_timeout):
                ident = device_id(probe)
                label = f"CMS50 V7.0 {ident} on {path}" if ident else f"CMS50 V7.0 on {path}"
                return Link(port, cms50_v7.CMS50V7Codec(), label,
                            cms50_v7.NOMINAL_RATE, keepalive=cms50_v7.KEEP_ALIVE,
                            stop=cms50_v7.STOP_LIVE, protocol=cms50_v7.NAME)
        except BaseException:
            port.close()
            raise
        port.close()
    parities = [parity] if parity else ["O", "N"]
    for par in parities:
        port = SerialPort(path, cms50_legacy.BAUDRATE, par)
        try:
            port.reset_input()  # bytes buffered while nobody listened are old
            if protocol == cms50_legacy.NAME and len(parities) == 1:
                ok = True
            else:
                ok = _probe(port, cms50_legacy.CMS50LegacyCodec(), 3, probe_timeout)
            if ok:
                return Link(port, cms50_legacy.CMS50LegacyCodec(),
                            f"CMS50 (5-byte) on {path}", cms50_legacy.NOMINAL_RATE,
                            protocol=cms50_legacy.NAME, extra={"parity": par})
        except BaseException:
            port.close()
            raise
        port.close()
    raise SourceError(f"serial:{path}: no Contec oximeter answered (tried V7.0 at 115200 "
                      "8N1 and the 5-byte protocol at 19200)")


# --- the live loop ---------------------------------------------------------------------------


class _Reader(threading.Thread):
    """Moves bytes from a port into the event loop; stops on a flag or when the port fails."""

    def __init__(self, link: Link, gen: int, loop: asyncio.AbstractEventLoop,
                 q: asyncio.Queue[tuple[str, int, Any]]) -> None:
        super().__init__(daemon=True, name=f"oxi-reader-{link.device}")
        self.link, self.gen, self.loop, self.q = link, gen, loop, q
        self.stop_flag = threading.Event()

    def _post(self, kind: str, payload: Any) -> None:
        with contextlib.suppress(RuntimeError):  # loop closed during shutdown
            self.loop.call_soon_threadsafe(self.q.put_nowait, (kind, self.gen, payload))

    def run(self) -> None:
        port = self.link.port
        while not self.stop_flag.is_set():
            try:
                data = port.read(READ_TIMEOUT)
            except Exception as e:  # the device is gone (unplugged, port closed)
                if not self.stop_flag.is_set():
                    self._post("error", _reason(e))
                return
            if data:
                self._post("data", data)


class LinkSource:
    """A device link as a `Source`: connects (retrying with backoff), decodes, keeps the device
    streaming, and reports every change as a `LinkEvent`: CONNECTING, CONNECTED, STALE (no data
    for `stale_after` s), LOST (an error, or no data for `lost_after` s), RECONNECTING, CLOSED.
    """

    def __init__(self, name: str, clock: Clock, connect: Callable[[], Link], *,
                 stale_after: float = 3.0, lost_after: float = 10.0,
                 keepalive_every: float = 5.0) -> None:
        self.name = name
        self.clock = clock
        self._connect = connect
        self.stale_after = stale_after
        self.lost_after = lost_after
        self.keepalive_every = keepalive_every
        self.link: Link | None = None
        self.keepalives_sent = 0
        self._closed = False
        self._wake: asyncio.Event | None = None
        self._q: asyncio.Queue[tuple[str, int, Any]] | None = None
        self._reader: _Reader | None = None

    @property
    def codec(self) -> Any:
        return self.link.codec if self.link else None

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._q is not None:
            self._q.put_nowait(("close", -1, None))
        if self._wake is not None:
            self._wake.set()
        await asyncio.to_thread(self._teardown)

    def _teardown(self) -> None:
        reader, link = self._reader, self.link
        self._reader = None
        if reader is not None:
            reader.stop_flag.set()
        if link is not None:
            if link.stop:
                with contextlib.suppress(Exception):
                    link.port.write(link.stop)
            link.port.close()
        if reader is not None and reader is not threading.current_thread():
            reader.join(timeout=1.0)

    def _event(self, state: LinkState, reason: str = "") -> LinkEvent:
        return LinkEvent(self.clock.now(), state, reason,
                         self.link.device if self.link else self.name)

    async def _ticker(self) -> None:
        assert self._q is not None
        while not self._closed:
            await self.clock.sleep(TICK)
            self._q.put_nowait(("tick", -1, None))

    async def _sleep_or_close(self, seconds: float) -> None:
        assert self._wake is not None
        sleeper = asyncio.ensure_future(self.clock.sleep(seconds))
        waker = asyncio.ensure_future(self._wake.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            sleeper.cancel()
            waker.cancel()

    async def __aiter__(self) -> AsyncIterator[SourceItem]:
        loop = asyncio.get_running_loop()
        self._q = q = asyncio.Queue()
        self._wake = asyncio.Event()
        ticker = asyncio.ensure_future(self._ticker())
        gen = 0
        try:
            yield self._event(LinkState.CONNECTING)
            attempt = 0
            announced = False  # LOST/RECONNECTING already said for this outage
            while not self._closed:
                # ---- connect, with backoff ----
                try:
                    self.link = await asyncio.to_thread(self._connect)
                except Exception as e:  # any failure to open is retried, never fatal
                    if not announced:
                        announced = True
                        yield self._event(LinkState.LOST, _reason(e))
                        yield self._event(LinkState.RECONNECTING, "retrying")
                    await self._sleep_or_close(BACKOFF[min(attempt, len(BACKOFF) - 1)])
                    attempt += 1
                    continue
                if self._closed:
                    break
                attempt = 0
                announced = False
                gen += 1
                self._reader = _Reader(self.link, gen, loop, q)
                self._reader.start()
                yield self._event(LinkState.CONNECTED, self.link.protocol)
                # ---- stream ----
                now = self.clock.now()
                last_data = last_ka = now
                last_t = float("-inf")
                stale = False
                lost_reason = ""
                while not self._closed and not lost_reason:
                    kind, g, payload = await q.get()
                    if kind == "close":
                        break
                    if g not in (-1, gen):
                        continue  # left over from an earlier connection
                    now = self.clock.now()
                    if kind == "tick":
                        link = self.link
                        if link.keepalive and now - last_ka >= self.keepalive_every:
                            last_ka = now
                            try:
                                link.port.write(link.keepalive)
                                self.keepalives_sent += 1
                            except Exception as e:
                                lost_reason = _reason(e)
                                continue
                        if now - last_data >= self.lost_after:
                            lost_reason = f"no data for {self.lost_after:g} s"
                        elif not stale and now - last_data >= self.stale_after:
                            stale = True
                            yield self._event(LinkState.STALE,
                                              f"no data for {self.stale_after:g} s")
                    elif kind == "error":
                        lost_reason = str(payload)
                    elif kind == "data":
                        readings: list[Reading] = self.link.codec.feed(payload)
                        if not readings:
                            continue
                        last_data = now
                        if stale:
                            stale = False
                            yield self._event(LinkState.CONNECTED, "data again")
                        n = len(readings)
                        step = 1.0 / self.link.rate
                        for i, r in enumerate(readings):
                            t = max(now - (n - 1 - i) * step, last_t)
                            last_t = t
                            yield replace(r, t=t)
                if self._closed:
                    break
                yield self._event(LinkState.LOST, lost_reason)
                await asyncio.to_thread(self._teardown)
                self.link = None
                announced = True
                yield self._event(LinkState.RECONNECTING, "reopening")
            yield LinkEvent(self.clock.now(), LinkState.CLOSED, "closed", self.name)
        finally:
            ticker.cancel()
            self._closed = True
            await asyncio.to_thread(self._teardown)


def open_serial(target: str, params: dict[str, str], clock: Clock) -> LinkSource:
    """`serial:PORT|auto[?protocol=...&stale=S&lost=S]` → a live Source.

    Errors a user can fix now (a path that is not a serial port, several candidate ports, a
    bad option) are raised here. No cable yet with `serial:auto`, or a device unplugged later,
    is looked for again with backoff (LOST, RECONNECTING while the guidance runs), never an
    exception in the live session.
    """
    protocol = params.get("protocol") or None
    if protocol is not None and protocol not in SERIAL_PROTOCOLS:
        raise ProtocolError(f"serial: protocol {protocol!r} is not a serial protocol "
                            f"(known: {', '.join(SERIAL_PROTOCOLS)})")
    parity = (params.get("parity") or "").upper() or None
    if parity not in (None, "O", "N", "E"):
        raise SourceError(f"serial: parity {parity!r} must be O, N or E")
    stale = number_option(params, "stale", 3.0, *STALE_RANGE, scheme="serial", unit=" s")
    lost = number_option(params, "lost", max(10.0, stale * 2), *LOST_RANGE, scheme="serial",
                         unit=" s")
    probe = number_option(params, "probe", PROBE_TIMEOUT, *PROBE_RANGE, scheme="serial",
                          unit=" s")
    unknown = sorted(set(params) - {"protocol", "parity", "stale", "lost", "probe"})
    if unknown:
        raise SourceError(f"serial: unknown option {unknown[0]!r} "
                          "(known: protocol, parity, stale, lost, probe)")
    name = f"serial:{target}"
    if target == "auto":
        found = serial_candidates()
        if len(found) > 1:  # a choice only the user can make: ask now, before the screen
            resolve_port(target)
        if found:
            name = f"serial:{found[0].path}"
        # none plugged in yet: the live loop keeps looking while the guidance runs
    else:
        check_port(target)
    state = {"protocol": protocol}

    def connect() -> Link:
        link = connect_serial(resolve_port(target), state["protocol"], parity, probe)
        state["protocol"] = link.protocol  # a replugged device speaks what it spoke before
        return link

    return LinkSource(name, clock, connect, stale_after=stale, lost_after=lost)


# --- V7.0 storage download -------------------------------------------------------------------


@dataclass
class StoredRecording:
    """One recording pulled off the device's memory: 1 Hz samples from `start` (device local
    time, no zone)."""

    user: int
    segment: int
    start: datetime | None
    samples: list[tuple[float | None, float | None, float | None]]  # (SpO2, PR, PI)
    announced: int = 0  # the length the device announced


class _V7Session:
    def __init__(self, port: SerialPort, timeout: float) -> None:
        self.port = port
        self.codec = cms50_v7.CMS50V7Codec()
        self.timeout = timeout

    def drain(self, quiet: float = 0.2) -> None:
        """Read until the line has been quiet for `quiet` s (after a stop command)."""
        deadline = _REAL.now() + 3.0
        last = _REAL.now()
        while _REAL.now() < deadline and _REAL.now() - last < quiet:
            if self.port.read(0.05):
                last = _REAL.now()
        self.codec = cms50_v7.CMS50V7Codec()

    def next_packet(self, types: set[int], timeout: float | None = None) -> cms50_v7.Packet:
        deadline = _REAL.now() + (timeout or self.timeout)
        while True:
            while self.codec.packets:
                pkt = self.codec.packets.popleft()
                if pkt.type in types:
                    return pkt
                if pkt.type == cms50_v7.PKG_FEEDBACK and pkt.data[1] != cms50_v7.REASON_DONE:
                    raise ProtocolError(f"device refused command {pkt.data[0]:#04x} "
                                        f"(reason {pkt.data[1]:#04x})")
            left = deadline - _REAL.now()
            if left <= 0:
                names = ", ".join(f"{t:#04x}" for t in sorted(types))
                raise ProtocolError(f"no reply from the device within {self.timeout:g} s "
                                    f"(waiting for package {names})")
            self.codec.feed(self.port.read(min(0.1, left)))

    def ask(self, cmd: int, *data: int, want: set[int]) -> cms50_v7.Packet:
        self.port.write(cms50_v7.command(cmd, *data))
        return self.next_packet(want)


def download_v7(path: str, *, timeout: float = 1.0,
                progress: Callable[[str], None] | None = None) -> list[StoredRecording]:
    """Pull every stored recording off a V7.0 device (spec §3.4 order: stop streams, then user,
    segment, length and start time before the data). Blocking."""
    port = SerialPort(path, cms50_v7.BAUDRATE, "N")
    say = progress or (lambda _m: None)
    try:
        s = _V7Session(port, timeout)
        port.write(cms50_v7.STOP_LIVE + cms50_v7.STOP_STORAGE)
        s.drain()
        try:
            users = s.ask(cms50_v7.CMD_USER_COUNT, want={cms50_v7.PKG_USER_COUNT}).data[0]
        except ProtocolError:
            users = 1  # single-user models may not answer the user count
        out: list[StoredRecording] = []
        for user in range(max(1, users)):
            segs = s.ask(cms50_v7.CMD_SEGMENT_COUNT, user,
                         want={cms50_v7.PKG_SEGMENT_COUNT}).data[1]
            for seg in range(segs):
                length_pkt = s.ask(cms50_v7.CMD_DATA_LENGTH, user, seg,
                                   want={cms50_v7.PKG_DATA_LENGTH})
                length = int.from_bytes(length_pkt.data[2:6], "little")
                date = s.ask(cms50_v7.CMD_START_TIME, user, seg,
                             want={cms50_v7.PKG_START_DATE}).data
                tm = s.next_packet({cms50_v7.PKG_START_TIME}).data
                try:
                    start: datetime | None = datetime(date[2] * 100 + date[3], date[4],
                                                      date[5], tm[2], tm[3], tm[4])
                except ValueError:
                    start = None  # a clock-less unit: keep the samples, no wall time
                say(f"user {user} segment {seg}: {length} samples from "
                    f"{start.isoformat(sep=' ') if start else 'an unknown time'}")
                port.write(cms50_v7.command(cms50_v7.CMD_SEND_STORAGE, user, seg))
                samples: list[tuple[float | None, float | None, float | None]] = []
                while len(samples) < length:
                    try:
                        pkt = s.next_packet({cms50_v7.PKG_STORAGE, cms50_v7.PKG_STORAGE_PI})
                    except ProtocolError:
                        break  # the device stopped early; keep what arrived
                    samples += cms50_v7.decode_storage(pkt)
                port.write(cms50_v7.command(cms50_v7.CMD_STOP_STORAGE))
                with contextlib.suppress(ProtocolError):
                    s.next_packet({cms50_v7.PKG_FREE})
                out.append(StoredRecording(user, seg, start, samples[:length], length))
        return out
    except OSError as e:  # pyserial's SerialException too: unplugged mid-transfer
        raise SourceError(f"serial:{path}: connection lost during the download "
                          f"({_reason(e)})") from None
    finally:
        port.close()
