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
from simulators.ble.bleak_backend import VirtualAir
from simulators.ble.peripheral import VirtualPeripheral


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
    from oxi_assist.monitor import monitor as monitor_mod
    from oxi_assist.monitor.vitals import Quality

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


# -- the same peripheral behind a real ATT/GATT server (bumble, in-process link) --------------
class BumblePair:
    """A bumble device serving the virtual oximeter and a bumble central, on bumble's
    in-process link (real HCI, link-layer and ATT PDUs; real time, no radio)."""

    def __init__(self, profile: str, readings: list[Reading]) -> None:
        from bumble.controller import Controller
        from bumble.device import Device
        from bumble.hci import Address
        from bumble.host import Host
        from bumble.link import LocalLink
        from bumble.transport.common import AsyncPipeSink

        from drivers.clock import RealClock
        from simulators.ble.bumble_server import BumbleServer

        link = LocalLink()
        addrs = ("F0:F0:F0:F0:F0:F0", "F1:F1:F1:F1:F1:F1")
        ctrl = [Controller(f"c{i}", link=link, public_address=a) for i, a in enumerate(addrs)]
        self.dev_p, self.dev_c = (Device(address=Address(a), host=Host(c, AsyncPipeSink(c)))
                                  for a, c in zip(addrs, ctrl, strict=True))
        self.peripheral = VirtualPeripheral(profile, readings, clock=RealClock(),
                                            interval=0.01)
        self.server = BumbleServer(self.peripheral, self.dev_p)

    async def connect(self) -> tuple[object, object]:
        from bumble.device import Peer

        await self.server.start(advertising_interval_ms=20)
        await self.dev_c.power_on()
        conn = await asyncio.wait_for(self.dev_c.connect(self.dev_p.random_address), 5)
        peer = Peer(conn)
        await peer.discover_services()
        for s in peer.services:
            await s.discover_characteristics()
        return conn, peer


def _char(peer: object, uuid: str) -> object:
    from bumble.core import UUID

    (c,) = peer.get_characteristics_by_uuid(UUID(uuid))  # type: ignore[attr-defined]
    return c


async def test_bumble_advertises_name_and_service() -> None:
    pytest.importorskip("bumble")
    from bumble.core import UUID, AdvertisingData

    pair = BumblePair("pc60f", steady())
    await pair.server.start(advertising_interval_ms=20)
    await pair.dev_c.power_on()
    seen: list[object] = []
    pair.dev_c.on("advertisement", seen.append)
    await pair.dev_c.start_scanning(scan_interval=20, scan_window=20)
    for _ in range(100):
        if any(a.data.get(AdvertisingData.COMPLETE_LOCAL_NAME) for a in seen):
            break
        await asyncio.sleep(0.02)
    await pair.dev_c.stop_scanning()
    names = {a.data.get(AdvertisingData.COMPLETE_LOCAL_NAME) for a in seen} - {None}
    assert names == {"PC-60FW 1234"}
    # the name alone identifies the profile in the catalogue (NUS is generic)
    from drivers.catalogue_ble import match
    assert match("PC-60FW 1234", []).key == "pc60f"
    # a 128-bit UUID does not fit beside the name: it goes in the scan response
    adv, scan = pair.server.advertising_data()
    assert len(adv) <= 31 and len(scan) <= 31
    parsed = AdvertisingData.from_bytes(scan)
    assert parsed.get(AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS) == [
        UUID("6e400001-b5a3-f393-e0a9-e50e24dcca9e")]


async def test_bumble_gatt_notifications_decode() -> None:
    pytest.importorskip("bumble")
    pair = BumblePair("pc60f", steady(40))
    _conn, peer = await pair.connect()
    got: list[bytes] = []
    await peer.subscribe(_char(peer, PROFILES["pc60f"].notify[0]),  # type: ignore[attr-defined]
                         lambda v: got.append(bytes(v)))
    runner = asyncio.create_task(pair.peripheral.run())
    await asyncio.wait_for(pair.peripheral.finished.wait(), 5)
    for _ in range(200):  # the last notifications may still be on the link
        out = codec_for("pc60f").feed(b"".join(got))
        vitals = [r for r in out if not r.wave_only]
        if len(vitals) >= 40:
            break
        await asyncio.sleep(0.005)
    runner.cancel()
    assert max(len(g) for g in got) <= 20  # ATT_MTU 23: 20 bytes of value per notification
    assert len(vitals) == 40 and all((r.spo2, r.pulse, r.pi) == (96, 72, 3.0) for r in vitals)


async def test_bumble_o2ring_poll_and_drop() -> None:
    pytest.importorskip("bumble")
    pair = BumblePair("o2ring", steady())
    conn, peer = await pair.connect()
    got: list[bytes] = []
    await peer.subscribe(_char(peer, o2ring.NOTIFY),  # type: ignore[attr-defined]
                         lambda v: got.append(bytes(v)))
    runner = asyncio.create_task(pair.peripheral.run())
    codec = o2ring.O2RingCodec()
    replies: list[Reading] = []
    for _ in range(50):  # poll as a host does, until the ring has a value to report
        await peer.write_value(_char(peer, o2ring.WRITE), codec.poll(),  # type: ignore[attr-defined]
                               with_response=False)
        before = len(replies)
        for _ in range(100):
            replies += codec.feed(b"".join(got))
            got.clear()
            if len(replies) > before:
                break
            await asyncio.sleep(0.005)
        if replies and replies[-1].valid:
            break
    r = replies[-1]
    assert (r.spo2, r.pulse) == (96, 72)
    assert codec.stats.frames_bad == 0 and codec.stats.bytes_skipped == 0
    gone = asyncio.get_running_loop().create_future()
    conn.on("disconnection", lambda *_: gone.done() or gone.set_result(True))  # type: ignore[attr-defined]
    await pair.server.drop_link()
    assert await asyncio.wait_for(gone, 2)
    runner.cancel()
    assert not pair.peripheral.connected


async def test_loopback_runner_with_drop_cue() -> None:
    from simulators.ble.console import run_loopback

    clock = VirtualClock()
    cues: asyncio.Queue[str] = asyncio.Queue()
    lines: list[str] = []
    task = asyncio.create_task(run_loopback("fs20f", steady(100), clock=clock, duration=12,
                                            cues=cues, out=lines.append))
    await clock.run_for(5)
    cues.put_nowait("drop")
    await clock.run_for(8)
    count = await asyncio.wait_for(task, 2)
    assert count >= 8
    text = "\n".join(lines)
    assert "link connected: Wellue FS20F / Yuwell [FS20F (00:01)]" in text
    assert "link lost: link dropped [FS20F (00:01)]" in text
    assert text.count("link connected") == 2
    assert "SpO2   96  PR   72" in text


def test_cli_bad_transport_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("bumble")
    from oxi_assist.cli import main

    rc = main(["virtual-device", "ble", "--profile", "plx", "--hci", "bogus:1", "--duration",
               "1", "steady"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1
    assert "cannot open Bluetooth transport 'bogus:1'" in err


def _key(r: Reading) -> tuple[int, int] | None:
    from drivers.reading import INVALIDATING

    if r.spo2 is None or r.pulse is None or r.status & INVALIDATING:
        return None
    return round(r.spo2), round(r.pulse)


def _dedup(keys: list[object]) -> list[object]:
    return [k for i, k in enumerate(keys) if i == 0 or keys[i - 1] != k]


@pytest.mark.parametrize("profile", ["plx", "nonin", "pc60f", "berrymed", "jumper", "fs20f"])
async def test_scenario_patient_arrives_unchanged_through_ble(profile: str) -> None:
    """The scenario engine's overdose patient, 8 minutes, through each profile's encoder, the
    virtual peripheral, bleak and the transport: every value arrives as sent, and every
    second without a value arrives as no reading."""
    import itertools

    from simulators.scenario import load_scenario
    from simulators.simulator import Simulator

    sim = Simulator(load_scenario("opioid-overdose"), seed=3, pleth_rate=50)
    sent = list(itertools.islice(sim.run(480), 480))
    assert any(_key(r) is None for r in sent) and any(_key(r) for r in sent)
    clock = VirtualClock()
    air = VirtualAir(clock)
    p = air.add(VirtualPeripheral(profile, sent, clock=clock))
    src = open_ble("auto", {"scan": "1"}, clock, scanner_backend=air.scanner_backend(),
                   client_backend=air.client_backend())
    got: list[Reading] = []

    async def consume() -> None:
        async for it in src:
            if isinstance(it, Reading) and not it.wave_only:
                got.append(it)

    consumer = asyncio.create_task(consume())
    await clock.run_for(1.5)  # connected before the first reading is sent
    runner = asyncio.create_task(p.run())
    await clock.run_for(len(sent) + 2)
    await src.close()
    await consumer
    runner.cancel()
    assert _dedup([_key(r) for r in got]) == _dedup([_key(r) for r in sent])
