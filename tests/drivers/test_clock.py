import asyncio

import pytest

from drivers.clock import RealClock, VirtualClock


def test_virtual_clock_advances_only_when_told():
    c = VirtualClock(start=10.0, wall_start=1000.0)
    assert c.now() == 10.0 and c.wall() == 1000.0
    c.advance(2.5)
    assert c.now() == 12.5 and c.wall() == 1002.5
    with pytest.raises(ValueError):
        c.advance(-1)
    with pytest.raises(ValueError):
        c.set(1.0)


async def test_sleepers_wake_in_deadline_order():
    c = VirtualClock()
    woke: list[tuple[str, float]] = []

    async def sleeper(name: str, dt: float) -> None:
        await c.sleep(dt)
        woke.append((name, c.now()))

    tasks = [asyncio.create_task(sleeper("late", 3.0)), asyncio.create_task(sleeper("early", 1.0))]
    await c.run_until(2.0)
    assert woke == [("early", 1.0)]
    await c.run_until(10.0)
    assert woke == [("early", 1.0), ("late", 3.0)]
    assert c.now() == 10.0
    await asyncio.gather(*tasks)


async def test_periodic_task_runs_once_per_period_without_real_waiting():
    c = VirtualClock()
    ticks: list[float] = []

    async def every_second() -> None:
        while True:
            ticks.append(c.now())
            await c.sleep(1.0)

    task = asyncio.create_task(every_second())
    await c.run_for(3600.0)
    task.cancel()
    assert len(ticks) == 3601
    assert ticks[:3] == [0.0, 1.0, 2.0] and ticks[-1] == 3600.0


async def test_real_clock_is_monotonic():
    c = RealClock()
    a = c.now()
    await c.sleep(0)
    assert c.now() >= a
    assert c.wall() > 1.6e9
