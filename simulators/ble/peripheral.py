"""A virtual Bluetooth LE oximeter, reached through bleak's own API.

`VirtualAir` is the radio space: it holds virtual peripherals and hands out bleak backend
classes (`air.scanner_backend()`, `air.client_backend()`) to pass as `backend=` to
`BleakScanner` / `BleakClient` (or to `open_ble`). Everything above the backend — BleakScanner,
BleakClient, bleak-retry-connector's `establish_connection`, the transport — is the real code.

A `VirtualPeripheral` advertises one catalogue profile (name + service UUIDs), serves that
profile's GATT layout, notifies readings encoded with the profile's codec (split into 20-byte
notifications where the protocol is a byte stream), answers the host's writes (O2Ring polls,
PC-60F info requests), and drops the link on cue (`drop_link`), optionally staying out of reach
for a while, or goes silent (`go_silent`) while staying connected.

What the bleak backend does not model: the radio itself (ATT MTU exchange, connection
intervals, packet loss), pairing, and the BlueZ/CoreBluetooth/WinRT quirks. `BumbleServer`
serves the same peripheral through bumble's real ATT/GATT stack: over bumble's in-process link
in tests, or over a USB dongle / HCI socket for manual use with a real central (a phone app or
another computer running `oxi-assist monitor ble:auto`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import AdvertisementData, BaseBleakScanner
from bleak.backends.service import BleakGATTService, BleakGATTServiceCollection
from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason, BleakError

from drivers.catalogue_ble import PROFILES, BleProfile, uuid16
from drivers.clock import Clock, RealClock
from drivers.protocols import codec_for, contec_hid, o2ring, pc60f, plx
from drivers.reading import Reading, Status

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
class _Char:
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
        self.gatt: dict[str, dict[str, _Char]] = {}
        for service, chars in _gatt_layout(self.profile, variant).items():
            next(self._handles)
            self.gatt[service] = {u: _Char(u, props, next(self._handles)) for u, props in chars}
        if self.profile.key == "plx":
            self.gatt[plx.SERVICE][plx.FEATURES].value = plx.PlxCodec.encode_features()
        self.clients: list[VirtualBleakClient] = []
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
    def attach(self, client: VirtualBleakClient) -> None:
        self.clients.append(client)
        self.connections += 1
        self.reset_requests()

    def reset_requests(self) -> None:
        """A new connection starts with an empty request buffer and no stream running."""
        self._requests = o2ring.RequestParser()
        self.streaming = False

    def detach(self, client: VirtualBleakClient) -> None:
        if client in self.clients:
            self.clients.remove(client)
        self.subscriptions.clear()

    def drop_link(self, down_for: float = 0.0) -> None:
        """The device drops the connection (out of range, battery pulled) and stays out of
        reach for `down_for` seconds."""
        self.unreachable_until = self.clock.now() + down_for
        for c in list(self.clients):
            self.detach(c)
            c._lost()

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

    def _char(self, uuid: str) -> _Char:
        for chars in self.gatt.values():
            if uuid in chars:
                return chars[uuid]
        raise BleakError(f"characteristic {uuid} not found")

    def subscribe(self, uuid: str, callback: Callable[[bytearray], None]) -> None:
        ch = self._char(uuid)
        if not {"notify", "indicate"} & set(ch.props):
            raise BleakError(f"characteristic {uuid} cannot notify")
        self.subscriptions.setdefault(uuid, []).append(callback)

    def unsubscribe(self, uuid: str) -> None:
        self.subscriptions.pop(uuid, None)

    def read(self, uuid: str) -> bytes:
        ch = self._char(uuid)
        if "read" not in ch.props:
            raise BleakError(f"characteristic {uuid} is not readable")
        return ch.value

    def write(self, uuid: str, data: bytes) -> None:
        ch = self._char(uuid)
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


class VirtualAir:
    """The radio space that virtual peripherals share with the bleak backends it hands out."""

    def __init__(self, clock: Clock | None = None, *, adapter: bool = True,
                 connect_timeout: float = 2.0) -> None:
        self.clock = clock or RealClock()
        self.adapter = adapter  # False: behave like a machine without a Bluetooth adapter
        #: a connect to a device out of reach fails after this long, as a radio's would
        self.connect_timeout = connect_timeout
        self.peripherals: dict[str, VirtualPeripheral] = {}
        self.scanners: list[VirtualBleakScanner] = []

    def add(self, p: VirtualPeripheral) -> VirtualPeripheral:
        self.peripherals[p.address.upper()] = p
        for s in self.scanners:
            s._see(p)
        return p

    def find(self, address: str) -> VirtualPeripheral | None:
        return self.peripherals.get(address.upper())

    def _check_adapter(self) -> None:
        if not self.adapter:
            raise BleakBluetoothNotAvailableError(
                "No Bluetooth adapters found.", BleakBluetoothNotAvailableReason.NO_BLUETOOTH)

    def scanner_backend(self) -> type[VirtualBleakScanner]:
        return type("VirtualBleakScanner", (VirtualBleakScanner,), {"air": self})

    def client_backend(self) -> type[VirtualBleakClient]:
        return type("VirtualBleakClient", (VirtualBleakClient,), {"air": self})


class VirtualBleakScanner(BaseBleakScanner):
    """bleak scanner backend over a VirtualAir: advertisements of reachable peripherals."""

    air: VirtualAir

    def __init__(self, detection_callback: Any, service_uuids: list[str] | None,
                 scanning_mode: str = "active", **kwargs: Any) -> None:
        super().__init__(detection_callback, service_uuids)
        self._scanning = False
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.air._check_adapter()
        self.seen_devices = {}
        self._scanning = True
        self.air.scanners.append(self)
        for p in list(self.air.peripherals.values()):
            self._see(p)
        self._task = asyncio.create_task(self._advertising())

    async def _advertising(self) -> None:
        """Peripherals advertise again and again, as real ones do (every ADV_INTERVAL s)."""
        while self._scanning:
            await self.air.clock.sleep(ADV_INTERVAL)
            for p in list(self.air.peripherals.values()):
                self._see(p)

    async def stop(self) -> None:
        self._scanning = False
        if self._task is not None:
            self._task.cancel()
            self._task = None
        if self in self.air.scanners:
            self.air.scanners.remove(self)

    def _see(self, p: VirtualPeripheral) -> None:
        if not self._scanning or not p.reachable:
            return
        adv = p.advertisement()
        if not self.is_allowed_uuid(adv.service_uuids):
            return
        dev = self.create_or_update_device(p.address, p.address, p.name, {"virtual": True}, adv)
        self.call_detection_callbacks(dev, adv)


class VirtualBleakClient(BaseBleakClient):
    """bleak client backend over a VirtualAir: GATT operations go to the peripheral."""

    air: VirtualAir

    def __init__(self, address_or_ble_device: BLEDevice | str, **kwargs: Any) -> None:
        super().__init__(address_or_ble_device,
                         disconnected_callback=kwargs.pop("disconnected_callback", None),
                         timeout=kwargs.pop("timeout", 10.0))
        self._peripheral: VirtualPeripheral | None = None
        self._connected = False

    @property
    def name(self) -> str:
        p = self.air.find(self.address)
        return p.name if p else self.address

    @property
    def mtu_size(self) -> int:
        return CHUNK + 3

    async def connect(self, pair: bool = False, **kwargs: Any) -> None:
        self.air._check_adapter()
        await asyncio.sleep(0)
        p = self.air.find(self.address)
        if p is None or not p.reachable:
            await self.air.clock.sleep(self.air.connect_timeout)
            raise TimeoutError(f"connecting to {self.address} timed out")
        p.attach(self)
        self._peripheral = p
        self._connected = True
        self.services = p.services()

    async def disconnect(self) -> None:
        if self._peripheral is not None and self._connected:
            self._peripheral.detach(self)
        self._connected = False

    def _lost(self) -> None:
        """The peripheral dropped the link: tell bleak's user at the loop's next turn."""
        self._connected = False
        if self._disconnected_callback is not None:
            asyncio.get_running_loop().call_soon(self._disconnected_callback)

    async def pair(self, *args: Any, **kwargs: Any) -> None:
        return None

    async def unpair(self) -> None:
        return None

    @property
    def is_connected(self) -> bool:
        return self._connected

    def _need(self) -> VirtualPeripheral:
        if not self._connected or self._peripheral is None:
            raise BleakError("Not connected")
        return self._peripheral

    async def read_gatt_char(self, characteristic: BleakGATTCharacteristic, *,
                             use_cached: bool = False, **kwargs: Any) -> bytearray:
        return bytearray(self._need().read(characteristic.uuid))

    async def read_gatt_descriptor(self, descriptor: BleakGATTDescriptor, *,
                                   use_cached: bool = False, **kwargs: Any) -> bytearray:
        raise BleakError("descriptors are not modelled")

    async def write_gatt_char(self, characteristic: BleakGATTCharacteristic, data: Any,
                              response: bool) -> None:
        self._need().write(characteristic.uuid, bytes(data))

    async def write_gatt_descriptor(self, descriptor: BleakGATTDescriptor, data: Any) -> None:
        raise BleakError("descriptors are not modelled")

    async def start_notify(self, characteristic: BleakGATTCharacteristic,
                           callback: Callable[[bytearray], None], **kwargs: Any) -> None:
        self._need().subscribe(characteristic.uuid, callback)

    async def stop_notify(self, characteristic: BleakGATTCharacteristic) -> None:
        self._need().unsubscribe(characteristic.uuid)



# -- a real GATT server: the same peripheral served by the bumble stack --------------------------
class BumbleServer:
    """Serves a `VirtualPeripheral` through bumble: real advertising PDUs, a real ATT/GATT
    server (CCCD subscriptions, 20-byte notifications at the default MTU, write requests).
    With `open(..., transport="usb:0")` a USB Bluetooth dongle becomes the oximeter, so another
    machine (or this one, through its own adapter) can connect with `oxi-assist ... ble:auto`;
    tests run two bumble devices over bumble's in-process link. Needs the `bumble` package
    (the `virtual-ble` extra)."""

    def __init__(self, peripheral: VirtualPeripheral, device: Any) -> None:
        from bumble.att import Attribute
        from bumble.gatt import Characteristic, CharacteristicValue, Service

        self.peripheral = peripheral
        self.device = device
        self.chars: dict[str, Any] = {}
        self._queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
        self._sender: asyncio.Task[None] | None = None
        props_map = {"read": Characteristic.Properties.READ,
                     "write": Characteristic.Properties.WRITE,
                     "write-without-response": Characteristic.Properties.WRITE_WITHOUT_RESPONSE,
                     "notify": Characteristic.Properties.NOTIFY,
                     "indicate": Characteristic.Properties.INDICATE}
        services = []
        for suuid, chars in peripheral.gatt.items():
            cs = []
            for ch in chars.values():
                props = Characteristic.Properties(0)
                for name in ch.props:
                    props |= props_map[name]
                perms = Attribute.Permissions(0)
                if "read" in ch.props or {"notify", "indicate"} & set(ch.props):
                    perms |= Attribute.Permissions.READABLE
                if {"write", "write-without-response"} & set(ch.props):
                    perms |= Attribute.Permissions.WRITEABLE
                value = CharacteristicValue(
                    read=lambda _conn, u=ch.uuid: self._read(u),
                    write=lambda _conn, data, u=ch.uuid: self.peripheral.write(u, bytes(data)))
                c = Characteristic(ch.uuid, props, perms, value)
                self.chars[ch.uuid] = c
                cs.append(c)
            services.append(Service(suuid, cs))
        device.add_services(services)
        device.on("connection", self._on_connection)
        peripheral.sink = self._queue_notify

    def _read(self, uuid: str) -> bytes:
        ch = self.peripheral._char(uuid)
        return ch.value

    def _on_connection(self, connection: Any) -> None:
        self.peripheral.sink_connected = True
        self.peripheral.connections += 1
        self.peripheral.reset_requests()
        connection.on("disconnection", self._on_disconnection)

    def _on_disconnection(self, *_: Any) -> None:
        self.peripheral.sink_connected = False

    def _queue_notify(self, uuid: str, data: bytes) -> None:
        self._queue.put_nowait((uuid, data))

    async def _send(self) -> None:
        """Notifications in order; indications wait for the central's confirmation."""
        while True:
            uuid, data = await self._queue.get()
            c = self.chars[uuid]
            try:
                if c.properties & c.Properties.INDICATE and not c.properties & c.Properties.NOTIFY:
                    await self.device.indicate_subscribers(c, data)
                else:
                    await self.device.notify_subscribers(c, data)
            except Exception:  # a central gone mid-send: drop the value, keep serving
                continue

    def advertising_data(self) -> tuple[bytes, bytes]:
        """(advertising data, scan response). The name goes in the advertisement, as the
        fingertip units do (it is what identifies most of them); service UUIDs follow when
        they fit in the 31-byte PDU, else they go in the scan response."""
        from bumble.core import UUID, AdvertisingData

        name = self.peripheral.name.encode()[:26]
        ad: list[tuple[int, bytes]] = [(AdvertisingData.FLAGS, bytes([0x06])),
                                       (AdvertisingData.COMPLETE_LOCAL_NAME, name)]
        scan: list[tuple[int, bytes]] = []
        uuids = [UUID(u) for u in self.peripheral.advertised_services]
        for kind, group in (
                (AdvertisingData.COMPLETE_LIST_OF_16_BIT_SERVICE_CLASS_UUIDS,
                 [u.to_bytes() for u in uuids if len(u.to_bytes()) == 2]),
                (AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS,
                 [u.to_bytes(force_128=True) for u in uuids if len(u.to_bytes()) != 2])):
            if not group:
                continue
            field = (kind, b"".join(group))
            used = sum(2 + len(v) for _, v in ad)
            (ad if used + 2 + len(field[1]) <= 31 else scan).append(field)
        return bytes(AdvertisingData(ad)), bytes(AdvertisingData(scan))

    async def start(self, advertising_interval_ms: float = 100.0) -> None:
        await self.device.power_on()
        adv, scan = self.advertising_data()
        await self.device.start_advertising(
            advertising_data=adv, scan_response_data=scan, auto_restart=True,
            advertising_interval_min=advertising_interval_ms,
            advertising_interval_max=advertising_interval_ms)
        self._sender = asyncio.create_task(self._send())

    async def stop(self) -> None:
        if self._sender is not None:
            self._sender.cancel()
        self.peripheral.sink = None

    async def drop_link(self) -> None:
        """Disconnect every central (the oximeter switched off or out of range)."""
        for conn in list(self.device.connections.values()):
            with contextlib.suppress(Exception):
                await conn.disconnect()

    @classmethod
    async def open(cls, peripheral: VirtualPeripheral, transport: str) -> tuple[Any, Any]:
        """A server on a bumble transport (e.g. `usb:0`, `hci-socket:0`, `tcp-client:...`);
        returns (server, transport) — close the transport when done."""
        from bumble.device import Device
        from bumble.hci import Address
        from bumble.transport import open_transport

        t = await open_transport(transport)
        device = Device.with_hci(peripheral.name, Address("F0:F1:F2:F3:F4:F5"), t.source,
                                 t.sink)
        return cls(peripheral, device), t


# -- loopback: the virtual device and the real BLE driver in one process ----------------------
def _line(item: Reading | Any) -> str:
    if isinstance(item, Reading):
        def num(v: float | None) -> str:
            return "--" if v is None else f"{v:g}"
        flags = ",".join(item.status.names) or "-"
        return (f"{item.t:8.1f}  SpO2 {num(item.spo2):>4}  PR {num(item.pulse):>4}  "
                f"PI {num(item.pi):>5}  {flags}")
    return f"{item.t:8.1f}  link {item.state.value}: {item.reason} [{item.device}]"


async def run_loopback(profile: str, readings: Iterable[Reading], *, clock: Clock | None = None,
                       duration: float | None = None, cues: asyncio.Queue[str] | None = None,
                       out: Callable[[str], None] = print) -> int:
    """Run a virtual `profile` oximeter and connect to it with the real BLE transport
    (`drivers.ble_transport`, over this module's bleak backend), printing what arrives: a
    check of the whole driver path without a radio. Cues (`drop [S]`, `silent [S]`, `quit`)
    come from `cues`. Returns the number of vitals readings received."""
    from drivers.ble_transport import open_ble

    clock = clock or RealClock()
    air = VirtualAir(clock)
    dev = air.add(VirtualPeripheral(profile, readings, clock=clock))
    src = open_ble("auto", {"scan": "1"}, clock, scanner_backend=air.scanner_backend(),
                   client_backend=air.client_backend())
    count = 0
    last_print = -1.0

    async def consume() -> None:
        nonlocal count, last_print
        async for item in src:
            if isinstance(item, Reading):
                if item.wave_only:
                    continue
                count += 1
                if item.t - last_print < 0.99:
                    continue  # one line a second is enough to read
                last_print = item.t
            out(_line(item))

    async def cue_loop() -> None:
        while cues is not None:
            words = (await cues.get()).split()
            if not words:
                continue
            arg = float(words[1]) if len(words) > 1 else None
            if words[0] == "quit":
                return
            if words[0] == "drop":
                dev.drop_link(arg or 0.0)
            elif words[0] == "silent":
                dev.go_silent(arg or 8.0)
            else:
                out(f"unknown cue {words[0]!r} (drop [S], silent [S], quit)")
        await asyncio.Event().wait()

    tasks = [asyncio.create_task(consume()), asyncio.create_task(dev.run()),
             asyncio.create_task(cue_loop())]
    stop = [tasks[2], asyncio.create_task(dev.finished.wait())]
    if duration is not None:
        stop.append(asyncio.create_task(clock.sleep(duration)))
    try:
        await asyncio.wait([*stop, tasks[0]], return_when=asyncio.FIRST_COMPLETED)
    finally:
        await src.close()
        for t in tasks + stop:
            t.cancel()
        await asyncio.gather(*tasks, *stop, return_exceptions=True)
    return count


async def serve_bumble(profile: str, readings: Iterable[Reading], transport: str, *,
                       duration: float | None = None, cues: asyncio.Queue[str] | None = None,
                       out: Callable[[str], None] = print) -> int:
    """Be the oximeter on a real Bluetooth controller driven by bumble (`usb:0`,
    `hci-socket:0`, ...) until `duration` or a `quit` cue; `drop` disconnects the central,
    `silent [S]` stops notifications. Returns the number of connections seen."""
    from drivers.errors import SourceError

    clock = RealClock()
    dev = VirtualPeripheral(profile, readings, clock=clock)
    try:
        server, t = await BumbleServer.open(dev, transport)
    except ImportError as e:
        raise SourceError(f"virtual-device ble --hci needs the bumble package ({e.name} "
                          "missing; pip install bumble)") from None
    except Exception as e:
        raise SourceError(f"virtual-device ble: cannot open Bluetooth transport "
                          f"{transport!r}: {e}") from None
    try:
        await server.start()
        out(f"advertising as {dev.name!r} ({dev.profile.label}) on {transport}; "
            "connect with: oxi-assist monitor ble:auto")
        runner = asyncio.create_task(dev.run())
        waiters = [asyncio.create_task(dev.finished.wait())]
        if duration is not None:
            waiters.append(asyncio.create_task(asyncio.sleep(duration)))

        async def cue_loop() -> None:
            while cues is not None:
                words = (await cues.get()).split()
                if not words:
                    continue
                if words[0] == "quit":
                    return
                if words[0] == "drop":
                    await server.drop_link()
                elif words[0] == "silent":
                    dev.go_silent(float(words[1]) if len(words) > 1 else 8.0)
                else:
                    out(f"unknown cue {words[0]!r} (drop, silent [S], quit)")
            await asyncio.Event().wait()

        waiters.append(asyncio.create_task(cue_loop()))
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for w in [runner, *waiters]:
            w.cancel()
    finally:
        await server.stop()
        with contextlib.suppress(Exception):
            await t.close()
    return dev.connections


def main(profile: str, readings: Iterable[Reading], duration: float | None = None,
         hci: str | None = None) -> int:
    """Blocking entry point for the command line, cues on stdin: loopback through the real
    driver on the real clock, or with `hci` a bumble-driven controller that other machines
    connect to."""
    import sys
    import threading

    async def go() -> int:
        loop = asyncio.get_running_loop()
        cues: asyncio.Queue[str] = asyncio.Queue()

        def read_stdin() -> None:
            try:
                for line in sys.stdin:
                    loop.call_soon_threadsafe(cues.put_nowait, line.strip().lower())
            except (OSError, ValueError, RuntimeError):
                return  # no usable stdin (closed, captured, loop gone): no cues
        threading.Thread(target=read_stdin, daemon=True).start()
        if hci:
            return await serve_bumble(profile, readings, hci, duration=duration, cues=cues,
                                      out=lambda s: print(s, flush=True))
        return await run_loopback(profile, readings, duration=duration, cues=cues,
                                  out=lambda s: print(s, flush=True))

    return asyncio.run(go())
