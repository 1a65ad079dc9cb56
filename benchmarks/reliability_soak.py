"""Soak runs: a simulated shift through the whole pipeline, counted at both ends.

Three paths, each ending in a real `Session` (Monitor, default guidance, recorder to a temp
folder) and each counted from the recording file itself:

- in-process: simulator → cms50-v7 `encode` → bytes in seeded random chunk sizes → cms50-v7
  decoder → Session, on a virtual clock at 100 frames/s. This is the long (12 h) run.
- pty: simulator → the virtual CMS50 V7.0 device on a real pseudo-terminal → pyserial and the
  serial transport (`open_serial`) → Session, on a virtual clock in lockstep with the device
  thread (`benchmarks.reliability_lockstep`), so a 12 h shift costs only the pipeline's CPU.
- BLE: simulator → the virtual PLX peripheral → bleak's real `BleakClient`/`BleakScanner` with
  the project's virtual backend → the BLE transport (`open_ble`) → Session, on a virtual clock.

Gaps are injected as finger-out stretches in the simulator (the scenario itself is the quiet
baseline), so "gaps injected" is counted in the generated stream and "gaps recorded" in the file.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.reliability_common import count_gaps, count_recording, make_session, rss_mb
from drivers.clock import VirtualClock
from drivers.reading import LinkEvent, Reading, Status


def _simulator(seconds: float, rate: float, gap_every: float, gap_len: float, seed: int) -> Any:
    from simulators.scenario import load_scenario
    from simulators.simulator import Simulator

    sim = Simulator(load_scenario("baseline"), seed=seed, pleth_rate=rate)
    at = gap_every / 2
    n = 0
    while at + gap_len < seconds - 5:
        sim.schedule(at, "finger_out", seconds=gap_len)
        at += gap_every
        n += 1
    return sim, n


def soak_inprocess(seconds: float, *, rate: int = 100, gap_every: float = 600.0,
                   gap_len: float = 20.0, seed: int = 1,
                   base: Path | None = None) -> dict[str, Any]:
    """`seconds` of simulated time at `rate` frames/s through encode → decode → Session."""
    from drivers.protocols.cms50_v7 import CMS50V7Codec
    from simulators.virtual_serial import frames

    t_wall = time.perf_counter()
    rss0 = rss_mb()
    tmp = tempfile.TemporaryDirectory() if base is None else None
    folder = Path(tmp.name) if tmp else base
    assert folder is not None
    try:
        clock = VirtualClock()
        sim, cues = _simulator(seconds, rate, gap_every, gap_len, seed)
        s = make_session(clock, folder, "serial:in-process")
        enc = CMS50V7Codec.encode
        dec = CMS50V7Codec()
        rng = random.Random(seed)
        step = 1.0 / rate
        sent = gaps_sent = 0
        in_gap = False
        since_tick = 0.0
        rss_warm = None
        warm_at = min(600.0, seconds / 10)
        for r in sim.run(seconds):
            buf = bytearray()
            for v, p in frames([r]):
                buf += enc(v, p)
                sent += 1
                bad = v.spo2 is None or bool(v.status & Status.FINGER_OUT)
                if bad and not in_gap:
                    gaps_sent += 1
                in_gap = bad
            k = 0
            while k < len(buf):  # bytes arrive in pieces, as a UART delivers them
                n = rng.randint(1, 64)
                for d in dec.feed(bytes(buf[k:k + n])):
                    clock.advance(step)
                    s.on_item(Reading(t=clock.now(), spo2=d.spo2, pulse=d.pulse, pi=d.pi,
                                      pleth=d.pleth, pleth_rate=d.pleth_rate, status=d.status))
                    since_tick += step
                    if since_tick >= 0.25:
                        since_tick = 0.0
                        s.tick()
                k += n
            if rss_warm is None and sim.t >= warm_at:
                rss_warm = rss_mb()
        s.close("soak done")
        rss1 = rss_mb()
        fc = count_recording(s.recording_path)
        return {
            "path": "in-process (encode → decode → Session)", "clock": "virtual",
            "simulated_s": float(sim.t), "rate": rate, "generated": sent,
            "recorded": fc.readings, "gaps_injected": cues, "gaps_generated": gaps_sent,
            "gaps_recorded": fc.gaps, "rss_start": rss0, "rss_warm": rss_warm or rss0,
            "rss_end": rss1, "wall_s": time.perf_counter() - t_wall,
            "codec_bad": dec.stats.frames_bad, "codec_skipped": dec.stats.bytes_skipped,
            "file_mb": s.recording_path.stat().st_size / 1e6, "ended": fc.ended,
        }
    finally:
        if tmp:
            tmp.cleanup()


class _Tally:
    """The simulator's readings as the device takes them, counted on the way: frames and gap
    stretches (finger out or no valid SpO2) the device was actually given."""

    def __init__(self, readings: Any) -> None:
        self._it = readings
        self.frames = 0
        self.gaps = 0
        self.last_valid = True

    def __iter__(self) -> Any:
        in_gap = False
        for r in self._it:
            self.frames += max(1, len(r.pleth))
            if not r.wave_only:
                bad = not r.valid
                if bad and not in_gap:
                    self.gaps += 1
                in_gap = bad
                self.last_valid = not bad
            yield r


def soak_pty(seconds: float, *, rate: int = 100, step: float = 1.0, gap_every: float = 600.0,
             gap_len: float = 20.0, seed: int = 2) -> dict[str, Any]:
    """`seconds` of simulated patient at `rate` frames/s (V7.0 framing; the units stream 60)
    through the virtual CMS50 V7.0 on a real pty, pyserial, `open_serial` and a Session, on a
    virtual clock in lockstep (see `benchmarks.reliability_lockstep`): the clock moves `step` s
    at a time and each step's frames reach the host as one burst; it runs as fast as the
    pipeline."""
    from benchmarks.reliability_lockstep import Lockstep
    from drivers.serial_transport import open_serial
    from simulators.virtual_serial import VirtualSerialOximeter, pty_supported

    if not pty_supported():
        return {"path": "pty serial", "skipped": "needs a POSIX pseudo-terminal"}
    t_wall = time.perf_counter()
    rss0 = rss_mb()
    sim, cues = _simulator(seconds, rate, gap_every, gap_len, seed)
    tally = _Tally(sim.run(seconds))
    with tempfile.TemporaryDirectory() as d:
        clock = VirtualClock()
        dev = VirtualSerialOximeter("cms50-v7", tally, rate=float(rate), clock=clock,
                                    catch_up=None)
        path = dev.start()
        try:
            src = open_serial(path, {"protocol": "cms50-v7"}, clock)
            s = make_session(clock, Path(d), f"serial:{path}")

            async def go() -> tuple[Any, float | None, bool]:
                ls = Lockstep(clock, dev, src, s)
                await ls.start()
                streaming = dev.streaming
                # the device paces from the start command (clock time 0): frame k is due at
                # k / rate, so stopping half a frame short of `seconds` sends seconds × rate
                end = clock.now() + seconds - 0.5 / rate
                warm_at = clock.now() + min(600.0, seconds / 10)
                warm = None
                while clock.now() < end - 1e-9:
                    await ls.step(min(step, end - clock.now()))
                    if warm is None and clock.now() >= warm_at:
                        warm = rss_mb()
                await ls.stop()
                return ls, warm, streaming

            ls, rss_warm, streaming = asyncio.run(go())
            s.close("soak done")
            fc = count_recording(s.recording_path)
        finally:
            dev.stop()
    gaps_sent = tally.gaps
    if dev.frames_sent > tally.frames and tally.last_valid:
        gaps_sent += 1  # the device sends finger-out frames once its patient has ended
    return {
        "path": "pty serial (virtual CMS50 V7.0 → pyserial → open_serial → Session)",
        "clock": "virtual (lockstep)", "simulated_s": clock.now(), "rate": rate, "step": step,
        "generated": dev.frames_sent, "generator_dropped": dev.frames_dropped,
        "patient_frames": tally.frames, "recorded": fc.readings, "gaps_injected": cues,
        "gaps_generated": gaps_sent, "gaps_recorded": fc.gaps, "rss_start": rss0,
        "rss_warm": rss_warm if rss_warm is not None else rss0, "rss_end": rss_mb(),
        "wall_s": time.perf_counter() - t_wall, "settle_timeouts": ls.settle_timeouts,
        "steps": ls.steps, "streaming_at_start": streaming, "exhausted": dev.exhausted,
        "caught_up": fc.readings == dev.frames_sent,
        "links": fc.links, "ended": fc.ended,
    }


class _SentCount(list):  # type: ignore[type-arg]
    """Stands in for the virtual peripheral's log of what it sent: counts per characteristic
    and keeps nothing, so the memory figures are the pipeline's, not the instrument's (the
    log of a 12 h run holds 43,200 notifications, a few MB)."""

    def __init__(self) -> None:
        super().__init__()
        self.by_uuid: dict[str, int] = {}

    def append(self, item: tuple[float, str, bytes]) -> None:
        self.by_uuid[item[1]] = self.by_uuid.get(item[1], 0) + 1


def soak_ble(seconds: float, *, gap_every: float = 300.0, gap_len: float = 20.0,
             seed: int = 3) -> dict[str, Any]:
    """`seconds` of 1 Hz vitals through the virtual PLX peripheral, bleak and `open_ble`."""
    from drivers.ble_transport import open_ble
    from drivers.protocols import plx
    from simulators.ble.bleak_backend import VirtualAir
    from simulators.ble.peripheral import VirtualPeripheral

    t_wall = time.perf_counter()
    rss0 = rss_mb()
    sim, cues = _simulator(seconds, 0, gap_every, gap_len, seed)
    readings = list(sim.run(seconds))
    with tempfile.TemporaryDirectory() as d:
        clock = VirtualClock()

        async def go() -> tuple[Any, Any, float]:
            air = VirtualAir(clock)
            p = air.add(VirtualPeripheral("plx", readings, clock=clock))
            p.sent = _SentCount()  # type: ignore[assignment]  # counted, not kept
            src = open_ble("auto", {"scan": "1"}, clock, scanner_backend=air.scanner_backend(),
                           client_backend=air.client_backend())
            s = make_session(clock, Path(d), "ble:auto")
            task = asyncio.create_task(s.run(src, tick_every=0.25))
            await clock.run_for(1.5)  # connected before the first reading is sent
            runner = asyncio.create_task(p.run())
            mid = None
            warm_at = clock.now() + min(600.0, seconds / 10)
            while not p.finished.is_set():  # small steps: no idle time after the patient ends
                await clock.run_for(5.0)
                if mid is None and clock.now() >= warm_at:
                    mid = rss_mb()
            await clock.run_for(2.0)
            s.stop()
            await asyncio.wait_for(task, 5.0)
            runner.cancel()
            s.close("soak done")
            return p, s, mid or rss0

        p, s, rss_warm = asyncio.run(go())
        fc = count_recording(s.recording_path)
    return {
        "path": "BLE (virtual PLX peripheral → bleak API → open_ble → Session)",
        "clock": "virtual", "simulated_s": float(sim.t),
        "generated": p.sent.by_uuid.get(plx.CONTINUOUS, 0),
        "recorded": fc.readings, "gaps_injected": cues, "gaps_generated": count_gaps(readings),
        "gaps_recorded": fc.gaps, "rss_start": rss0, "rss_warm": rss_warm, "rss_end": rss_mb(),
        "wall_s": time.perf_counter() - t_wall, "ended": fc.ended,
        "links": fc.links,
    }


__all__ = ["LinkEvent", "soak_ble", "soak_inprocess", "soak_pty"]
