"""A virtual peripheral served through bumble's real ATT/GATT stack: over bumble's in-process
link in tests, or over a USB dongle / HCI socket for manual use with a real central (a phone
app or another computer running `oxi-assist monitor ble:auto`).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from simulators.ble.peripheral import VirtualPeripheral


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
        ch = self.peripheral.characteristic(uuid)
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
