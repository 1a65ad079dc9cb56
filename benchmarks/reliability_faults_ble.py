"""Faults over BLE: the virtual peripheral through bleak's real API into a recording Session,
on a virtual clock (link drops, silence, corrupted and garbage notifications, a device that
never starts). `ble_session` and `finish_run` are shared with the BLE outage run."""

from __future__ import annotations

import asyncio
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import reliability_verdicts as verdicts
from benchmarks.reliability_common import make_session
from benchmarks.reliability_verdicts import internal_errors, raised, records, row
from drivers.clock import VirtualClock
from drivers.reading import Reading


def steady(n: int, spo2: float = 96.0) -> list[Reading]:
    return [Reading(t=float(i), spo2=spo2 - (i % 3), pulse=72.0 + (i % 5), pi=3.0)
            for i in range(n)]


async def ble_session(d: Path, readings: list[Reading], *, profile: str = "plx",
                       peripheral: Callable[..., Any] | None = None,
                       params: dict[str, str] | None = None, target: str = "auto"
                       ) -> tuple[Any, Any, Any, Any, Any]:
    from drivers.ble_transport import open_ble
    from simulators.ble.bleak_backend import VirtualAir
    from simulators.ble.peripheral import VirtualPeripheral

    clock = VirtualClock()
    air = VirtualAir(clock)
    p = air.add((peripheral or VirtualPeripheral)(profile, readings, clock=clock))
    src = open_ble(target, {"scan": "1", **(params or {})}, clock,
                   scanner_backend=air.scanner_backend(), client_backend=air.client_backend())
    s = make_session(clock, d, "ble:auto")
    task = asyncio.create_task(s.run(src, tick_every=0.25))
    await clock.run_for(1.5)
    runner = asyncio.create_task(p.run())
    return clock, p, s, task, runner


async def finish_run(s: Any, task: Any, runner: Any) -> dict[str, list[dict[str, Any]]]:
    s.stop()
    await asyncio.wait_for(task, 5.0)
    runner.cancel()
    s.close("fault run done")
    return records(s.recording_path)


def ble_drops(n: int, every: float = 30.0, down: float = 0.0) -> list[dict[str, Any]]:
    """The peripheral drops the link every `every` s and is reachable again after `down` s
    (at once by default: the rows of `reliability_ble_outages` cover outages of seconds to
    minutes)."""
    from drivers.protocols import plx

    with tempfile.TemporaryDirectory() as d:
        async def go() -> tuple[Any, list[float], Any]:
            clock, p, s, task, runner = await ble_session(Path(d), steady(int(n * every + 60)))
            drops = []
            for _ in range(n):
                await clock.run_for(every)
                drops.append(s.elapsed())
                p.drop_link(down_for=down)
            await clock.run_for(every)
            rec = await finish_run(s, task, runner)
            return p, drops, rec

        p, drops, rec = asyncio.run(go())
    sent = sum(1 for x in p.sent if x[1] == plx.CONTINUOUS)
    lost = [x["t"] for x in rec["link"] if x["state"] == "lost"]
    det, worst = verdicts.lat_check(drops, raised(rec, "link_lost"), verdicts.LINK_BOUND)
    conn = [x["t"] for x in rec["link"] if x["state"] == "connected"]
    rts = [x["t"] for x in rec["r"]]
    res_worst = 0.0
    resumed = 0
    for t in drops:
        c = verdicts.first_after(conn, t)
        r = verdicts.first_after(rts, c) if c is not None else None
        if r is not None:
            resumed += 1
            res_worst = max(res_worst, r - c)
    crash = internal_errors(rec)
    return [
        row("link drop", "BLE", n, det, worst, f"link_lost ≤ {verdicts.LINK_BOUND:g} s",
            det == n and crash == 0, f"every {every:g} s"),
        row("link drop: gap recorded", "BLE", n, len(lost), None, "one LOST record per drop",
            len(lost) == n),
        row("link drop: readings resume", "BLE", n, resumed, res_worst,
            "1 frame (1 s) after reconnect", resumed == n and res_worst <= 1.0 + 1e-6
            and sent == len(rts), f"sent {sent}, recorded {len(rts)}"),
    ]


def ble_silence(n: int, silent: float = 20.0, every: float = 60.0) -> list[dict[str, Any]]:
    """`go_silent`: connected but nothing sent (a hung device)."""
    with tempfile.TemporaryDirectory() as d:
        async def go() -> tuple[list[float], Any]:
            clock, p, s, task, runner = await ble_session(Path(d), steady(int(n * every + 60)))
            starts = []
            for _ in range(n):
                await clock.run_for(every - silent)
                starts.append(s.elapsed())
                p.go_silent(silent)
                await clock.run_for(silent)
            await clock.run_for(10)
            return starts, await finish_run(s, task, runner)

        starts, rec = asyncio.run(go())
    rts = [x["t"] for x in rec["r"]]
    last = [max((t for t in rts if t <= s0 + 1e-6), default=s0) for s0 in starts]
    nd, nd_worst = verdicts.lat_check(last, raised(rec, "no_data"), verdicts.NO_DATA_S)
    st, st_worst = verdicts.lat_check(last, raised(rec, "stale"), verdicts.STALE_S)
    resumed = sum(1 for s0 in starts if verdicts.first_after(rts, s0 + silent) is not None)
    lost = sum(1 for x in rec["link"] if x["state"] in ("stale", "lost"))
    crash = internal_errors(rec)
    return [
        row("stall (silent, link up)", "BLE", n, nd, nd_worst,
            f"no_data ≤ {verdicts.NO_DATA_S:g} s", nd == n and crash == 0,
            f"{silent:g} s silent; transport STALE/LOST records {lost}"),
        row("stall (silent, link up)", "BLE", n, st, st_worst,
            f"stale ≤ {verdicts.STALE_S:g} s", st == n),
        row("stall: readings resume", "BLE", n, resumed, None, "readings after the stall",
            resumed == n),
    ]


def _corrupting(rate: float, seed: int, until: list[float]) -> Callable[..., Any]:
    from simulators.ble.peripheral import VirtualPeripheral

    rng = random.Random(seed)

    class Corrupting(VirtualPeripheral):
        flipped = 0

        def notify(self, uuid: str, data: bytes) -> None:
            if self.clock.now() < until[0]:
                b = bytearray(data)
                for i in range(len(b) * 8):
                    if rng.random() < rate:
                        b[i // 8] ^= 1 << (i % 8)
                        Corrupting.flipped += 1
                data = bytes(b)
            super().notify(uuid, data)

    return Corrupting


def ble_corruption(rates: list[float], seconds: int) -> list[dict[str, Any]]:
    from drivers.protocols import plx

    out = []
    for k, rate in enumerate(rates):
        until = [1.5 + seconds]
        cls = _corrupting(rate, k, until)
        with tempfile.TemporaryDirectory() as d:
            async def go(cls: Any = cls) -> tuple[Any, Any]:
                clock, p, s, task, runner = await ble_session(
                    Path(d), steady(seconds + 40), peripheral=cls)
                await clock.run_for(seconds + 30)
                return p, await finish_run(s, task, runner)

            p, rec = asyncio.run(go())
        tail = [x for x in rec["r"] if x["t"] > until[0] + 2]
        resync = len(tail) >= 20 and all("spo2" in x for x in tail)
        wrong = sum(1 for x in rec["r"] if "spo2" in x and (
            x["spo2"] not in (94, 95, 96) or x.get("pulse") not in (72, 73, 74, 75, 76)))
        oor = verdicts.out_of_range(rec)
        crash = internal_errors(rec)
        flips = cls.flipped  # type: ignore[attr-defined]
        sent = sum(1 for x in p.sent if x[1] == plx.CONTINUOUS)
        out.append(row(f"bit flips {rate:g}/bit", "BLE (plx)", flips, sent - len(rec["r"]),
                       None, "0 out-of-range valid; resync",
                       oor == 0 and crash == 0 and resync,
                       f"{seconds} of {sent} notifications exposed; detected = frames "
                       f"rejected; in-range wrong values accepted {wrong}"))
    return out


def ble_garbage(n: int, size: int = 40) -> list[dict[str, Any]]:
    from drivers.protocols import plx

    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as d:
        async def go() -> tuple[Any, Any]:
            clock, p, s, task, runner = await ble_session(Path(d), steady(n * 5 + 40))
            for _ in range(n):
                await clock.run_for(4.5)
                for _ in range(3):
                    p.notify(plx.CONTINUOUS, bytes(rng.randrange(256) for _ in range(size)))
            await clock.run_for(20)
            return p, await finish_run(s, task, runner)

        _p, rec = asyncio.run(go())
    tail = [x for x in rec["r"] if x["t"] > rec["r"][-1]["t"] - 15]
    ok = (verdicts.out_of_range(rec) == 0 and internal_errors(rec) == 0
          and all("spo2" in x for x in tail))
    return [row("garbage bursts", "BLE", n, n, None, "0 out-of-range valid; resync", ok,
                f"3 × {size} random bytes a burst; clean tail {len(tail)} readings")]


def ble_no_start(seconds: float = 30.0) -> list[dict[str, Any]]:
    """A Contec BLE unit that never answers the host's start command: connected, no data."""
    from simulators.ble.peripheral import VirtualPeripheral

    class Deaf(VirtualPeripheral):
        def write(self, uuid: str, data: bytes) -> None:
            self.writes.append((uuid, bytes(data)))  # heard, never acted on

    with tempfile.TemporaryDirectory() as d:
        async def go() -> tuple[Any, Any]:
            clock, p, s, task, runner = await ble_session(
                Path(d), steady(int(seconds) + 10), profile="contec", peripheral=Deaf,
                params={"profile": "contec"}, target="C0:FF:EE:00:00:01")
            await clock.run_for(seconds)
            return p, await finish_run(s, task, runner)

        p, rec = asyncio.run(go())
    conn = [x["t"] for x in rec["link"] if x["state"] == "connected"]
    ll = raised(rec, "link_lost")
    lat = (ll[0] - conn[0]) if conn and ll else None
    from drivers.catalogue_ble import PROFILES

    bound = PROFILES["contec"].stale_after + 0.5
    ok = (lat is not None and lat <= bound + 1e-6 and not rec["r"]
          and internal_errors(rec) == 0)
    return [row("never answers start", "BLE (contec)", 1, int(bool(ll)), lat,
                f"link_lost ≤ stale {bound - 0.5:g} s + 0.5 s watchdog step", ok,
                f"{len(p.writes)} host writes ignored; {len(rec['r'])} readings")]
