"""Serial oximeters (Contec CMS50 V7.0 and the old 5-byte protocol) as a live `Source`.

This module opens, checks and probes the port; the live loop (reader thread, keep-alives,
stale detection, reconnecting) is `drivers.link.LinkSource`, shared with the USB-HID transport,
and the stored-recording download is `drivers.serial_download`.

URI forms: `serial:auto`, `serial:/dev/ttyUSB0`, `serial:COM3`, with options
`?protocol=cms50-v7|cms50-legacy` (skip detection), `parity=O|N|E` (5-byte protocol),
`stale=SECONDS`, `lost=SECONDS`, `probe=SECONDS` (how long detection listens per try).
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys

from drivers.catalogue_serial import serial_candidates
from drivers.clock import Clock, RealClock
from drivers.errors import ProtocolError, SourceError
from drivers.link import LOST_RANGE, READ_TIMEOUT, STALE_RANGE, Link, LinkSource, error_reason
from drivers.options import number_option
from drivers.protocols import cms50_legacy, cms50_v7
from drivers.protocols.codec import Codec
from drivers.safe_files import check_char_device

SERIAL_PROTOCOLS = (cms50_v7.NAME, cms50_legacy.NAME)
PROBE_TIMEOUT = 1.0  # s: V7.0 devices answer within 1 s (spec §3.4)
#: What the `probe=` option accepts (seconds): long enough for the slowest device but not so
#: long that start-up seems to hang (`stale=` and `lost=` are the live loop's, drivers.link).
PROBE_RANGE = (0.1, 10.0)


#: blocking device I/O (probe, download) waits in real time, whatever clock drives the rest
REAL_CLOCK = RealClock()


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
    return error_reason(e)


def check_port(path: str) -> None:
    """Refuses, with its reason, a path that exists but cannot be a serial port: a regular file,
    a FIFO, a folder, or a character device that is not a terminal (/dev/null). A missing path
    is refused too (a typo; `serial:auto` waits for a cable instead). Windows port names are
    not paths and are left to the open."""
    if sys.platform == "win32":
        return
    check_char_device(path, f"serial:{path}", "no such port (see oxi-assist scan)",
                      "a serial port")
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


def _probe(port: SerialPort, codec: Codec, need: int, timeout: float) -> bool:
    """Read until `need` live readings decode or `timeout` (real time: this is device I/O)."""
    deadline = REAL_CLOCK.now() + timeout
    got = 0
    while REAL_CLOCK.now() < deadline:
        got += len(codec.feed(port.read(min(READ_TIMEOUT, max(0.01,
                                                             deadline - REAL_CLOCK.now())))))
        if got >= need:
            return True
    return False


def device_id(codec: cms50_v7.CMS50V7Codec) -> str:
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
