"""How fast the simulator makes a scenario: simulated seconds per wall-clock second (best of
several runs, since the machine is shared).

Measured on one hour of the opioid-overdose scenario with naloxone (1 Hz vitals + 100 Hz pleth,
one Reading per second carrying its pleth). The baseline, measured in the same run, steps the
same patient and oximeter models but builds the pleth the straightforward way: a pure-Python
loop over every waveform sample.
"""

from __future__ import annotations

import math
import random
import time
from typing import Any

from drivers.reading import Reading, Status
from simulators.oximeter_model import Oximeter
from simulators.physiology import PatientModel
from simulators.scenario import load_scenario
from simulators.simulator import Simulator

RATE = 100
TARGET = 10_000.0


def _fast(seconds: int, rate: int) -> float:
    sc = load_scenario("opioid-overdose")
    sim = Simulator(sc, seed=1, pleth_rate=rate)
    sim.schedule(120, "breaths_on")
    sim.schedule(120, "naloxone")
    t0 = time.perf_counter()
    n = 0
    for _ in sim.run(seconds):
        n += 1
    dt = time.perf_counter() - t0
    assert n >= seconds * 0.95
    return seconds / dt


def _beat(ph: float) -> float:
    return (math.exp(-((ph - 0.16) / 0.07) ** 2) + 0.42 * math.exp(-((ph - 0.42) / 0.09) ** 2)
            + (0.25 * math.exp(-ph / 0.35) if ph > 0.16 else 0.0))


def _naive(seconds: int, rate: int) -> float:
    """Same models, pleth sample by sample in Python."""
    import numpy as np

    sc = load_scenario("opioid-overdose")
    pm = PatientModel(sc.patient_params())
    ox = Oximeter(sc.oximeter_params(), np.random.default_rng(1), pm.sao2, pm.hr)
    rnd = random.Random(1)
    events = [(30, lambda: pm.give("fentanyl", 14, "injected")),
              (120, lambda: setattr(pm, "breaths_on", True)),
              (120, lambda: pm.give("naloxone", route="im"))]
    beat_phase = resp_phase = 0.0
    out: list[Reading] = []
    t0 = time.perf_counter()
    for sec in range(seconds):
        while events and events[0][0] <= sec:
            events.pop(0)[1]()
        hr_prev = pm.hr
        pm.step()
        spo2, pulse, pi, st, amp = ox.update(float(sec + 1), pm.sao2, pm.hr, pm.perf)
        samples = []
        beat = False
        for i in range(rate):
            hr = hr_prev + (pm.hr - hr_prev) * (i + 1) / rate
            new = beat_phase + hr / 60.0 / rate
            beat = beat or math.floor(new) > math.floor(beat_phase)
            beat_phase = new
            resp_phase += pm.rr / 60.0 / rate
            a = amp * 70.0
            v = 15.0 + a * (_beat(beat_phase % 1.0) / 1.25
                            + 0.06 * math.sin(2 * math.pi * resp_phase))
            v += rnd.gauss(0.0, 0.6 + 0.01 * a)
            samples.append(float(round(min(100.0, max(0.0, v)))))
        flags = Status(st | (Status.BEAT if beat else 0))
        out.append(Reading(float(sec + 1), spo2, pulse, pi, tuple(samples), float(rate), flags))
    dt = time.perf_counter() - t0
    return seconds / dt


def run(quick: bool = False) -> list[dict[str, Any]]:
    fast_s = 3600 if quick else 4 * 3600
    naive_s = 300 if quick else 1800
    fast = max(_fast(fast_s, RATE) for _ in range(3 if quick else 5))
    naive = _naive(naive_s, RATE)
    vitals = max(_fast(fast_s, 0) for _ in range(3 if quick else 5))
    return [
        {"benchmark": "simulator: opioid-overdose, 1 Hz vitals + 100 Hz pleth",
         "value": round(fast), "unit": "sim s / wall s", "baseline": round(naive),
         "ratio": round(fast / naive, 1), "target": f">= {TARGET:,.0f}x real time"},
        {"benchmark": "simulator: same, vitals only (no pleth)",
         "value": round(vitals), "unit": "sim s / wall s", "baseline": None, "ratio": None,
         "target": f">= {TARGET:,.0f}x real time"},
        {"benchmark": "simulator: wall time for one simulated hour with pleth",
         "value": round(3600 / fast * 1000, 1), "unit": "ms", "baseline":
             round(3600 / naive * 1000, 1), "ratio": round(fast / naive, 1),
         "target": "< 1000 ms"},
    ]


if __name__ == "__main__":
    import sys

    for row in run(quick="--full" not in sys.argv):
        print(row)
