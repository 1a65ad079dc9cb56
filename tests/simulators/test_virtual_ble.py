"""The virtual BLE oximeter through bleak's public API (BleakScanner, BleakClient with the
virtual backend): advertising and scan filters, the GATT table, notifications decoded by the
profile's codec, request/response for the O2Ring, link drops reported to bleak's
disconnected_callback, and the readings reaching the signal Monitor through the transport."""

from __future__ import annotations

import asyncio

import pytest
from bleak import BleakClient, BleakScanner
from bleak.exc import BleakError

from drivers.ble_transport import open_ble
from drivers.catalogue_ble import PROFILES
from drivers.clock import VirtualClock
from drivers.protocols import codec_for, o2ring, plx
from drivers.reading import LinkState, Reading, Status
from simulators.virtual_ble import VirtualAir, VirtualPeripheral


def steady(n: int = 50) -> list[Reading]:
    return [Reading(t=float(i), spo2=96, pulse=72, pi=3.0, pleth=(20.0, 40.0, 60.0, 80.0, 60.0))
            for i in range(n)]


async def test_scanner_finds_advertisements_and_filters_by_service() -> None:
    clock = VirtualClock()
    air = VirtualAir(clock)
    air.add(VirtualPeripheral("plx", steady(), clock=clock, address="11:11:11:11:11:11"))
    air.add(VirtualPeripheral("o2ring", steady(), clock=clock, address="22:22:22:22:22:22"))
    finding = asyncio.create_task(BleakScanner.find_device_by_name(
        "O2Ring 2211", timeout=2, backend=air.scanner_backend()))
    await clock.run_for(0.5)
    dev = await finding
    assert dev is not None and dev.address == "22:22:22:22:22:22"
    scanner = BleakScanner(service_uuids=[plx.SERVICE], backend=air.scanner_backend())
    await scanner.start()
    await scanner.stop()
    seen = scanner.discovered_devices_and_advertisement_data
    assert list(seen) == ["11:11:11:11:11:11"]
    _, adv = seen["11:11:11:11:11:11"]
    assert adv.local_name == "Oxi PLX" and adv.service_uuids == [plx.SERVICE]
    assert adv.rssi == -60


async def test_client_gatt_table_read_and_notifications() -> None:
    clock = VirtualClock()
    air = VirtualAir(clock)
    p = air.add(VirtualPeripheral("plx", steady(), clock=clock))
    finding = asyncio.create_task(BleakScanner.find_device_by_address(
        p.address, timeout=2, backend=air.scanner_backend()))
    await clock.run_for(0.5)
    dev = await finding
    got: list[bytes] = []
    async with BleakClient(dev, backend=air.client_backend()) as client:
        assert client.is_connected
        chars = {c.uuid: c.properties for s in client.services for c in s.characteristics}
        assert chars[plx.CONTINUOUS] == ["notify"] and chars[plx.FEATURES] == ["read"]
        codec = codec_for("plx")
        codec.feed(await client.read_gatt_char(plx.FEATURES), char=plx.FEATURES)
        assert codec.features.supported == 0x43
        await client.start_notify(plx.CONTINUOUS, lambda _c, d: got.append(bytes(d)))
        with pytest.raises(BleakError):
            await client.write_gatt_char(plx.CONTINUOUS, b"\x00", response=True)
        task = asyncio.create_task(p.run())
        await clock.run_for(3)
        task.cancel()
    assert len(got) == 3
    r = codec.feed(got[0])[0]
    assert (r.spo2, r.pulse, r.pi) == (96, 72, 3.0)


@pytest.mark.parametrize("profile", ["pc60f", "berrymed", "fs20f"])
async def test_stream_profiles_notify_in_20_byte_chunks(profile: str) -> None:
    clock = VirtualClock()
    air = VirtualAir(clock)
    p = air.add(VirtualPeripheral(profile, steady(), clock=clock))
    notify = PROFILES[profile].notify[0]
    chunks: list[bytes] = []
    async with BleakClient(p.address, backend=air.client_backend()) as client:
        await client.start_notify(notify, lambda _c, d: chunks.append(bytes(d)))
        task = asyncio.create_task(p.run())
        await clock.run_for(5)
        task.cancel()
    assert chunks and max(len(c) for c in chunks) <= 20
    out = codec_for(PROFILES[profile].protocol).feed(b"".join(chunks))
    vitals = [r for r in out if not r.wave_only]
    assert len(vitals) >= 5 and all((r.spo2, r.pulse) == (96, 72) for r in vitals)


async def test_o2ring_answers_polls_only() -> None:
    clock = VirtualClock()
    air = VirtualAir(clock)
    p = air.add(VirtualPeripheral("o2ring", steady(), clock=clock))
    replies: list[bytes] = []
    async with BleakClient(p.address, backend=air.client_backend()) as client:
        await client.start_notify(o2ring.NOTIFY, lambda _c, d: replies.append(bytes(d)))
        task = asyncio.create_task(p.run())
        await clock.run_for(3)
        assert replies == []  # nothing unasked
        codec = o2ring.O2RingCodec()
        for half in (codec.poll()[:4], codec.poll()[4:]):  # a request split over two writes
            await client.write_gatt_char(o2ring.WRITE, half, response=False)
        await clock.run_for(0.1)
        task.cancel()
    (r,) = codec.feed(b"".join(replies))
    assert (r.spo2, r.pulse) == (96, 72)


async def test_drop_calls_disconnected_callback_and_refuses_while_down() -> None:
    clock = VirtualClock()
    air = VirtualAir(clock, connect_timeout=1.0)
    p = air.add(VirtualPeripheral("nonin", steady(), clock=clock))
    dropped: list[float] = []
    client = BleakClient(p.address, lambda _c: dropped.append(clock.now()),
                         backend=air.client_backend())
    await client.connect()
    await clock.run_for(2)
    p.drop_link(down_for=5)
    await clock.run_for(0.01)
    assert dropped == [2.0] and not client.is_connected
    attempt = asyncio.create_task(client.connect())
    await clock.run_for(1.5)
    with pytest.raises(TimeoutError):
        await attempt
    await clock.run_for(4)
    await client.connect()
    assert client.is_connected and p.connections == 2
    await client.disconnect()
    assert dropped == [2.0]  # a disconnect the host asked for is not a drop


async def test_finger_out_reaches_the_host_as_no_reading() -> None:
    clock = VirtualClock()
    air = VirtualAir(clock)
    rs = [Reading(t=0, spo2=96, pulse=72), Reading(t=1, status=Status.FINGER_OUT)]
    p = air.add(VirtualPeripheral("jumper", rs, clock=clock))
    src = open_ble("auto", {"scan": "1"}, clock, scanner_backend=air.scanner_backend(),
                   client_backend=air.client_backend())
    items: list[object] = []

    async def consume() -> None:
        async for it in src:
            items.append(it)

    consumer = asyncio.create_task(consume())
    await clock.run_for(1.5)
    runner = asyncio.create_task(p.run())
    await clock.run_for(3)
    await src.close()
    await consumer
    runner.cancel()
    vit = [i for i in items if isinstance(i, Reading)]
    assert [(r.spo2, bool(r.status & Status.FINGER_OUT)) for r in vit] == [(96, False),
                                                                           (None, True)]


async def test_readings_reach_the_signal_monitor() -> None:
    from oxi_assist import signal as monitor_mod
    from oxi_assist.vitals import Quality

    clock = VirtualClock()
    air = VirtualAir(clock)
    p = air.add(VirtualPeripheral("pc60f", steady(120), clock=clock))
    src = open_ble("auto", {"scan": "1"}, clock, scanner_backend=air.scanner_backend(),
                   client_backend=air.client_backend())
    mon = monitor_mod.Monitor()
    states = []

    async def consume() -> None:
        async for it in src:
            states.append(mon.update(it))

    consumer = asyncio.create_task(consume())
    runner = asyncio.create_task(p.run())
    await clock.run_for(40)
    good = states[-1]
    assert good.spo2 == pytest.approx(96, abs=1) and good.pulse == pytest.approx(72, abs=1)
    assert good.quality is Quality.GOOD and good.link is LinkState.CONNECTED
    p.drop_link(down_for=100)
    await clock.run_for(0.5)
    lost = states[-1]
    assert lost.link in (LinkState.LOST, LinkState.RECONNECTING)
    assert lost.quality is Quality.NONE and lost.spo2 is None
    assert any(s.link is LinkState.LOST for s in states)
    await src.close()
    await consumer
    runner.cancel()
