"""Replay: a recorded file played back as a live Source on a VirtualClock."""

from __future__ import annotations

import asyncio
import math

import pytest

from drivers.clock import VirtualClock
from drivers.errors import FormatError, SourceError
from drivers.reading import LinkEvent, LinkState, Reading, Source
from simulators.replay import open_replay

CSV = ("Time,Oxygen Level,Pulse Rate,Motion,O2 Reminder,PR Reminder\n"
       "23:05:12 Jan 14 2024,96,71,0,0,0\n"
       "23:05:16 Jan 14 2024,--,--,3,0,0\n"
       "23:05:20 Jan 14 2024,94,72,0,0,0\n")


@pytest.fixture
def night(tmp_path):
    p = tmp_path / "O2Ring_20240114230512.csv"
    p.write_text(CSV)
    return p


async def _collect(src, clock: VirtualClock, run_for: float, limit: int = 1000):
    """Consumes the source in a task while the virtual clock runs; returns (item, now) pairs."""
    got: list[tuple[object, float]] = []

    async def consume() -> None:
        async for item in src:
            got.append((item, clock.now()))
            if len(got) >= limit:
                await src.close()

    task = asyncio.create_task(consume())
    await clock.run_for(run_for)
    await asyncio.wait_for(task, 1.0)
    return got


async def test_paced_on_virtual_clock_with_gap_and_link_events(night):
    clock = VirtualClock(start=100.0)
    src = open_replay(str(night), {}, clock)
    assert isinstance(src, Source)
    got = await _collect(src, clock, 20.0)
    links = [i.state for i, _ in got if isinstance(i, LinkEvent)]
    assert links == [LinkState.CONNECTING, LinkState.CONNECTED, LinkState.CLOSED]
    rs = [(i, now) for i, now in got if isinstance(i, Reading)]
    assert [now for _, now in rs] == [100.0, 104.0, 108.0]
    assert [r.t for r, _ in rs] == [0.0, 4.0, 8.0]  # stamped with the recording's own time
    assert [r.spo2 for r, _ in rs] == [96.0, None, 94.0]
    assert not rs[1][0].valid and rs[1][0].status  # the gap arrives as a flagged gap
    assert got[-1][0].reason == "end of recording"


async def test_speed_divides_the_timeline(night):
    clock = VirtualClock()
    src = open_replay(str(night), {"speed": "4"}, clock)
    got = await _collect(src, clock, 5.0)
    assert [now for i, now in got if isinstance(i, Reading)] == [0.0, 1.0, 2.0]
    # faster on the clock, but the items still say the recording's seconds, as the
    # simulator's do at any speed
    assert [i.t for i, _ in got if isinstance(i, Reading)] == [0.0, 4.0, 8.0]
    assert [i.t for i, _ in got if isinstance(i, LinkEvent)] == [0.0, 0.0, 8.0]


async def test_nothing_arrives_before_its_time(night):
    clock = VirtualClock()
    src = open_replay(str(night), {}, clock)
    got: list[object] = []

    async def consume() -> None:
        async for item in src:
            got.append(item)

    task = asyncio.create_task(consume())
    await clock.run_for(3.9)
    assert sum(isinstance(i, Reading) for i in got) == 1
    await clock.run_for(0.1)
    assert sum(isinstance(i, Reading) for i in got) == 2
    await src.close()
    await clock.run_for(0.0)
    await asyncio.wait_for(task, 1.0)
    assert isinstance(got[-1], LinkEvent) and got[-1].state is LinkState.CLOSED
    assert got[-1].reason == "closed"


async def test_loop_restarts_after_one_interval(night):
    clock = VirtualClock()
    src = open_replay(str(night), {"loop": "1"}, clock)
    got = await _collect(src, clock, 30.0, limit=2 + 5)
    times = [now for i, now in got if isinstance(i, Reading)]
    assert times == [0.0, 4.0, 8.0, 12.0, 16.0]
    assert [i.t for i, _ in got if isinstance(i, Reading)] == times  # carried on per loop
    assert isinstance(got[-1][0], LinkEvent) and got[-1][0].state is LinkState.CLOSED


async def test_unpaced_and_start_offset(vectors):
    clock = VirtualClock()
    src = open_replay(str(vectors / "contec-cms50e-live.SpO2"), {"speed": "max", "start": "200"},
                      clock)
    items = [i async for i in src]
    rs = [i for i in items if isinstance(i, Reading)]
    assert len(rs) == 12 and clock.now() == 0.0
    assert (rs[-1].spo2, rs[-1].pulse) == (96.0, 77.0)


def test_bad_options_are_one_line_errors(night, tmp_path):
    clock = VirtualClock()
    with pytest.raises(SourceError, match="speed"):
        open_replay(str(night), {"speed": "fast-ish"}, clock)
    with pytest.raises(SourceError, match="unknown option"):
        open_replay(str(night), {"sped": "2"}, clock)
    with pytest.raises(SourceError, match="loop"):
        open_replay(str(night), {"loop": "maybe"}, clock)
    with pytest.raises(FormatError, match=r"missing\.csv"):
        open_replay(str(tmp_path / "missing.csv"), {}, clock)
    with pytest.raises(SourceError, match="past the end"):
        open_replay(str(night), {"start": "60"}, clock)
    assert math.isinf(open_replay(str(night), {"speed": "0"}, clock).speed)


async def test_through_the_uri_opener(night):
    from oxi_assist.uris import open_source

    clock = VirtualClock()
    src = open_source(f"replay:{night}?speed=2", clock)
    got = await _collect(src, clock, 10.0)
    assert [now for i, now in got if isinstance(i, Reading)] == [0.0, 2.0, 4.0]
