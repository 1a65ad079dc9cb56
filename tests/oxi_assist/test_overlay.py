"""The overlay on a real oximeter, with the virtual BLE oximeter behind bleak's real API and the
virtual serial oximeter on a real pty: the scenario's SpO2 and pulse, the device's link, finger
and signal flags; the device's own numbers never come through."""

from __future__ import annotations

import asyncio
import math

import pytest

from drivers.ble_transport import open_ble
from drivers.clock import VirtualClock
from drivers.reading import LinkEvent, LinkState, Reading, Status
from oxi_assist.overlay import SIMULATED_NOTE, DeviceState, OverlaySource
from oxi_assist.uris import open_source
from simulators.ble.bleak_backend import VirtualAir
from simulators.ble.peripheral import VirtualPeripheral

DEVICE_SPO2, DEVICE_PULSE = 81, 151  # numbers no scenario reading here has at these times


def device_readings() -> list[Reading]:
    """0–19 s finger in, 20–29 s finger out, 30–39 s motion, then finger in."""
    out = []
    for i in range(80):
        if 20 <= i < 30:
            out.append(Reading(t=float(i), status=Status.FINGER_OUT))
        elif 30 <= i < 40:
            out.append(Reading(t=float(i), spo2=DEVICE_SPO2, pulse=DEVICE_PULSE, pi=0.4,
                               status=Status.MOTION))
        else:
            out.append(Reading(t=float(i), spo2=DEVICE_SPO2, pulse=DEVICE_PULSE, pi=3.1))
    return out


def scenario(clock: VirtualClock):  # type: ignore[no-untyped-def]
    return open_source("sim:opioid-overdose?seed=3&pleth=0&chunk=0.25", clock)


async def run_overlay(seconds: float, *, drop_at: float | None = None):  # type: ignore[no-untyped-def]
    clock = VirtualClock()
    air = VirtualAir(clock)
    p = air.add(VirtualPeripheral("plx", device_readings(), clock=clock))
    device = open_ble("auto", {"scan": "1"}, clock, scanner_backend=air.scanner_backend(),
                      client_backend=air.client_backend())
    ov = OverlaySource(scenario(clock), device, clock=clock)
    items: list[object] = []
    device_states: list[tuple[float, DeviceState]] = []

    async def consume() -> None:
        async for it in ov:
            items.append(it)
            device_states.append((it.t, ov.state))  # type: ignore[union-attr]

    consumer = asyncio.create_task(consume())
    runner = asyncio.create_task(p.run())
    if drop_at is not None:
        await clock.run_for(drop_at)
        p.drop_link(down_for=8)
        await clock.run_for(seconds - drop_at)
    else:
        await clock.run_for(seconds)
    await ov.close()
    await asyncio.wait_for(consumer, 5)
    runner.cancel()
    return items, device_states


async def reference(seconds: float) -> dict[float, Reading]:
    """The same scenario alone: what the overlay's numbers must be."""
    clock = VirtualClock()
    src = scenario(clock)
    out: dict[float, Reading] = {}

    async def consume() -> None:
        async for it in src:
            if isinstance(it, Reading):
                out[round(it.t, 3)] = it

    task = asyncio.create_task(consume())
    await clock.run_for(seconds)
    await src.close()
    task.cancel()  # it waits on the virtual clock, which stops here
    return out


async def test_values_from_the_scenario_state_from_the_device() -> None:
    items, states = await run_overlay(60)
    ref = await reference(60)
    readings = [i for i in items if isinstance(i, Reading)]
    assert readings, "the overlay passed no reading"
    assert all(r.spo2 != DEVICE_SPO2 and r.pulse != DEVICE_PULSE for r in readings)
    valued = [r for r in readings if r.spo2 is not None]
    assert len(valued) > 40
    for r in valued:  # the scenario's own values, at the scenario's own times
        want = ref[round(r.t, 3)]
        assert (r.spo2, r.pulse) == (want.spo2, want.pulse)
    # the device's finger out blanks the values (its reason says why), its motion marks them
    by_state = [(st, r) for (_, st), r in zip(states, items, strict=True)
                if isinstance(r, Reading)]
    out = [r for s, r in by_state if s.status & Status.FINGER_OUT]
    assert out and all(r.spo2 is None and r.pulse is None and r.status & Status.FINGER_OUT
                       for r in out)
    moving = [r for s, r in by_state if s.status & Status.MOTION]
    assert moving and all(r.status & Status.MOTION and r.pi == pytest.approx(0.4)
                          for r in moving)
    assert all(r.spo2 is not None for s, r in by_state if s.usable and not s.status)
    assert all(r.spo2 is None for s, r in by_state if s.readings == 0)
    # the link is the device's, named, and says the values are simulated
    links = [i for i in items if isinstance(i, LinkEvent)]
    connected = [e for e in links if e.state is LinkState.CONNECTED]
    assert connected and "Oxi PLX" in connected[0].device
    assert all(e.device.endswith(SIMULATED_NOTE) for e in links)
    times = [i.t for i in items]  # one timeline: the scenario's
    assert times == sorted(times) and all(math.isfinite(t) for t in times)


async def test_device_link_lost_means_no_reading() -> None:
    items, _ = await run_overlay(45, drop_at=12)
    lost_at = next(i.t for i in items if isinstance(i, LinkEvent)
                   and i.state in (LinkState.LOST, LinkState.RECONNECTING))
    back_at = next(i.t for i in items if isinstance(i, LinkEvent)
                   and i.state is LinkState.CONNECTED and i.t > lost_at)
    during = [i for i in items if isinstance(i, Reading) and lost_at < i.t < back_at]
    assert back_at - lost_at >= 5  # the scenario ran on meanwhile …
    assert during == []  # … and nothing of it was shown as a reading
    after = [i for i in items if isinstance(i, Reading) and i.t > back_at + 2]
    assert any(r.spo2 is not None for r in after)


async def test_no_device_reading_yet_is_searching_not_a_value() -> None:
    ov = OverlaySource(object(), object(), clock=VirtualClock())
    ov.on_device(LinkEvent(0.0, LinkState.CONNECTED, device="X"))
    r = ov.merge(Reading(1.0, spo2=95, pulse=70))
    assert r is not None and r.spo2 is None and r.status & Status.SEARCHING
    assert ov.state.words() == "waiting for a reading"
    ov.on_device(Reading(0.5, spo2=DEVICE_SPO2, pulse=DEVICE_PULSE, pi=2.0))
    r = ov.merge(Reading(1.25, spo2=95, pulse=70))
    assert r is not None and (r.spo2, r.pulse, r.pi) == (95, 70, 2.0)
    assert ov.state.words() == "finger in"
    ov.passthrough = True  # a station catching up: the scenario's history as it was
    assert ov.merge(Reading(1.5, spo2=94)) == Reading(1.5, spo2=94)


def serial_readings() -> list[Reading]:
    """1 s a reading at 60 frames/s: 2 s finger in, then finger out."""
    wave = tuple(50 + 40 * math.sin(2 * math.pi * i / 30) for i in range(60))
    flat = (0.0,) * 60
    return [Reading(t=float(i), spo2=DEVICE_SPO2, pulse=DEVICE_PULSE, pi=3.0, pleth=wave,
                    pleth_rate=60.0) if i < 2 else
            Reading(t=float(i), status=Status.FINGER_OUT, pleth=flat, pleth_rate=60.0)
            for i in range(30)]


async def test_serial_oximeter_on_a_real_pty() -> None:
    """Real time (the pty device paces itself): about 4 s."""
    from drivers.clock import RealClock
    from simulators.virtual_serial import VirtualSerialOximeter, pty_supported

    if not pty_supported():
        pytest.skip("needs a POSIX pty")
    clock = RealClock()
    dev = VirtualSerialOximeter("cms50-legacy", serial_readings(), clock=clock)
    path = dev.start()
    try:
        device = open_source(f"serial:{path}?protocol=cms50-legacy", clock)
        sim = open_source("sim:opioid-overdose?seed=3&pleth=0&chunk=0.25&speed=10", clock)
        ov = OverlaySource(sim, device, clock=clock)
        items: list[tuple[object, DeviceState]] = []

        async def consume() -> None:
            async for it in ov:
                items.append((it, ov.state))

        task = asyncio.create_task(consume())
        await asyncio.sleep(4.0)
        await ov.close()
        await asyncio.wait_for(task, 5)
    finally:
        dev.stop()
    readings = [(r, st) for r, st in items if isinstance(r, Reading)]
    assert all(r.spo2 != DEVICE_SPO2 and r.pulse != DEVICE_PULSE for r, _ in readings)
    assert any(r.spo2 is not None for r, st in readings if st.status == Status.NONE)
    out = [r for r, st in readings if st.status & Status.FINGER_OUT]
    assert out and all(r.spo2 is None and r.status & Status.FINGER_OUT for r in out)
    assert any(isinstance(e, LinkEvent) and e.state is LinkState.CONNECTED
               and e.device.endswith(SIMULATED_NOTE) for e, _ in items)
