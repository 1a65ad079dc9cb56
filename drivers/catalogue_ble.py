"""Which Bluetooth LE oximeter is this, and what must be written to it?

One `BleProfile` per protocol family: the advertised names and service UUIDs that identify it,
the GATT service and characteristics to use, and what the host writes (start commands once
after subscribing, a poll or a keep-alive on a timer). Generic UUIDs (the Nordic UART service,
FFE0, FFF0) are shared by unrelated gadgets, so on their own they never identify an oximeter in
a scan; they only confirm a device that was named or chosen.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from drivers.protocols import berrymed, contec_hid, fs20f, jumper, nonin, o2ring, pc60f, plx


def uuid16(short: int) -> str:
    return f"0000{short:04x}-0000-1000-8000-00805f9b34fb"


@dataclass(frozen=True)
class BleProfile:
    key: str
    label: str
    protocol: str  # codec name in drivers.protocols
    name_patterns: tuple[str, ...]  # regular expressions, case-insensitive, on the local name
    service_uuids: tuple[str, ...]  # advertised services that identify the family on their own
    gatt_service: str | None  # None: the characteristics may sit in any service
    notify: tuple[str, ...]  # characteristics to subscribe to (those the device has)
    write: str | None = None
    start: tuple[bytes, ...] = ()  # written once after subscribing, in order
    poll: bytes | None = None  # written every poll_interval s (request/response protocols)
    poll_interval: float = 1.0
    keepalive: bytes | None = None  # written every keepalive_interval s while streaming
    keepalive_interval: float = 5.0
    read_on_connect: tuple[str, ...] = ()  # characteristics read once (e.g. PLX features)
    stale_after: float = 5.0  # no valid frame for this long → STALE and a forced reconnect
    mac_prefixes: tuple[str, ...] = ()  # OUI prefixes that identify the family
    confidence: str = "S"  # V verified, S single source, U unverified (PROTOCOLS.md marks)

    def matches_name(self, name: str | None) -> bool:
        return bool(name) and any(re.search(p, name or "", re.IGNORECASE)
                                  for p in self.name_patterns)

    def matches_services(self, uuids: list[str] | tuple[str, ...]) -> bool:
        have = {u.lower() for u in uuids}
        return any(u in have for u in self.service_uuids)


PROFILES: dict[str, BleProfile] = {p.key: p for p in (
    BleProfile(
        key="plx", label="Bluetooth SIG Pulse Oximeter", protocol="plx",
        name_patterns=(), service_uuids=(plx.SERVICE,), gatt_service=plx.SERVICE,
        notify=(plx.CONTINUOUS, plx.SPOT_CHECK), read_on_connect=(plx.FEATURES,),
        confidence="V"),
    BleProfile(
        key="nonin", label="Nonin 3230", protocol="nonin",
        name_patterns=(r"^Nonin",), service_uuids=(nonin.SERVICE,), gatt_service=nonin.SERVICE,
        notify=(nonin.MEASUREMENT,), write=nonin.CONTROL_POINT, confidence="V"),
    BleProfile(
        key="berrymed", label="BerryMed BM1000", protocol="berrymed",
        name_patterns=(r"^BerryMed",), service_uuids=(), gatt_service=berrymed.SERVICE,
        notify=(berrymed.NOTIFY,), write=berrymed.WRITE, mac_prefixes=("00:A0:50",),
        stale_after=3.0, confidence="V"),
    BleProfile(
        key="pc60f", label="Viatom PC-60F", protocol="pc60f",
        name_patterns=(r"^PC-60", r"^POD-1", r"^OxySmart", r"^KS-60F", r"^PC60F"),
        service_uuids=(), gatt_service=pc60f.SERVICE, notify=(pc60f.NOTIFY, pc60f.ALT_NOTIFY),
        write=pc60f.WRITE, confidence="V"),
    BleProfile(
        key="o2ring", label="Viatom O2Ring / Checkme O2", protocol="o2ring",
        # "O2Ring S" speaks the newer OxyII protocol: not this profile
        name_patterns=(r"^O2Ring(?! S\b)", r"^Checkme O2", r"^KidsO2", r"^BabyO2",
                       r"^SleepU", r"^SleepO2", r"^WearO2", r"^Oxylink"),
        service_uuids=(o2ring.SERVICE,), gatt_service=o2ring.SERVICE, notify=(o2ring.NOTIFY,),
        write=o2ring.WRITE, poll=o2ring.POLL, poll_interval=1.0, stale_after=6.0,
        confidence="V"),
    BleProfile(
        key="jumper", label="Jumper JPD-500 / My Oximeter", protocol="jumper",
        name_patterns=(r"^My Oximeter", r"^JPD-500", r"^Jumper"),
        service_uuids=(jumper.SERVICE,), gatt_service=jumper.SERVICE, notify=(jumper.NOTIFY,),
        confidence="S"),
    BleProfile(
        key="fs20f", label="Wellue FS20F / Yuwell", protocol="fs20f",
        name_patterns=(r"FS20F", r"^Yuwell"), service_uuids=(), gatt_service=fs20f.SERVICE,
        notify=(fs20f.NOTIFY,), confidence="U"),
    BleProfile(
        # CMS50D-BT: command bytes verified, advertised name and service UUID unknown, so never
        # matched by scan; chosen with ble:ADDRESS?profile=contec
        key="contec", label="Contec CMS50D-BT", protocol="contec-hid",
        name_patterns=(), service_uuids=(), gatt_service=None,
        notify=(uuid16(0xFF02), uuid16(0xFF04)), write=uuid16(0xFF01),
        start=(contec_hid.START_WAVE, contec_hid.START_MEASUREMENTS),
        keepalive=contec_hid.KEEP_ALIVE, keepalive_interval=5.0, confidence="U"),
)}


def match(name: str | None, service_uuids: list[str] | tuple[str, ...] = (),
          address: str | None = None) -> BleProfile | None:
    """The profile an advertisement identifies, or None. Service UUIDs win over names (they
    are specific); then names; then a vendor MAC prefix together with a generic name."""
    for p in PROFILES.values():
        if p.matches_services(service_uuids):
            return p
    for p in PROFILES.values():
        if p.matches_name(name):
            return p
    if address:
        up = address.upper()
        for p in PROFILES.values():
            if any(up.startswith(m) for m in p.mac_prefixes):
                return p
    return None


def match_gatt(services: dict[str, set[str]]) -> BleProfile | None:
    """The profile a connected device's GATT table identifies ({service: {characteristics}}),
    for a device chosen by address whose advertisement said nothing useful."""
    lowered = {s.lower(): {c.lower() for c in cs} for s, cs in services.items()}
    for p in PROFILES.values():
        if p.gatt_service is None:
            continue
        chars = lowered.get(p.gatt_service)
        if chars is not None and any(n in chars for n in p.notify):
            return p
    # the PC-60F relatives with FFF0 / FFF1
    for s, chars in lowered.items():
        if pc60f.ALT_NOTIFY in chars and s == pc60f.ALT_SERVICE:
            return PROFILES["pc60f"]
    return None


def profile(key: str) -> BleProfile:
    from drivers.errors import SourceError

    try:
        return PROFILES[key]
    except KeyError:
        raise SourceError(f"unknown BLE profile {key!r} (known: {', '.join(PROFILES)})") \
            from None
