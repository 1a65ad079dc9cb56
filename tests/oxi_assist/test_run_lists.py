"""Runs of readings collected chunk by chunk: joined where one chunk meets the next, cut where
a channel's value went stale between two readings."""

from __future__ import annotations

import numpy as np

from oxi_assist.monitor.alarm_rules import runs_of
from oxi_assist.run_lists import RunList, split_runs


def test_runs_of_indices() -> None:
    lo, hi = runs_of(np.array([2, 3, 4, 7, 9, 10]))
    assert lo.tolist() == [2, 7, 9] and hi.tolist() == [5, 8, 11]
    lo, hi = runs_of(np.zeros(0, dtype=np.intp))
    assert len(lo) == len(hi) == 0


def test_runs_meeting_at_a_chunk_boundary_are_one() -> None:
    rl = RunList()
    rl.add(np.array([1, 2, 8, 9]))  # chunk [0, 10)
    rl.add(np.array([10, 11, 15]))  # chunk [10, 20)
    rl.add(np.zeros(0, dtype=np.intp))  # chunk [20, 30): nothing
    rl.add(np.array([30]))  # chunk [30, 40): not touching 15
    lo, hi = rl.runs()
    assert lo.tolist() == [1, 8, 15, 30] and hi.tolist() == [3, 12, 16, 31]


def test_a_run_over_three_chunks() -> None:
    rl = RunList()
    for a in (0, 4, 8):
        rl.add(np.arange(a, a + 4))
    lo, hi = rl.runs()
    assert lo.tolist() == [0] and hi.tolist() == [12]


def test_stale_marks_split_runs_also_at_a_chunk_boundary() -> None:
    rl = RunList()
    rl.add(np.array([1, 2, 3, 4]))
    rl.add(np.array([5, 6, 7]))
    # a mark before reading 3 (inside), before 5 (where the chunks meet), before 1 (a start)
    lo, hi = rl.runs(np.array([1, 3, 5, 20]))
    assert lo.tolist() == [1, 3, 5] and hi.tolist() == [3, 5, 8]


def test_split_runs_leaves_marks_outside_runs_alone() -> None:
    lo, hi = split_runs(np.array([5]), np.array([9]), np.array([0, 5, 9, 12]))
    assert lo.tolist() == [5] and hi.tolist() == [9]
