"""`sim:` as a live source under a virtual clock: link events, pacing, control."""

from __future__ import annotations

import asyncio

import pytest

from drivers.clock import VirtualClock
from drivers.errors import OxiError, SourceError
from drivers.reading import (
    Controllable,
    LinkEvent,
    LinkState,
    Reading,
    ReportsEvents,
    Source,
    Trainable,
)
from oxi_assist.uris import open_source
from simulators.sim_source import SimSource, open_sim


async def collect(src: SimSource, clock: VirtualClock, seconds: float) -> list:
    items: list = []

    async def consume() -> None:
        async for it in src:
            items.append(it)

    task = asyncio.create_task(consume())
    await clock.run_for(seconds)
    if not task.done():
        await src.close()
        await clock.run_for(1)
    await asyncio.wait_for(task, 5)
    return items


async def test_link_events_and_readings_paced_on_the_clock() -> None:
    clock = VirtualClock()
    src = open_sim("baseline", {"duration": "10", "chunk": "0.1"}, clock)
    assert isinstance(src, Source) and isinstance(src, Controllable)
    assert src.name == "sim:baseline" and src.scenario.name == "baseline"
    items = await collect(src, clock, 11)
    links = [i for i in items if isinstance(i, LinkEvent)]
    assert [e.state for e in links] == [LinkState.CONNECTING, LinkState.CONNECTED,
                                        LinkState.CLOSED]
    assert links[1].device == "Simulator (baseline)"
    readings = [i for i in items if isinstance(i, Reading)]
    assert len(readings) == 100  # 10 s × 10 chunks
    vitals = [r for r in readings if not r.wave_only]
    assert [r.t for r in vitals] == [float(t) for t in range(1, 11)]
    assert all(90 <= r.spo2 <= 100 for r in vitals)
    assert clock.now() == pytest.approx(11)


async def test_nothing_arrives_before_its_time() -> None:
    clock = VirtualClock()
    src = open_sim("baseline", {"duration": "60", "chunk": "1"}, clock)
    items: list = []

    async def consume() -> None:
        async for it in src:
            items.append(it)

    task = asyncio.create_task(consume())
    await clock.run_for(5.5)
    got = [i.t for i in items if isinstance(i, Reading)]
    assert got == [1.0, 2.0, 3.0, 4.0, 5.0]
    await src.close()
    await clock.run_for(2)
    await asyncio.wait_for(task, 5)
    assert isinstance(items[-1], LinkEvent) and items[-1].state is LinkState.CLOSED


async def test_speed_and_pause() -> None:
    clock = VirtualClock()
    src = open_sim("baseline", {"duration": "600", "chunk": "1", "speed": "10"}, clock)
    items: list = []

    async def consume() -> None:
        async for it in src:
            items.append(it)

    task = asyncio.create_task(consume())
    await clock.run_for(3)
    n_fast = sum(isinstance(i, Reading) for i in items)
    assert n_fast == 30  # 10× speed: 30 scenario seconds in 3 s
    src.pause()
    await clock.run_for(5)
    assert sum(isinstance(i, Reading) for i in items) <= n_fast + 1
    src.resume()
    src.set_speed(1)
    before = sum(isinstance(i, Reading) for i in items)
    await clock.run_for(4)
    assert sum(isinstance(i, Reading) for i in items) - before in (3, 4, 5)
    with pytest.raises(ValueError):
        src.set_speed(50)
    await src.close()
    await clock.run_for(2)
    await asyncio.wait_for(task, 5)


async def test_inject_naloxone_changes_the_course() -> None:
    async def run(treat: bool) -> list[Reading]:
        clock = VirtualClock()
        src = open_sim("opioid-overdose", {"duration": "900", "chunk": "1", "pleth": "0",
                                           "speed": "20"}, clock)
        items: list = []

        async def consume() -> None:
            async for it in src:
                items.append(it)
                if treat and isinstance(it, Reading) and it.t == 120.0:
                    src.inject("breaths_on")
                    src.inject("naloxone", route="im")

        task = asyncio.create_task(consume())
        await clock.run_for(900 / 20 + 1)
        await asyncio.wait_for(task, 5)
        assert src.state.t == 900
        return [i for i in items if isinstance(i, Reading)]

    untreated, treated = await run(False), await run(True)
    late = [r for r in treated if r.t >= 480]
    assert all(r.spo2 is not None and r.spo2 >= 90 for r in late)
    assert all(r.spo2 is None for r in untreated if r.t >= 800)  # arrest: no reading


async def test_unknown_action_raises_and_source_keeps_going() -> None:
    clock = VirtualClock()
    src = open_sim("baseline", {"duration": "5", "chunk": "1"}, clock)
    with pytest.raises(ValueError):
        src.inject("teleport")
    items = await collect(src, clock, 6)
    assert sum(isinstance(i, Reading) for i in items) == 5


def test_state_exposes_breathing_and_responsiveness() -> None:
    src = open_sim("baseline", {}, VirtualClock())
    s = src.state
    assert s.breathing_rate == pytest.approx(14) and s.responsiveness == "alert"


@pytest.mark.parametrize("params", [{"speed": "50"}, {"speed": "x"}, {"chunk": "5"},
                                    {"pleth": "-1"}, {"seed": "-3"}, {"duration": "soon"},
                                    {"colour": "red"}])
def test_bad_options_are_one_line_source_errors(params: dict[str, str]) -> None:
    with pytest.raises(SourceError) as e:
        open_sim("baseline", params, VirtualClock())
    assert "\n" not in str(e.value)


def test_unknown_scenario_through_the_uri() -> None:
    with pytest.raises(OxiError, match=r"known: .*opioid-overdose"):
        open_source("sim:nope", VirtualClock())
    src = open_source("sim:xylazine?speed=5&seed=3", VirtualClock())
    assert src.speed == 5 and src.scenario.name == "xylazine"


def test_sim_source_is_trainable_with_plain_properties() -> None:
    src = open_sim("baseline", {"speed": "4"}, VirtualClock())
    assert isinstance(src, Trainable) and isinstance(src, ReportsEvents)
    # plain values, not methods: a caller never has to ask `callable(src.paused)`
    assert src.paused is False and src.speed == 4.0
    src.pause()
    assert src.paused is True
    src.resume()
    src.set_speed(7)
    assert src.paused is False and src.speed == 7.0
    assert src.patient_status() == "breathing 14/min · awake"


def test_a_source_without_the_trainer_controls_is_not_trainable() -> None:
    class OnlyInject:
        def inject(self, action: str, **params: object) -> None: ...

    assert isinstance(OnlyInject(), Controllable)
    assert not isinstance(OnlyInject(), Trainable)


@pytest.mark.parametrize("action", ["compressions_on", "compressions", "cpr",
                                    "compressions_off", "compressions_stop", "cpr_stop"])
def test_compressions_are_understood(action: str) -> None:
    src = open_sim("baseline", {}, VirtualClock())
    src.inject(action)


async def test_arrest_is_visible_and_handed_over_once_when_the_readings_reach_it() -> None:
    clock = VirtualClock()
    # pleth in chunks: wave-only items come before each second's vitals
    src = open_sim("opioid-overdose", {"duration": "900", "chunk": "0.5", "pleth": "10",
                                       "speed": "20"}, clock)
    seen: list[tuple[float, str, str]] = []  # (item time, event, status) as they come
    statuses: set[str] = set()

    async def consume() -> None:
        async for it in src:
            if isinstance(it, Reading):
                statuses.add(src.patient_status())
                for ev in src.take_events():
                    seen.append((it.t, ev.name, src.patient_status()))
                if it.t == 480.0:
                    src.inject("compressions")
                    src.inject("breaths")

    task = asyncio.create_task(consume())
    await clock.run_for(900 / 20 + 1)
    await asyncio.wait_for(task, 5)
    names = [name for _, name, _ in seen]
    assert names == ["cardiac_arrest", "circulation_returned"]
    arrest_t = src.sim.events[0].t
    assert seen[0][0] == arrest_t  # handed over with the reading of that second, not before
    assert seen[0][2] == "CARDIAC ARREST"
    assert "CARDIAC ARREST · CPR: compressions on · rescue breaths on" in statuses
    assert src.state.arrested is False and src.take_events() == []
