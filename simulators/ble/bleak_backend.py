"""Virtual peripherals reached through bleak's own API, with no radio.

`VirtualAir` is the radio space: it holds virtual peripherals and hands out bleak backend
classes (`air.scanner_backend()`, `air.client_backend()`) to pass as `backend=` to
`BleakScanner` / `BleakClient` (or to `open_ble`). Everything above the backend — BleakScanner,
BleakClient, bleak-retry-connector's `establish_connection`, the transport — is the real code.

What the bleak backend does not model: the radio itself (ATT MTU exchange, connection
intervals, packet loss), pairing, and the BlueZ/CoreBluetooth/WinRT quirks; the bumble server
(`simulators.ble.bumble_server`) covers the ATT/GATT stack.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.backends.client import BaseBleakClient
from bleak.backends.descriptor import BleakGATTDescriptor
from bleak.backends.device import BLEDevice
from bleak.backends.scanner import BaseBleakScanner
from bleak.exc import BleakBluetoothNotAvailableError, BleakBluetoothNotAvailableReason, BleakError

from drivers.clock import Clock, RealClock
from simulators.ble.peripheral import ADV_INTERVAL, CHUNK, VirtualPeripheral


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

    def link_lost(self) -> None:
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
