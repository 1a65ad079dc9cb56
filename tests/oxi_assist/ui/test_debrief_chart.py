"""The debrief screen's chart of a long recording: drawn from the lowest and highest value of
each stretch of time, not from a Python list as long as the recording."""

from __future__ import annotations

import numpy as np

from oxi_assist.ui.debrief_screen import CHART_BUCKETS, CHART_SAMPLES, chart_points


def test_a_short_recording_is_drawn_from_every_sample() -> None:
    t = np.arange(5.0)
    v = np.array([97.0, np.nan, 95.0, 94.0, 96.0])
    assert chart_points(t, v, 5.0) == ([0.0, 1.0, 2.0, 3.0, 4.0],
                                       [97.0, None, 95.0, 94.0, 96.0])


def test_a_long_recording_keeps_its_lowest_and_its_gaps() -> None:
    n = 500_000
    t = np.arange(float(n))
    v = 95.0 + np.sin(t / 5000.0)
    v[123_457] = 71.0  # one low reading
    v[300_000:300_600] = np.nan  # ten minutes without a reading
    ts, vs = chart_points(t, v, float(n))
    assert n > CHART_SAMPLES and len(ts) == len(vs) <= 2 * CHART_BUCKETS + 8
    assert min(x for x in vs if x is not None) == 71.0
    gap = [ts[i] for i, x in enumerate(vs) if x is None]
    assert len(gap) == 1 and 300_000 <= gap[0] <= 300_600 + n / CHART_BUCKETS
    assert all(not 300_000 <= a < 300_600 for a, x in zip(ts, vs, strict=True) if x is not None)
