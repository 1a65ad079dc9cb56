"""Which USB devices are candidate oximeters for the wired transports (serial and USB-HID).

Contec's older cables carry a CP210x USB-UART (10C4:EA60) and speak V7.0 or the 5-byte protocol;
newer CMS50E units are USB-HID 28E9:028A speaking the 0xEB protocol (PROTOCOLS.md §1, §4.1).
The CP210x is a generic chip, so a match is a *candidate*, not proof of an oximeter.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

CP210X = (0x10C4, 0xEA60)
CONTEC_HID = (0x28E9, 0x028A)

#: (VID, PID) → (transport, protocols to try in order)
USB_IDS: dict[tuple[int, int], tuple[str, tuple[str, ...]]] = {
    CP210X: ("serial", ("cms50-v7", "cms50-legacy")),
    CONTEC_HID: ("hid", ("contec-hid",)),
}


@dataclass(frozen=True)
class Candidate:
    transport: str  # "serial" or "hid"
    path: str  # /dev/ttyUSB0, COM3, /dev/hidraw2, or a hidapi path
    vid: int
    pid: int
    protocols: tuple[str, ...]
    description: str = ""

    @property
    def uri(self) -> str:
        return f"{self.transport}:{self.path}"

    def line(self) -> str:
        desc = f"  {self.description}" if self.description else ""
        return (f"{self.uri:<24} USB {self.vid:04X}:{self.pid:04X}  "
                f"{'/'.join(self.protocols)}{desc}")


def serial_candidates() -> list[Candidate]:
    """Serial ports whose USB IDs say Contec cable (via pyserial, on every platform)."""
    try:
        from serial.tools import list_ports
    except ImportError:  # pragma: no cover - pyserial is a core dependency
        return []
    out = []
    for p in sorted(list_ports.comports(), key=lambda p: p.device):
        ident = (p.vid, p.pid)
        if ident in USB_IDS and USB_IDS[ident][0] == "serial":
            out.append(Candidate("serial", p.device, p.vid, p.pid, USB_IDS[ident][1],
                                 p.description or ""))
    return out


def _hidraw_candidates(sys_root: Path = Path("/sys/class/hidraw")) -> list[Candidate]:
    out = []
    if not sys_root.is_dir():
        return out
    for dev in sorted(sys_root.iterdir()):
        try:
            uevent = (dev / "device" / "uevent").read_text()
        except OSError:
            continue
        fields = dict(line.split("=", 1) for line in uevent.splitlines() if "=" in line)
        hid_id = fields.get("HID_ID", "")  # e.g. 0003:000028E9:0000028A
        parts = hid_id.split(":")
        if len(parts) != 3:
            continue
        try:
            ident = (int(parts[1], 16), int(parts[2], 16))
        except ValueError:
            continue
        if ident in USB_IDS and USB_IDS[ident][0] == "hid":
            out.append(Candidate("hid", f"/dev/{dev.name}", *ident, USB_IDS[ident][1],
                                 fields.get("HID_NAME", "")))
    return out


def _hidapi_candidates() -> list[Candidate]:
    try:
        import hid  # type: ignore[import-not-found]
    except ImportError:
        return []
    out = []
    vid, pid = CONTEC_HID
    for d in hid.enumerate(vid, pid):
        path = d.get("path", b"")
        path = path.decode(errors="replace") if isinstance(path, bytes) else str(path)
        out.append(Candidate("hid", path, vid, pid, USB_IDS[CONTEC_HID][1],
                             d.get("product_string") or ""))
    return out


def hid_backend() -> str | None:
    """'hidraw' on Linux, 'hidapi' where that package is installed, else None."""
    if sys.platform.startswith("linux") and os.path.isdir("/sys/class/hidraw"):
        return "hidraw"
    try:
        import hid  # type: ignore[import-not-found]  # noqa: F401
    except ImportError:
        return None
    return "hidapi"


def hid_candidates() -> list[Candidate]:
    if sys.platform.startswith("linux"):
        found = _hidraw_candidates()
        if found:
            return found
    return _hidapi_candidates()


NO_HID_MESSAGE = ("USB-HID access needs Linux hidraw or the 'hidapi' package "
                  "(pip install hidapi)")
