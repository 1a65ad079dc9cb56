"""A BLE oximeter that goes out of range for a while (not advertising, not connectable) and
comes back, through bleak's real API (BleakScanner, BleakClient, bleak-retry-connector) against
the virtual peripheral, entirely on a VirtualClock: each outage raises `link_lost` at the drop,
is one LOST (one gap), the transport keeps looking without giving up, and readings resume
within the transport's first back-off step plus one frame of the device coming back. Minutes
of outage take a fraction of a second: nothing waits in real time."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from drivers.ble_transport import BACKOFF, LISTEN_WINDOW, open_ble, within
from drivers.clock import RealClock, VirtualClock
from drivers.reading import LinkState, Reading
from oxi_assist.monitor.monitor import Monitor
from simulators.ble.bleak_backend import VirtualAir
from simulators.ble.peripheral import VirtualPeripheral
from tests.drivers.source_run import SourceRun

FRAME = 1.0  # the virtual device sends one reading a second
RESUME_BOUND = BACKOFF[0] + FRAME


def steady(n: int) -> list[Reading]:
    return [Reading(t=float(i), spo2=96.0 - (i % 3), pulse=72.0 + (i % 5), pi=3.0)
            for i in range(n)]


class Run(SourceRun):
    """The transport's output fed to the signal Monitor, as a live session does."""

    def __init__(self, src: Any) -> None:
        super().__init__(src, Monitor())

    def link_lost_raised(self) -> list[float]:
        return [a.start for a in self.monitor.history if a.kind == "link_lost"]


def start(clock: VirtualClock, profile: str = "plx", air: VirtualAir | None = None,
          params: dict[str, str] | None = None) -> tuple[Run, VirtualPeripheral, VirtualAir]:
    air = air or VirtualAir(clock)
    p = air.add(VirtualPeripheral(profile, steady(400), clock=clock))
    src = open_ble("auto", {"scan": "1", **(params or {})}, clock,
                   scanner_backend=air.scanner_backend(), client_backend=air.client_backend())
    return Run(src), p, air


@pytest.mark.parametrize("profile", ["plx", "berrymed"])
async def test_outages_of_5_and_60_s(profile: str) -> None:
    wall0 = time.perf_counter()
    clock = VirtualClock()
    run, p, _ = start(clock, profile)
    runner = asyncio.create_task(p.run())
    await clock.run_for(10)
    outages = []
    for down in (5.0, 60.0):
        t0 = clock.now()
        p.drop_link(down_for=down)
        outages.append((t0, t0 + down))
        await clock.run_for(down + 20)
    await run.finish()
    runner.cancel()
    wall = time.perf_counter() - wall0

    assert run.error is None
    lost = run.events(LinkState.LOST)
    assert [e.reason for e in lost] == ["link dropped", "link dropped"]  # one gap each
    alarms = run.link_lost_raised()
    assert len(alarms) == 2
    vit = run.vitals()
    for (t0, back), ev, alarm in zip(outages, lost, alarms, strict=True):
        assert 0 <= ev.t - t0 <= 1.0 and 0 <= alarm - t0 <= 1.0
        assert not [r for r in vit if t0 < r.t < back]  # nothing pretends to be a reading
        first = min(r.t for r in vit if r.t >= back)
        assert first - back <= RESUME_BOUND + 1e-6, (back, first)
    # it kept looking through the long outage: a RECONNECTING for every silent window
    during_long = [e for e in run.events(LinkState.RECONNECTING)
                   if outages[1][0] < e.t < outages[1][1]]
    assert len(during_long) >= int(60 / LISTEN_WINDOW) - 1
    assert p.connections == 3
    assert run.events(LinkState.CLOSED)
    assert wall < 5.0, f"{wall:.2f} s of real time for 95 s of virtual time"


async def test_connect_that_hangs_times_out_on_the_clock_and_is_retried() -> None:
    """A device that advertises but never completes a connect (a real radio's connect timeout
    happens in virtual time here); when it answers again the transport gets in."""
    clock = VirtualClock()
    hang = asyncio.Event()
    air = VirtualAir(clock)
    base = air.client_backend()

    class Hanging(base):  # type: ignore[misc,valid-type]
        async def connect(self, pair: bool = False, **kwargs: Any) -> None:
            if hang.is_set():
                await asyncio.Event().wait()  # never answers; only a timeout ends this
            await super().connect(pair=pair, **kwargs)

    p = air.add(VirtualPeripheral("plx", steady(200), clock=clock))
    src = open_ble("auto", {"scan": "1", "connect": "3"}, clock,
                   scanner_backend=air.scanner_backend(), client_backend=Hanging)
    run = Run(src)
    runner = asyncio.create_task(p.run())
    await clock.run_for(5)
    hang.set()
    t0 = clock.now()
    p.drop_link()
    await clock.run_for(20)
    hang.clear()
    await clock.run_for(15)
    await run.finish()
    runner.cancel()

    assert run.error is None
    lost = run.events(LinkState.LOST)
    assert len(lost) == 1 and lost[0].t == pytest.approx(t0)
    failed = [e for e in run.events(LinkState.RECONNECTING)
              if e.reason.startswith("connect failed") and "timed out after 3 s" in e.reason]
    assert len(failed) >= 3  # 3 s attempts with back-off in 20 s
    connected = run.events(LinkState.CONNECTED)
    assert len(connected) == 2 and connected[1].t >= t0 + 20
    assert any(r.t > connected[1].t for r in run.vitals())


async def test_within_is_a_real_timeout_on_the_real_clock() -> None:
    with pytest.raises(TimeoutError, match=r"probe timed out after 0\.05 s"):
        await within(RealClock(), 0.05, asyncio.Event().wait(), "probe")
    assert await within(RealClock(), 5.0, asyncio.sleep(0, "done"), "probe") == "done"


async def test_within_leaves_an_outer_cancel_alone() -> None:
    clock = VirtualClock()
    task = asyncio.create_task(within(clock, 10.0, asyncio.Event().wait(), "probe"))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert clock.next_deadline() is None  # the timer went with it
