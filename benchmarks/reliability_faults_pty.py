"""Faults on the serial path: the virtual device on a real pty, pyserial and the serial
transport into a recording Session, on a virtual clock in lockstep with the device's and the
host's threads (cable pulls, stalls, corrupted bytes)."""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import reliability_verdicts as verdicts
from benchmarks.reliability_common import make_session
from benchmarks.reliability_verdicts import internal_errors, raised, records, row
from drivers.clock import VirtualClock


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
    det, worst = verdicts.lat_check(drops, raised(rec, "link_lost"), verdicts.LINK_BOUND)
    lost = [x["t"] for x in rec["link"] if x["state"] == "lost"]
    conn = [x["t"] for x in rec["link"] if x["state"] == "connected"]
    rts = [x["t"] for x in rec["r"]]
    resumed, rworst = 0, 0.0
    back_ok, bworst = 0, 0.0
    wait = _reopen_wait(down)
    for t in drops:
        c = verdicts.first_after(conn, t)
        r = verdicts.first_after(rts, c) if c is not None else None
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
                   f"link_lost ≤ {verdicts.LINK_BOUND:g} s", det == n_drops and crash == 0, how))
    out.append(row("link drop: gap recorded", "serial pty", n_drops,
                   sum(1 for t in drops if verdicts.first_after(lost, t) is not None), None,
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
                   verdicts.out_of_range(rec) == 0 and crash == 0
                   and all("spo2" in x for x in last_valid_tail)))
    if stall:
        s0 = stall[0]
        last = max(t for t in rts if t <= s0 + 1e-6)
        nd, ndw = verdicts.lat_check([last], raised(rec, "no_data"), verdicts.NO_DATA_S)
        st, stw = verdicts.lat_check([last], raised(rec, "stale"), verdicts.STALE_S)
        tstale = verdicts.first_after([x["t"] for x in rec["link"] if x["state"] == "stale"], s0)
        out.append(row(f"stall {stall_s:g} s", "serial pty", 1, nd, ndw,
                       f"no_data ≤ {verdicts.NO_DATA_S:g} s", nd == 1, "transport STALE after "
                       + (f"{tstale - last:.2f} s (stale=2)" if tstale else "never")))
        out.append(row(f"stall {stall_s:g} s", "serial pty", 1, st, stw,
                       f"stale ≤ {verdicts.STALE_S:g} s",
                       st == 1 and verdicts.first_after(rts, s0 + (stall_s or 0)) is not None))

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
    ok = (verdicts.out_of_range(rec) == 0 and internal_errors(rec) == 0 and len(tail) >= 60
          and all(x.get("spo2") == 97 for x in tail))
    return row(f"bit flips {rate:g}/bit", "serial pty", state["flips"], "–", None,
               "0 out-of-range valid; resync", ok,
               f"{seconds:g} s of noise at 60 frames/s (virtual clock); readings recorded "
               f"{len(rec['r'])}; in-range wrong values accepted {wrong}")
