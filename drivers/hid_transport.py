"""Contec USB-HID oximeters (CMS50E hardware 2.x, 28E9:028A, "0xEB" protocol) as a live Source.

Linux reads the kernel's hidraw node directly (no extra package); elsewhere the optional
`hidapi` package does it. Reports are 64 bytes both ways without report IDs, so a write is a
0x00 report number followed by the 64-byte report. The live loop (keep-alives every 5 s,
stale / lost detection, reopen with backoff) is `drivers.link.LinkSource`, shared with the
serial transport.

URI forms: `hid:auto`, `hid:/dev/hidraw3` (Linux), `hid:<hidapi path>`; options `stale=`,
`lost=`.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
from pathlib import Path
from typing import Any

from drivers.catalogue_serial import (
    CONTEC_HID,
    NO_HID_MESSAGE,
    hid_backend,
    hid_candidates,
)
from drivers.clock import Clock
from drivers.errors import SourceError
from drivers.link import LOST_RANGE, STALE_RANGE, Link, LinkSource
from drivers.options import number_option
from drivers.protocols import contec_hid
from drivers.safe_files import check_char_device

REPORT = contec_hid.REPORT_SIZE
#: Where Linux lists its hidraw nodes (a /dev node not listed here is some other device).
HIDRAW_CLASS = "/sys/class/hidraw"


def _report(data: bytes) -> bytes:
    """A command → one output report: report number 0, then 64 zero-padded bytes."""
    if len(data) > REPORT:
        raise ValueError("a HID command must fit one 64-byte report")
    return b"\x00" + data.ljust(REPORT, b"\x00")


class HidrawPort:
    """A hidraw character device (or anything that reads and writes whole reports on an fd)."""

    def __init__(self, path: str, fd: int | None = None) -> None:
        self.path = path
        if fd is None:
            try:
                fd = os.open(path, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
            except OSError as e:
                hint = " (no permission: add a udev rule for 28E9:028A)" \
                    if isinstance(e, PermissionError) else ""
                raise SourceError(f"hid:{path}: cannot open ({e.strerror}){hint}") from None
        self.fd = fd

    def read(self, timeout: float) -> bytes:
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return b""
        data = os.read(self.fd, REPORT)
        if not data:
            raise OSError(f"{self.path}: device gone")
        return data

    def write(self, data: bytes) -> None:
        os.write(self.fd, _report(data))

    def close(self) -> None:
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1


class HidapiPort:
    """The `hidapi` package's device (Windows, macOS, Linux without hidraw access)."""

    def __init__(self, path: str | None) -> None:
        try:
            import hid  # type: ignore[import-not-found]
        except ImportError:
            raise SourceError(f"hid: {NO_HID_MESSAGE}") from None
        self._d: Any = hid.device()
        try:
            if path:
                self._d.open_path(path.encode())
            else:
                self._d.open(*CONTEC_HID)
        except OSError as e:
            raise SourceError(f"hid:{path or 'auto'}: cannot open ({e})") from None
        self.path = path or "28E9:028A"

    def read(self, timeout: float) -> bytes:
        data = self._d.read(REPORT, int(timeout * 1000))
        return bytes(data)

    def write(self, data: bytes) -> None:
        if self._d.write(list(_report(data))) < 0:
            raise OSError("HID write failed")

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._d.close()


def resolve_hid(target: str) -> str:
    """`auto` → the single Contec HID device's path; a path is taken as given."""
    if target != "auto":
        return target
    if hid_backend() is None:
        raise SourceError(f"hid:auto: {NO_HID_MESSAGE}")
    found = hid_candidates()
    if not found:
        raise SourceError("hid:auto: no Contec USB-HID oximeter (28E9:028A) found "
                          "(see oxi-assist scan)")
    if len(found) > 1:
        raise SourceError("hid:auto: several Contec HID devices (" +
                          ", ".join(c.path for c in found) + "); name one")
    return found[0].path


def open_port(path: str) -> HidrawPort | HidapiPort:
    if path.startswith("/dev/hidraw") and sys.platform.startswith("linux"):
        return HidrawPort(path)
    return HidapiPort(path)


def connect_hid(path: str, port: Any = None) -> Link:
    """Open the device and start both live streams (amplitudes and measurements)."""
    port = port if port is not None else open_port(path)
    try:
        port.write(contec_hid.START_WAVE)
        port.write(contec_hid.START_MEASUREMENTS)
    except OSError as e:
        port.close()
        raise SourceError(f"hid:{path}: cannot start the live stream ({e})") from None
    return Link(port, contec_hid.ContecHidCodec(), f"CMS50E USB-HID on {path}",
                contec_hid.NOMINAL_RATE, keepalive=contec_hid.KEEP_ALIVE,
                stop=contec_hid.STOP_LIVE, protocol=contec_hid.NAME)


def check_hid_path(path: str) -> None:
    """Refuses, with its reason, a file-system path that cannot be a USB-HID device: missing, a
    regular file, a FIFO, a folder, or a character device that is not a hidraw node
    (/dev/null). hidapi's own device paths (not files) are left to the open."""
    if not (path.startswith("/") or os.path.exists(path)):
        return
    check_char_device(path, f"hid:{path}", "no such device (see oxi-assist scan)",
                      "a USB-HID device")
    if sys.platform.startswith("linux") and \
            not (Path(HIDRAW_CLASS) / Path(os.path.realpath(path)).name).exists():
        raise SourceError(f"hid:{path}: not a USB-HID device (hidraw)")


def open_hid(target: str, params: dict[str, str], clock: Clock) -> LinkSource:
    """`hid:auto|PATH[?stale=S&lost=S]` → a live Source.

    A path that is not a HID device, a bad option or several candidate devices are refused
    here; with `hid:auto` and no device (or no HID support) yet, the live loop keeps looking
    (LOST, RECONNECTING, with the reason) while the guidance runs."""
    stale = number_option(params, "stale", 3.0, *STALE_RANGE, scheme="hid", unit=" s")
    lost = number_option(params, "lost", max(10.0, stale * 2), *LOST_RANGE, scheme="hid",
                         unit=" s")
    unknown = sorted(set(params) - {"stale", "lost"})
    if unknown:
        raise SourceError(f"hid: unknown option {unknown[0]!r} (known: stale, lost)")
    name = f"hid:{target}"
    if target == "auto":
        found = hid_candidates() if hid_backend() is not None else []
        if len(found) > 1:  # a choice only the user can make: ask now, before the screen
            resolve_hid(target)
        if found:
            name = f"hid:{found[0].path}"
    else:
        if hid_backend() is None and not target.startswith("/dev/hidraw"):
            raise SourceError(f"hid: {NO_HID_MESSAGE}")
        check_hid_path(target)

    def connect() -> Link:
        return connect_hid(resolve_hid(target))

    return LinkSource(name, clock, connect, stale_after=stale, lost_after=lost)
