"""Faults that are about bytes or time stamps, played in process (codec → Session on a virtual
clock): corrupted frames, timestamps that jump or go backwards, a finger-out storm."""

from __future__ import annotations

import itertools
import random
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from benchmarks import reliability_verdicts as verdicts
from benchmarks.reliability_common import make_session
from benchmarks.reliability_verdicts import internal_errors, raised, records, row
from drivers.clock import VirtualClock
from drivers.reading import Reading


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
        oor = verdicts.out_of_range(rec)
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
    nd, ndw = verdicts.lat_check(lasts, raised(rec, "no_data"), verdicts.NO_DATA_S)
    rts = [x["t"] for x in rec["r"]]
    gaps = sum(1 for a, b in itertools.pairwise(rts) if b - a > verdicts.NO_DATA_S)
    out.append(row("clock jumps (+1 h, +2 min, +30 s)", "in-process Session", len(jumps), nd,
                   ndw, f"no_data at last reading + {verdicts.NO_DATA_S:g} s",
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
