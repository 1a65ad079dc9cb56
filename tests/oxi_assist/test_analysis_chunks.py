"""The analysis of a recording read in chunks is the analysis of the whole recording: the same
alarms, events, statistics and (block-summed) durations, to the last bit, wherever the chunk
boundaries fall; and its memory is bounded by the chunk, not by the recording."""

from __future__ import annotations

import os
import tracemalloc
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.bench_analysis import synthetic
from drivers.reading import Status
from oxi_assist.analysis import Trace, analyze_trace, device_values
from oxi_assist.monitor.alarm_config import AlarmConfig
from tests.oxi_assist.test_live_offline_agreement import configs, traces

#: readings per partial sum in these tests: small, so that chunks can be small too
BLOCK = 4


def whole_and_chunked(tr: Trace, cfg: AlarmConfig, chunks: list[int]) -> None:
    whole = analyze_trace(tr, cfg, block=BLOCK).to_dict()
    for chunk in chunks:
        assert analyze_trace(tr, cfg, chunk=chunk, block=BLOCK).to_dict() == whole, chunk


@settings(settings.get_profile(os.environ.get("OXI_AGREEMENT_PROFILE", "oxi-agreement")))
@given(traces(), configs(), st.sampled_from([BLOCK, 2 * BLOCK, 3 * BLOCK, 10 * BLOCK]))
def test_chunked_equals_whole_on_any_trace(trace: tuple[list, list[float]],
                                           cfg: AlarmConfig, chunk: int) -> None:
    items, _ticks = trace
    whole_and_chunked(Trace.from_items(items), cfg, [chunk])


def night(seed: int) -> Trace:
    """Two hours at 1 Hz with dips, finger-out, motion and a minute with no data; longer
    holes (the value goes stale: stale marks inside runs), a desaturation longer than
    max_duration_s (restarts), a rapid fall (bypass) and a low stretch at the very end
    (alarms and an event still open when the recording ends)."""
    tr = synthetic(2.0, 1.0, seed=seed)
    t, spo2, pulse = tr.t.copy(), tr.spo2.copy(), tr.pulse.copy()
    status = tr.status.copy()
    rng = np.random.default_rng(seed)
    for c in rng.integers(100, len(t) - 400, 6):  # holes of 15-40 s: the value goes stale
        t[c:] += rng.uniform(15, 40)
    i = int(len(t) * 0.6)
    spo2[i:i + 300] = np.linspace(96, 84, 300).round()  # too long: restarts
    j = int(len(t) * 0.3)
    spo2[j:j + 20] = 97.0
    spo2[j + 20:j + 60] = 78.0  # a rapid fall
    k = int(len(t) * 0.45)
    spo2[k - 30:k], spo2[k:k + 20] = 97.0, 86.0  # a dip the finger leaves: ended by a gap
    spo2[k + 20:k + 25] = pulse[k + 20:k + 25] = np.nan
    status[k + 20:k + 25] = int(Status.FINGER_OUT)
    m = int(len(t) * 0.8)
    spo2[m - 30:m], spo2[m:m + 30] = 97.0, 86.0  # a dip where the value goes stale
    t[m + 15:] += 20.0
    spo2[-50:] = 82.0  # open at the end
    pulse[-30:] = 30.0
    return Trace(t, spo2, pulse, np.full(len(t), np.nan), status, np.zeros(0), [], 0, 1.0)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_chunked_equals_whole_on_a_night(seed: int) -> None:
    tr = night(seed)
    cfg = AlarmConfig.default()
    a = analyze_trace(tr, cfg, block=BLOCK)
    # the night exercises what crosses a boundary: marks, restarts, open alarms and events
    ended = {d.outcome for d in a.desaturations}
    assert {"recovered", "too_long", "gap", None} <= ended
    assert any(x.end is None for x in a.alarms)
    assert {"stale", "finger_out", "spo2_severe", "pulse_low"} <= set(a.alarm_counts)
    whole_and_chunked(tr, cfg, [BLOCK, 64, 100 * BLOCK, 1000, 2048])


def test_every_boundary_inside_one_event() -> None:
    """One desaturation with an alarm and a stale gap inside it, cut at each reading in
    turn."""
    t = np.arange(200.0)
    t[120:] += 12.0  # the value goes stale inside the dip
    spo2 = np.full(200, 97.0)
    spo2[80:150] = 84.0
    tr = Trace(t, spo2, np.full(200, 70.0), np.full(200, np.nan), np.zeros(200, dtype=np.int32),
               np.zeros(0), [], 0, 1.0)
    cfg = AlarmConfig.default()
    whole = analyze_trace(tr, cfg, block=1).to_dict()
    assert whole["desaturations"] and whole["alarms"]
    for chunk in range(1, 200):
        assert analyze_trace(tr, cfg, chunk=chunk, block=1).to_dict() == whole, chunk


def test_device_values_chunked() -> None:
    tr = night(4)
    cfg = AlarmConfig.default()
    whole = device_values(tr, cfg)
    for chunk in (1024, 2048):
        assert device_values(tr, cfg, chunk=chunk) == whole
    a = analyze_trace(tr, cfg)
    assert whole == (a.device, a.valid_samples, a.valid_time_s)


def test_statistics_that_never_settle_use_every_value() -> None:
    """Stretches shorter than the start-up everywhere: every value is reported, chunked or
    not (a stretch begins after each invalid reading)."""
    n = 64
    spo2 = np.where(np.arange(n) % 3 == 2, np.nan, 90.0 + np.arange(n) % 3)
    status = np.where(np.isnan(spo2), int(Status.FINGER_OUT), 0)
    tr = Trace(np.arange(float(n)), spo2, np.full(n, 60.0), np.full(n, np.nan), status,
               np.zeros(0), [], 0, 1.0)
    cfg = replace(AlarmConfig.default(), acquisition_s=5.0)
    a = analyze_trace(tr, cfg, block=BLOCK)
    assert (a.device.min_spo2, a.device.max_spo2) == (90.0, 91.0)
    whole_and_chunked(tr, cfg, [BLOCK, 2 * BLOCK])


def test_chunk_must_hold_whole_blocks() -> None:
    with pytest.raises(ValueError, match="blocks"):
        analyze_trace(night(1), AlarmConfig.default(), chunk=1000)


def test_memory_is_bounded_by_the_chunk() -> None:
    """A million readings with chunks of 2**16: the analysis's own allocations stay under
    24 bytes a reading — the device's SpO2 and baseline it keeps (4 bytes a reading), one
    chunk's work (about 120 bytes a reading of the chunk) and the records it returns (about
    7000 events and alarms) — where a pass over the whole at once takes about 70."""
    tr = synthetic(1_000_000 / 3600, 1.0, seed=5)
    n = len(tr.t)
    analyze_trace(synthetic(10.0, 1.0))  # once per process: the allocator's warm-up block
    tracemalloc.start()
    try:
        a = analyze_trace(tr, chunk=1 << 16)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(a.desaturations) + len(a.alarms) > 5000
    assert peak < 24 * n
