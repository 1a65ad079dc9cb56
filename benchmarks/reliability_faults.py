"""The fault matrix: each fault played into a live pipeline that ends in a recording `Session`,
then judged from the recording file: was the right alarm raised within its bound, was every
lost stretch recorded as a gap, did readings come back once the fault ended, and did anything
crash (a crash is an exception out of the run, or an `internal_error` event in the file).

Bounds (the numbers the rows are held to):
- link lost: the `link_lost` alarm within 1 s of the drop;
- silence: the Monitor's `no_data` alarm within `no_data_after_s` (5 s) of the last reading and
  `stale` within `stale_after_s` (10 s) of the last valid value (both from alarms.toml);
- resume: the first reading after the link is back within one frame period; on the pty also
  the reopen after the cable is back, within the host's reopen back-off + one frame; after a
  BLE outage (the device out of range for 5 s to 2 min) the first reading within the
  transport's first back-off step (0.5 s) + one frame;
- corruption and garbage: nothing out of range recorded as valid, and the stream resynchronises
  (the last clean frames all decode).

Transports: BLE through bleak's API and the virtual peripheral on a virtual clock; serial
through a real pty, pyserial and the serial transport on a virtual clock in lockstep with the
device's and the host's threads (the clock stands still while they work, with bounded real
waits; see benchmarks/reliability_lockstep.py);
in-process (codec → Session) on a virtual clock for faults that are about bytes or timestamps.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import random
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks.reliability_common import make_session
from drivers.clock import VirtualClock
from drivers.reading import Reading

NO_DATA_S = 5.0
STALE_S = 10.0
LINK_BOUND = 1.0


def records(path: Path) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {"r": [], "link": [], "alarm": [], "event": []}
    with open(path, encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            k = o.get("k")
            if k in out and not o.get("w"):
                out[k].append(o)
    return out


def raised(rec: dict[str, list[dict[str, Any]]], kind: str) -> list[float]:
    return [a["t"] for a in rec["alarm"] if a["kind"] == kind and a["state"] == "raised"]


def internal_errors(rec: dict[str, list[dict[str, Any]]]) -> int:
    return sum(1 for e in rec["event"] if e.get("name") == "internal_error")


def out_of_range(rec: dict[str, list[dict[str, Any]]]) -> int:
    bad = 0
    for r in rec["r"]:
        sp, pr = r.get("spo2"), r.get("pulse")
        bad_sp = sp is not None and not (0 <= sp <= 100 and math.isfinite(sp))
        bad_pr = pr is not None and not (0 <= pr <= 300 and math.isfinite(pr))
        bad += bad_sp or bad_pr
    return bad


def _first_after(ts: list[float], t: float, eps: float = 1e-6) -> float | None:
    for x in ts:
        if x >= t - eps:
            return x
    return None


def row(fault: str, transport: str, injected: int | str, detected: int | str,
        latency: float | None, bound: str, ok: bool, note: str = "") -> dict[str, Any]:
    return {"fault": fault, "transport": transport, "injected": injected,
            "detected": detected, "max_latency_s": latency, "bound": bound, "pass": ok,
            "note": note}


def _lat_check(events: list[float], alarm_ts: list[float], bound: float
               ) -> tuple[int, float | None]:
    det, worst = 0, None
    for t in events:
        a = _first_after(alarm_ts, t)
        if a is not None and a - t <= bound + 1e-6:
            det += 1
        if a is not None:
            worst = a - t if worst is None else max(worst, a - t)
    return det, worst


# --- BLE (virtual peripheral, real bleak API, virtual clock) ---------------------------------

def _steady(n: int, spo2: float = 96.0) -> list[Reading]:
    return [Reading(t=float(i), spo2=spo2 - (i % 3), pulse=72.0 + (i % 5), pi=3.0)
            for i in range(n)]


async def _ble_session(d: Path, readings: list[Reading], *, profile: str = "plx",
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


async def _finish(s: Any, task: Any, runner: Any) -> dict[str, list[dict[str, Any]]]:
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
            clock, p, s, task, runner = await _ble_session(Path(d), _steady(int(n * every + 60)))
            drops = []
            for _ in range(n):
                await clock.run_for(every)
                drops.append(s.elapsed())
                p.drop_link(down_for=down)
            await clock.run_for(every)
            rec = await _finish(s, task, runner)
            return p, drops, rec

        p, drops, rec = asyncio.run(go())
    sent = sum(1 for x in p.sent if x[1] == plx.CONTINUOUS)
    lost = [x["t"] for x in rec["link"] if x["state"] == "lost"]
    det, worst = _lat_check(drops, raised(rec, "link_lost"), LINK_BOUND)
    conn = [x["t"] for x in rec["link"] if x["state"] == "connected"]
    rts = [x["t"] for x in rec["r"]]
    res_worst = 0.0
    resumed = 0
    for t in drops:
        c = _first_after(conn, t)
        r = _first_after(rts, c) if c is not None else None
        if r is not None:
            resumed += 1
            res_worst = max(res_worst, r - c)
    crash = internal_errors(rec)
    return [
        row("link drop", "BLE", n, det, worst, f"link_lost ≤ {LINK_BOUND:g} s",
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
            clock, p, s, task, runner = await _ble_session(Path(d), _steady(int(n * every + 60)))
            starts = []
            for _ in range(n):
                await clock.run_for(every - silent)
                starts.append(s.elapsed())
                p.go_silent(silent)
                await clock.run_for(silent)
            await clock.run_for(10)
            return starts, await _finish(s, task, runner)

        starts, rec = asyncio.run(go())
    rts = [x["t"] for x in rec["r"]]
    last = [max((t for t in rts if t <= s0 + 1e-6), default=s0) for s0 in starts]
    nd, nd_worst = _lat_check(last, raised(rec, "no_data"), NO_DATA_S)
    st, st_worst = _lat_check(last, raised(rec, "stale"), STALE_S)
    resumed = sum(1 for s0 in starts if _first_after(rts, s0 + silent) is not None)
    lost = sum(1 for x in rec["link"] if x["state"] in ("stale", "lost"))
    crash = internal_errors(rec)
    return [
        row("stall (silent, link up)", "BLE", n, nd, nd_worst, f"no_data ≤ {NO_DATA_S:g} s",
            nd == n and crash == 0, f"{silent:g} s silent; transport STALE/LOST records {lost}"),
        row("stall (silent, link up)", "BLE", n, st, st_worst, f"stale ≤ {STALE_S:g} s",
            st == n),
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
                clock, p, s, task, runner = await _ble_session(
                    Path(d), _steady(seconds + 40), peripheral=cls)
                await clock.run_for(seconds + 30)
                return p, await _finish(s, task, runner)

            p, rec = asyncio.run(go())
        tail = [x for x in rec["r"] if x["t"] > until[0] + 2]
        resync = len(tail) >= 20 and all("spo2" in x for x in tail)
        wrong = sum(1 for x in rec["r"] if "spo2" in x and (
            x["spo2"] not in (94, 95, 96) or x.get("pulse") not in (72, 73, 74, 75, 76)))
        oor = out_of_range(rec)
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
            clock, p, s, task, runner = await _ble_session(Path(d), _steady(n * 5 + 40))
            for _ in range(n):
                await clock.run_for(4.5)
                for _ in range(3):
                    p.notify(plx.CONTINUOUS, bytes(rng.randrange(256) for _ in range(size)))
            await clock.run_for(20)
            return p, await _finish(s, task, runner)

        _p, rec = asyncio.run(go())
    tail = [x for x in rec["r"] if x["t"] > rec["r"][-1]["t"] - 15]
    ok = out_of_range(rec) == 0 and internal_errors(rec) == 0 and all("spo2" in x for x in tail)
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
            clock, p, s, task, runner = await _ble_session(
                Path(d), _steady(int(seconds) + 10), profile="contec", peripheral=Deaf,
                params={"profile": "contec"}, target="C0:FF:EE:00:00:01")
            await clock.run_for(seconds)
            return p, await _finish(s, task, runner)

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


# --- serial through a real pty, virtual clock in lockstep -----------------------------------

def _pty_run(dev: Any, clock: VirtualClock, params: dict[str, str],
             script: Callable[[Any, Any, Any], Any], d: Path, *, expect_stream: bool = True
             ) -> tuple[dict[str, list[dict[str, Any]]], Any]:
    """The device on a real pty, pyserial and `open_serial` into a Session, all on `clock`
    in lockstep (`benchmarks.reliability_lockstep`); `script(session, device, lockstep)` moves
    the clock. Returns the recording's records and the lockstep driver (for its counters)."""
    from benchmarks.reliability_lockstep import Lockstep
    from drivers.serial_transport import open_serial

    path = dev.start()
    try:
        src = open_serial(path, {"protocol": "cms50-v7", **params}, clock)
        s = make_session(clock, d, f"serial:{path}")

        async def go() -> Any:
            ls = Lockstep(clock, dev, src, s, expect_stream=expect_stream)
            await ls.start(tick_every=0.1)
            try:
                await script(s, dev, ls)
            finally:
                await ls.stop()
            return ls

        ls = asyncio.run(go())
        s.close("fault run done")
        return records(s.recording_path), ls
    finally:
        dev.stop()


async def _until(ls: Any, pred: Callable[[], bool], limit: float, step: float = 0.25,
                 quiet: bool = False) -> bool:
    """Moves the virtual clock `step` s at a time until `pred()` or `limit` virtual seconds."""
    end = ls.clock.now() + limit
    while not pred():
        if ls.clock.now() >= end - 1e-9:
            return False
        await ls.step(min(step, end - ls.clock.now()), quiet)
    return True


def _reopen_wait(down: float) -> float:
    """How long after the cable is back the host's reopen back-off has it try again: attempts
    follow the LOST at once, then after BACKOFF[0], BACKOFF[1], … (the last one repeating)."""
    from drivers.link import BACKOFF

    t, k = 0.0, 0
    while t < down - 1e-9:
        t += BACKOFF[min(k, len(BACKOFF) - 1)]
        k += 1
    return t - down


def pty_faults(n_drops: int = 3, stall_s: float | None = 12.0, every: float = 30.0,
               down: float = 1.0) -> list[dict[str, Any]]:
    """Cable pulls every `every` s (out `down` s), garbage, a stall (None: no stall rows) and
    a deaf device, on a virtual clock in lockstep with the device and the host's threads."""
    from simulators.virtual_serial import VirtualSerialOximeter, pty_supported, steady_patient

    if not pty_supported():
        return [row("serial faults", "pty", 0, 0, None, "-", True,
                    "skipped: needs a POSIX pseudo-terminal")]
    rate = 60.0
    frame = 1 / rate
    out = []
    with tempfile.TemporaryDirectory() as d:
        link = Path(d) / "oxi-tty"
        clock = VirtualClock()
        dev = VirtualSerialOximeter("cms50-v7", steady_patient(), rate=rate, link_path=link,
                                    clock=clock, catch_up=None)
        drops: list[float] = []
        noticed: list[float] = []  # real seconds the host took to see each pull
        stall: list[float] = []
        garbage = [0]

        async def script(s: Any, dev: Any, ls: Any) -> None:
            await _until(ls, lambda: s.readings > 60, 5)
            for _ in range(n_drops):
                await _until(ls, lambda: False, every - down - 3.0, step=0.5)
                drops.append(s.elapsed())
                dev.inject("disconnect", seconds=down)
                t_real = time.perf_counter()
                await ls.settle()  # the host notices the pull (real time; clock stands still)
                noticed.append(time.perf_counter() - t_real)
                await ls.fine(down + 3.0)  # through the reopen back-off, timer by timer
            for _ in range(3):
                dev.inject("garbage", n=200)
                garbage[0] += 1
                await ls.settle(quiet=True)
                await _until(ls, lambda: False, 0.5, quiet=True)
                n0 = s.readings
                await _until(ls, lambda n0=n0: s.readings > n0 + 30, 3)
            if stall_s is None:
                return
            stall.append(s.elapsed())
            dev.inject("stall", seconds=stall_s)
            await ls.settle()
            await _until(ls, lambda: False, stall_s + 0.5, step=0.1)
            n0 = s.readings
            await _until(ls, lambda: s.readings > n0 + 60, 5)

        rec, ls = _pty_run(dev, clock, {"stale": "2", "lost": "30"}, script, Path(d))
    crash = internal_errors(rec)
    det, worst = _lat_check(drops, raised(rec, "link_lost"), LINK_BOUND)
    lost = [x["t"] for x in rec["link"] if x["state"] == "lost"]
    conn = [x["t"] for x in rec["link"] if x["state"] == "connected"]
    rts = [x["t"] for x in rec["r"]]
    resumed, rworst = 0, 0.0
    back_ok, bworst = 0, 0.0
    wait = _reopen_wait(down)
    for t in drops:
        c = _first_after(conn, t)
        r = _first_after(rts, c) if c is not None else None
        if r is not None:
            resumed += r - c <= frame + 1e-6
            rworst = max(rworst, r - c)
            back = r - (t + down)
            back_ok += back <= wait + frame + 1e-6
            bworst = max(bworst, back)
    how = (f"every {every:g} s; virtual clock in lockstep: it stands still while the host's "
           f"reader sees the closed port (real time: worst {max(noticed, default=0) * 1e3:.0f} "
           f"ms); bounded real-time waits that ran out: {ls.settle_timeouts}")
    out.append(row(f"link drop (cable out {down:g} s)", "serial pty", n_drops, det, worst,
                   f"link_lost ≤ {LINK_BOUND:g} s", det == n_drops and crash == 0, how))
    out.append(row("link drop: gap recorded", "serial pty", n_drops,
                   sum(1 for t in drops if _first_after(lost, t) is not None), None,
                   "one LOST record per drop", len(lost) == n_drops))
    # the host sends the start command as it connects: the first frame is due at once
    out.append(row("link drop: readings resume", "serial pty", n_drops, resumed, rworst,
                   f"1 frame (1/{rate:g} s) after reconnect", resumed == n_drops,
                   f"{len(rts)} readings recorded, {dev.frames_sent} frames sent"))
    out.append(row("link drop: reopened after the cable is back", "serial pty", n_drops,
                   back_ok, bworst, f"host reopen back-off ({wait:g} s after a {down:g} s "
                   f"pull) + 1 frame (1/{rate:g} s)", back_ok == n_drops,
                   "back-off between reopen attempts 0.25, 0.5, 1, 2 s (serial_transport)"))
    last_valid_tail = [x for x in rec["r"] if x["t"] > rts[-1] - 0.5]
    out.append(row("garbage bursts (200 bytes)", "serial pty", garbage[0], garbage[0], None,
                   "0 out-of-range valid; resync",
                   out_of_range(rec) == 0 and crash == 0
                   and all("spo2" in x for x in last_valid_tail)))
    if stall:
        s0 = stall[0]
        last = max(t for t in rts if t <= s0 + 1e-6)
        nd, ndw = _lat_check([last], raised(rec, "no_data"), NO_DATA_S)
        st, stw = _lat_check([last], raised(rec, "stale"), STALE_S)
        tstale = _first_after([x["t"] for x in rec["link"] if x["state"] == "stale"], s0)
        out.append(row(f"stall {stall_s:g} s", "serial pty", 1, nd, ndw,
                       f"no_data ≤ {NO_DATA_S:g} s", nd == 1, "transport STALE after "
                       + (f"{tstale - last:.2f} s (stale=2)" if tstale else "never")))
        out.append(row(f"stall {stall_s:g} s", "serial pty", 1, st, stw, f"stale ≤ {STALE_S:g} s",
                       st == 1 and _first_after(rts, s0 + (stall_s or 0)) is not None))

    # a device that never answers its start command
    class Deaf(VirtualSerialOximeter):
        def _command(self, cmd: int, a: bytes) -> None:
            pass

    with tempfile.TemporaryDirectory() as d:
        clock2 = VirtualClock()
        dev2 = Deaf("cms50-v7", steady_patient(), clock=clock2, catch_up=None)

        async def script2(s: Any, dev: Any, ls: Any) -> None:
            await ls.fine(2.0)

        rec2, _ls2 = _pty_run(dev2, clock2, {"stale": "1", "lost": "1.5"}, script2, Path(d),
                              expect_stream=False)
    conn = [x["t"] for x in rec2["link"] if x["state"] == "connected"]
    ll = raised(rec2, "link_lost")
    lat = ll[0] - conn[0] if ll and conn else None
    ok = lat is not None and lat <= 1.5 + 0.25 + 1e-6 and not rec2["r"]
    out.append(row("never answers start", "serial pty", 1, int(bool(ll)), lat,
                   "link_lost ≤ lost=1.5 s + 0.25 s tick", ok and internal_errors(rec2) == 0,
                   f"{len(dev2.commands)} host commands ignored; {len(rec2['r'])} readings"))
    return out


def pty_corruption(rates: list[float], seconds: float) -> list[dict[str, Any]]:
    """Bit flips on the wire: the virtual device's bytes flipped at `rate` per bit for
    `seconds`, then clean; the host must reject what it can, never record an impossible value,
    and decode every clean frame after."""
    from simulators.virtual_serial import pty_supported

    if not pty_supported():
        return [row("bit flips", "serial pty", 0, 0, None, "-", True,
                    "skipped: needs a POSIX pseudo-terminal")]
    return [_pty_noise(rate, seconds, 200 + k) for k, rate in enumerate(rates)]


def _pty_noise(rate: float, seconds: float, seed: int) -> dict[str, Any]:
    from simulators.virtual_serial import VirtualSerialOximeter, steady_patient

    rng = random.Random(seed)
    state = {"on": False, "flips": 0}
    marks: dict[str, float] = {}

    class Noisy(VirtualSerialOximeter):
        def _send(self, data: bytes) -> None:
            if state["on"]:
                b = bytearray(data)
                for j in range(len(b) * 8):
                    if rng.random() < rate:
                        b[j // 8] ^= 1 << (j % 8)
                        state["flips"] += 1
                data = bytes(b)
            super()._send(data)

    async def script(s: Any, dev: Any, ls: Any) -> None:
        await _until(ls, lambda: s.readings > 30, 5)
        state["on"] = True
        await _until(ls, lambda: False, seconds, quiet=True)
        state["on"] = False
        marks["clean"] = s.elapsed()
        await _until(ls, lambda: False, 0.5, quiet=True)  # leftovers of the noise
        n0 = s.readings
        await _until(ls, lambda: s.readings > n0 + 120, 5)

    with tempfile.TemporaryDirectory() as d:
        clock = VirtualClock()
        dev = Noisy("cms50-v7", steady_patient(spo2=97, pulse=72), clock=clock,
                    keepalive_timeout=None, catch_up=None)
        rec, _ls = _pty_run(dev, clock, {"stale": "5", "lost": "30"}, script, Path(d))
    tail = [x for x in rec["r"] if x["t"] > marks.get("clean", 0) + 0.5]
    wrong = sum(1 for x in rec["r"] if "spo2" in x and (x["spo2"] != 97 or x.get("pulse") != 72))
    ok = (out_of_range(rec) == 0 and internal_errors(rec) == 0 and len(tail) >= 60
          and all(x.get("spo2") == 97 for x in tail))
    return row(f"bit flips {rate:g}/bit", "serial pty", state["flips"], "–", None,
               "0 out-of-range valid; resync", ok,
               f"{seconds:g} s of noise at 60 frames/s (virtual clock); readings recorded "
               f"{len(rec['r'])}; in-range wrong values accepted {wrong}")


# --- in-process: codec → Session on a virtual clock ------------------------------------------

def _codec_session(chunks: list[bytes], d: Path, rate: float = 60.0
                   ) -> tuple[dict[str, list[dict[str, Any]]], Any, int]:
    from drivers.protocols.cms50_v7 import CMS50V7Codec

    clock = VirtualClock()
    s = make_session(clock, d, "serial:in-process")
    dec = CMS50V7Codec()
    n = 0
    for c in chunks:
        for r in dec.feed(c):
            clock.advance(1 / rate)
            s.on_item(replace(r, t=clock.now()))
            n += 1
            if n % 15 == 0:
                s.tick()
    s.close("fault run done")
    return records(s.recording_path), dec, n


def _frames(seconds: int, seed: int = 0) -> list[bytes]:
    from drivers.protocols.cms50_v7 import CMS50V7Codec
    from simulators.virtual_serial import frames, steady_patient

    return [CMS50V7Codec.encode(v, p) for v, p in frames(steady_patient(seconds=seconds))]


def inproc_corruption(rates: list[float], seconds: int) -> list[dict[str, Any]]:
    out = []
    for k, rate in enumerate(rates):
        rng = random.Random(100 + k)
        fr = _frames(seconds + 5)
        corrupt_until = len(fr) - 5 * 60
        flips = 0
        chunks = []
        for i, f in enumerate(fr):
            if i < corrupt_until:
                b = bytearray(f)
                for j in range(len(b) * 8):
                    if rng.random() < rate:
                        b[j // 8] ^= 1 << (j % 8)
                        flips += 1
                f = bytes(b)
            chunks.append(f)
        with tempfile.TemporaryDirectory() as d:
            rec, dec, n = _codec_session(chunks, Path(d))
        tail_ok = n >= 5 * 60 - 1 and all("spo2" in x for x in rec["r"][-(5 * 60 - 1):])
        wrong = sum(1 for x in rec["r"] if "spo2" in x
                    and (x["spo2"] != 97 or x.get("pulse") != 72))
        oor = out_of_range(rec)
        out.append(row(f"bit flips {rate:g}/bit", "in-process cms50-v7", flips,
                       dec.stats.frames_bad + dec.stats.bytes_skipped, None,
                       "0 out-of-range valid; resync",
                       oor == 0 and internal_errors(rec) == 0 and tail_ok,
                       f"{len(fr)} frames sent, {n} decoded; detected = rejected frames "
                       f"{dec.stats.frames_bad} + skipped bytes {dec.stats.bytes_skipped}; "
                       f"in-range wrong values accepted {wrong} (V7.0 has no checksum)"))
    return out


def inproc_timestamps(n: int = 600) -> list[dict[str, Any]]:
    """Duplicate, out-of-order and jumping timestamps straight into the Session."""
    from oxi_assist.recordings import open_writer  # noqa: F401  (the session opens it)

    out = []
    with tempfile.TemporaryDirectory() as d:
        clock = VirtualClock()
        s = make_session(clock, Path(d), "replay:timestamps")
        rng = random.Random(5)
        dup = back = 0
        t = 0.0
        for _ in range(n):
            clock.advance(1.0)
            t += 1.0
            r = Reading(t=t, spo2=95.0, pulse=70.0)
            s.on_item(r)
            if rng.random() < 0.1:
                s.on_item(r)
                dup += 1
            if rng.random() < 0.1:
                s.on_item(replace(r, t=t - rng.uniform(0.5, 30)))
                back += 1
            s.tick()
        s.close()
        rec = records(s.recording_path)
        ts = [x["t"] for x in rec["r"]]
        mono = all(b >= a - 2.0 - 1e-9 for a, b in itertools.pairwise(ts))
        out.append(row("duplicate timestamps", "in-process Session", dup, len(rec["r"]) - n
                       - back, None, "no crash; file readable",
                       internal_errors(rec) == 0 and len(ts) == n + dup + back,
                       "every item kept (recorded as received)"))
        out.append(row("out-of-order timestamps", "in-process Session", back, back, None,
                       "session time never runs back > 2 s", mono and internal_errors(rec) == 0,
                       f"Monitor dropped {getattr(s.monitor, 'dropped', '?')} older items"))

    # clock jumps: the machine sleeps (clock leaps forward) while a device is connected
    with tempfile.TemporaryDirectory() as d:
        clock = VirtualClock()
        s = make_session(clock, Path(d), "serial:jump")
        jumps = [3600.0, 120.0, 30.0]
        lasts = []
        for j in jumps:
            for _ in range(60):
                clock.advance(1.0)
                s.on_item(Reading(t=clock.now(), spo2=95.0, pulse=70.0))
                s.tick()
            lasts.append(s.elapsed())
            clock.advance(j)
            s.tick()
        for _ in range(10):
            clock.advance(1.0)
            s.on_item(Reading(t=clock.now(), spo2=95.0, pulse=70.0))
            s.tick()
        s.close()
        rec = records(s.recording_path)
    nd, ndw = _lat_check(lasts, raised(rec, "no_data"), NO_DATA_S)
    rts = [x["t"] for x in rec["r"]]
    gaps = sum(1 for a, b in itertools.pairwise(rts) if b - a > NO_DATA_S)
    out.append(row("clock jumps (+1 h, +2 min, +30 s)", "in-process Session", len(jumps), nd,
                   ndw, f"no_data at last reading + {NO_DATA_S:g} s",
                   nd == len(jumps) and gaps == len(jumps) and internal_errors(rec) == 0,
                   f"{gaps} gaps in the recorded times"))
    return out


def finger_out_storm(toggles: int = 60, first_at: float = 60.0) -> list[dict[str, Any]]:
    """The finger in and out every few seconds through the simulator → codec → Session."""
    from drivers.protocols.cms50_v7 import CMS50V7Codec
    from simulators.scenario import load_scenario
    from simulators.simulator import Simulator
    from simulators.virtual_serial import frames

    sim = Simulator(load_scenario("baseline"), seed=9, pleth_rate=60)
    rng = random.Random(9)
    at = first_at
    outs = []
    for _ in range(toggles):
        secs = rng.choice([1, 2, 3, 5])
        sim.schedule(at, "finger_out", seconds=secs)
        outs.append(at)
        at += secs + rng.choice([3, 4, 6, 8])
    end = at + 30
    fr = list(frames(sim.run(end)))
    from benchmarks.reliability_common import count_gaps

    gaps_sent = count_gaps([v for v, _ in fr])
    chunks = [CMS50V7Codec.encode(v, p) for v, p in fr]
    with tempfile.TemporaryDirectory() as d:
        rec, _dec, n = _codec_session(chunks, Path(d))
    gaps_rec = 0
    in_gap = False
    fo_starts = []
    for x in rec["r"]:
        bad = "spo2" not in x
        if bad and not in_gap:
            gaps_rec += 1
            fo_starts.append(x["t"])
        in_gap = bad
    ok = gaps_rec == gaps_sent and n == len(fr) and internal_errors(rec) == 0
    fo = raised(rec, "finger_out")
    return [row("finger-out storm", "in-process cms50-v7", toggles, gaps_rec, None,
                "every stretch recorded as a gap", ok,
                f"gaps sent {gaps_sent}, recorded {gaps_rec}; finger_out alarms {len(fo)} "
                f"(2 s delay rides over short ones)")]


def run_matrix(quick: bool = True) -> list[dict[str, Any]]:
    rates = [1e-4, 1e-3, 1e-2, 1e-1]
    rows: list[dict[str, Any]] = []
    rows += ble_drops(10 if quick else 100)
    rows += ble_silence(3 if quick else 20)
    rows += ble_corruption(rates, 60 if quick else 600)
    rows += ble_garbage(5 if quick else 50)
    rows += ble_no_start()
    from benchmarks.reliability_ble_outages import ble_outages  # it imports this module

    rows += ble_outages(9 if quick else 100)
    rows += pty_faults(5 if quick else 100)
    rows += pty_corruption(rates[1:] if quick else rates, 3.0 if quick else 10.0)
    rows += inproc_corruption(rates, 60 if quick else 600)
    rows += inproc_timestamps(300 if quick else 3000)
    rows += finger_out_storm(20 if quick else 200)
    return rows
