"""A virtual Bluetooth LE oximeter: the device side of the radio, whatever carries it.

A `VirtualPeripheral` advertises one catalogue profile (name + service UUIDs), serves that
profile's GATT layout, notifies readings encoded with the profile's codec (split into 20-byte
notifications where the protocol is a byte stream), answers the host's writes (O2Ring polls,
PC-60F info requests), and drops the link on cue (`drop_link`), optionally staying out of reach
for a while, or goes silent (`go_silent`) while staying connected. Two carriers serve it:
bleak backend classes (`simulators.ble.bleak_backend`) and bumble's real GATT server
(`simulators.ble.bumble_server`).
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any, Protocol

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.scanner import AdvertisementData
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakError

from drivers.catalogue_ble import PROFILES, BleProfile, uuid16
from drivers.clock import Clock
from drivers.protocols import codec_for, contec_hid, o2ring, pc60f, plx
from drivers.reading import Reading, Status


class Central(Protocol):
    """What the peripheral needs of a connected central: to be told the link is gone."""

    def link_lost(self) -> None: ...


#: Payload bytes per notification with the default ATT MTU of 23.
CHUNK = 20
#: Seconds between advertisements of a virtual peripheral.
ADV_INTERVAL = 0.1

#: Advertised names the virtual devices use (shaped like the real ones).
DEFAULT_NAMES = {
    "plx": "Oxi PLX", "nonin": "Nonin3230_502113", "berrymed": "BerryMed",
    "pc60f": "PC-60FW 1234", "o2ring": "O2Ring 2211", "jumper": "My Oximeter",
    "fs20f": "FS20F", "contec": "CMS50D-BT",
}
#: Profiles that advertise no service UUID (identified by name only), as the real ones do.
_ADV_NO_SERVICES = {"o2ring"}


@dataclass
class Characteristic:
    """One characteristic of the served GATT layout, with the value a read returns."""

    uuid: str
    props: list[str]
    handle: int
    value: bytes = b""


def _gatt_layout(p: BleProfile, variant: str) -> dict[str, list[tuple[str, list[str]]]]:
    """service → [(characteristic, properties)] for a profile."""
    if p.key == "plx" and variant == "spot":  # spot-check only, like the MightySat
        return {plx.SERVICE: [(plx.SPOT_CHECK, ["indicate"]), (plx.FEATURES, ["read"])]}
    if p.key == "plx":
        return {plx.SERVICE: [(plx.CONTINUOUS, ["notify"]), (plx.SPOT_CHECK, ["indicate"]),
                              (plx.FEATURES, ["read"])]}
    # the CMS50D-BT's service UUID is not documented; FF00 is this simulator's choice
    service = p.gatt_service or uuid16(0xFF00)
    chars = [(u, ["notify"]) for u in p.notify[:1]]
    if p.key == "contec":
        chars = [(u, ["notify"]) for u in p.notify]
    if p.write:
        chars.append((p.write, ["write", "write-without-response"]))
    return {service: chars}


class VirtualPeripheral:
    """One simulated oximeter. `readings` is any iterable of Readings (a patient model's output
    or a fixed list); each is sent `interval` s after the previous one, or at the spacing of
    their `t` when `interval` is None. `variant="spot"` makes a PLX device that only has the
    spot-check characteristic (one indication per measurement)."""

    def __init__(self, profile: str, readings: Iterable[Reading], *, clock: Clock,
                 address: str = "C0:FF:EE:00:00:01", name: str | None = None,
                 rssi: int = -60, interval: float | None = 1.0, variant: str = "") -> None:
        self.profile = PROFILES[profile]
        self.variant = variant
        self.name = name or DEFAULT_NAMES.get(profile, profile)
        self.address = address
        self.rssi = rssi
        self.clock = clock
        self.interval = interval
        self._readings: Iterator[Reading] = iter(readings)
        self.codec: Any = codec_for(self.profile.protocol)
        self._handles = itertools.count(1)
        self.gatt: dict[str, dict[str, Characteristic]] = {}
        for service, chars in _gatt_layout(self.profile, variant).items():
            next(self._handles)
            self.gatt[service] = {u: Characteristic(u, props, next(self._handles))
                                  for u, props in chars}
        if self.profile.key == "plx":
            self.gatt[plx.SERVICE][plx.FEATURES].value = plx.PlxCodec.encode_features()
        self.clients: list[Central] = []
        self.subscriptions: dict[str, list[Callable[[bytearray], None]]] = {}
        self.writes: list[tuple[str, bytes]] = []
        self.sent: list[tuple[float, str, bytes]] = []  # (time, characteristic, bytes)
        self.connections = 0
        self.unreachable_until = -1.0
        self.silent_until = -1.0
        self.powered = True
        self._last_vitals: Reading | None = None
        self._latest: Reading | None = None
        self._requests = o2ring.RequestParser()
        self._counter = 0
        self.finished = asyncio.Event()
        #: set by a real GATT server (BumbleServer): notifications go there instead
        self.sink: Callable[[str, bytes], None] | None = None
        self.sink_connected = False
        self.streaming = False  # Contec: after the host's start command

    # -- advertising ------------------------------------------------------------------------
    @property
    def advertised_services(self) -> list[str]:
        if self.profile.key in _ADV_NO_SERVICES:
            return []
        return list(self.profile.service_uuids) or list(self.gatt)

    @property
    def reachable(self) -> bool:
        return self.powered and self.clock.now() >= self.unreachable_until

    def advertisement(self) -> AdvertisementData:
        return AdvertisementData(
            local_name=self.name, manufacturer_data={}, service_data={},
            service_uuids=self.advertised_services, tx_power=None, rssi=self.rssi,
            platform_data=("virtual",))

    # -- link ---------------------------------------------------------------------------------
    def attach(self, client: Central) -> None:
        self.clients.append(client)
        self.connections += 1
        self.reset_requests()

    def reset_requests(self) -> None:
        """A new connection starts with an empty request buffer and no stream running."""
        self._requests = o2ring.RequestParser()
        self.streaming = False

    def detach(self, client: Central) -> None:
        if client in self.clients:
            self.clients.remove(client)
        self.subscriptions.clear()

    def drop_link(self, down_for: float = 0.0) -> None:
        """The device drops the connection (out of range, battery pulled) and stays out of
        reach for `down_for` seconds."""
        self.unreachable_until = self.clock.now() + down_for
        for c in list(self.clients):
            self.detach(c)
            c.link_lost()

    def go_silent(self, seconds: float) -> None:
        """Stay connected but send nothing (a hung device) for `seconds`."""
        self.silent_until = self.clock.now() + seconds

    # -- GATT -----------------------------------------------------------------------------
    def services(self) -> BleakGATTServiceCollection:
        coll = BleakGATTServiceCollection()
        handle = 0
        for suuid, chars in self.gatt.items():
            handle = min(c.handle for c in chars.values()) - 1
            svc = BleakGATTService(None, handle, suuid)
            coll.add_service(svc)
            for ch in chars.values():
                coll.add_characteristic(BleakGATTCharacteristic(
                    None, ch.handle, ch.uuid, ch.props, lambda: CHUNK, svc))
        return coll

    def characteristic(self, uuid: str) -> Characteristic:
        for chars in self.gatt.values():
            if uuid in chars:
                return chars[uuid]
        raise BleakError(f"characteristic {uuid} not found")

    def subscribe(self, uuid: str, callback: Callable[[bytearray], None]) -> None:
        ch = self.characteristic(uuid)
        if not {"notify", "indicate"} & set(ch.props):
            raise BleakError(f"characteristic {uuid} cannot notify")
        self.subscriptions.setdefault(uuid, []).append(callback)

    def unsubscribe(self, uuid: str) -> None:
        self.subscriptions.pop(uuid, None)

    def read(self, uuid: str) -> bytes:
        ch = self.characteristic(uuid)
        if "read" not in ch.props:
            raise BleakError(f"characteristic {uuid} is not readable")
        return ch.value

    def write(self, uuid: str, data: bytes) -> None:
        ch = self.characteristic(uuid)
        if not {"write", "write-without-response"} & set(ch.props):
            raise BleakError(f"characteristic {uuid} is not writable")
        self.writes.append((uuid, bytes(data)))
        if self.profile.key == "o2ring":
            for cmd, _blk, _payload in self._requests.feed(data):
                self._answer_o2ring(cmd)
        elif self.profile.key == "contec":
            # live data flows only after the host asks for it, and stops when told
            if contec_hid.START_MEASUREMENTS in data or contec_hid.START_WAVE in data:
                self.streaming = True
            if contec_hid.STOP_LIVE in data:
                self.streaming = False
        elif self.profile.key == "pc60f" and bytes(data) == pc60f.ASK_INFO:
            self._notify_stream(pc60f.frame(pc60f.TOKEN_INFO, 0x01,
                                            bytes([1, 0, 1]) + self.name.encode()[:16]))

    def _answer_o2ring(self, cmd: int) -> None:
        if cmd == o2ring.CMD_READ_SENSORS:
            r = self._latest or Reading(t=0, status=Status.SEARCHING)
            self._notify_stream(o2ring.O2RingCodec.encode_sensors(r))
        elif cmd == o2ring.CMD_INFO:
            self._notify_stream(o2ring.response(b'{"SN":"VIRTUAL0001"}'))
        else:
            self._notify_stream(o2ring.response(b"", status=1))

    @property
    def connected(self) -> bool:
        return bool(self.clients) or (self.sink is not None and self.sink_connected)

    def notify(self, uuid: str, data: bytes) -> None:
        """Deliver one notification to the subscribers (at the event loop's next turn)."""
        if self.clock.now() < self.silent_until or not self.connected:
            return
        self.sent.append((self.clock.now(), uuid, bytes(data)))
        if self.sink is not None:
            self.sink(uuid, bytes(data))
            return
        loop = asyncio.get_running_loop()
        for cb in list(self.subscriptions.get(uuid, ())):
            loop.call_soon(cb, bytearray(data))

    def _notify_stream(self, data: bytes, uuid: str | None = None) -> None:
        uuid = uuid or self.profile.notify[0]
        for k in range(0, len(data), CHUNK):
            self.notify(uuid, data[k:k + CHUNK])

    # -- the device's own loop ------------------------------------------------------------------
    def _merge(self, r: Reading) -> Reading:
        """Vitals for protocols that carry them beside every wave sample."""
        if not r.wave_only:
            self._last_vitals = r
            return r
        base = self._last_vitals or Reading(t=r.t, status=Status.SEARCHING)
        return replace(base, t=r.t, pleth=r.pleth, pleth_rate=r.pleth_rate,
                       status=(base.status & ~Status.BEAT) | (r.status & Status.BEAT),
                       wave_only=False)

    def emit(self, r: Reading) -> None:
        """Send one reading the way this device would."""
        key = self.profile.key
        self._latest = self._merge(r) if r.wave_only else r
        if not r.wave_only:
            self._last_vitals = r
        if key == "o2ring":
            return  # answers polls only
        if key == "plx":
            if not r.wave_only:
                if self.variant == "spot":
                    self.notify(plx.SPOT_CHECK, self.codec.encode_spot(r))
                else:
                    self.notify(plx.CONTINUOUS, self.codec.encode(r))
            return
        if key == "nonin":
            if not r.wave_only:
                self._counter += 1
                self.notify(self.profile.notify[0], self.codec.encode(r, counter=self._counter))
            return
        if key == "berrymed":
            data = self.codec.encode(self._merge(r))
            self._notify_stream(data)
            return
        if key == "contec":
            if self.streaming:
                self._notify_stream(self.codec.encode(r), self.profile.notify[0])
            return
        data = self.codec.encode(r)
        if data:
            self._notify_stream(data)

    async def run(self) -> None:
        """Send the readings on the clock until they run out."""
        last_t: float | None = None
        try:
            for r in self._readings:
                if self.interval is not None:
                    await self.clock.sleep(self.interval)
                elif last_t is not None:
                    await self.clock.sleep(max(0.0, r.t - last_t))
                last_t = r.t
                if self.connected:
                    self.emit(r)
                else:
                    self._latest = r
        finally:
            self.finished.set()
