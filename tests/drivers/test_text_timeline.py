"""The even timeline of a long timestamped file, found without an array of all its steps."""

from __future__ import annotations

import numpy as np

from drivers.formats._timeline import _jumps, timeline, typical_interval, typical_step


def long_series(n: int) -> np.ndarray:
    rng = np.random.default_rng(3)
    d = np.where(rng.random(n - 1) < 0.001, rng.uniform(2, 90, n - 1), 1.0)
    d[(1 << 20) - 1] = 30.0  # a jump exactly where one stretch of the search meets the next
    return np.concatenate(([0.0], np.cumsum(d)))


def test_jumps_are_those_of_the_whole_difference() -> None:
    ts = long_series((1 << 20) + 7)
    whole = np.flatnonzero(np.diff(ts) > 1.5)
    assert (1 << 20) - 1 in whole
    assert np.array_equal(_jumps(ts, 1.5), whole)
    assert len(_jumps(ts[:1], 1.5)) == 0


def test_typical_interval_looks_at_the_same_sample() -> None:
    for n in (5, 200_001, 300_000):
        ts = long_series(max(n, (1 << 20) + 7))[:n]
        assert typical_interval(ts) == typical_step(np.diff(ts)) == 1.0


def test_typical_step_smallest_on_a_tie() -> None:
    assert typical_step(np.array([2.0, 1.0, 2.0, 1.0, 0.0, -1.0])) == 1.0
    assert typical_step(np.array([0.0])) == 1.0


def test_timeline_fills_the_holes_of_a_long_file() -> None:
    ts = long_series((1 << 20) + 7)
    n = len(ts)
    t, s, _p, st, _pi, interval, t0 = timeline(ts.copy(), np.full(n, 97.0), np.full(n, 60.0),
                                               np.zeros(n, dtype=np.int32))
    assert interval == 1.0 and t0 == 0.0
    assert np.all(np.diff(t) <= 1.5)  # every hole filled with gap samples
    assert np.count_nonzero(~np.isnan(s)) == n and len(st) == len(t)
