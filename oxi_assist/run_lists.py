"""Runs of readings where a condition holds, collected chunk by chunk.

The offline analysis reads a long recording in chunks and keeps, per rule, only where its
condition held: runs [lo, hi) of consecutive readings (reading indices of the whole
recording). A run that reaches the end of one chunk and one that starts the next are the same
run, joined when all chunks are in. A channel's stream also has samples of its own between
readings (the instant its value went stale): such a sample breaks every run of that channel,
so runs are split there (`splits`: the reading before which each such sample lies).

Runs are few next to samples (a value past a limit), so this costs memory per run, not per
sample, however long the recording.
"""

from __future__ import annotations

import numpy as np

from oxi_assist.monitor.alarm_rules import runs_of

_EMPTY = np.zeros(0, dtype=np.intp)


class RunList:
    """The runs of one condition over the whole recording, added chunk by chunk in order."""

    __slots__ = ("_hi", "_lo", "chunks")

    def __init__(self) -> None:
        self._lo: list[np.ndarray] = []
        self._hi: list[np.ndarray] = []
        self.chunks = 0

    def add(self, idx: np.ndarray) -> None:
        """The readings (sorted reading indices) of one chunk where the condition holds."""
        self.chunks += 1
        if len(idx):
            lo, hi = runs_of(idx)
            self._lo.append(lo)
            self._hi.append(hi)

    def runs(self, splits: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """All runs, joined across chunk boundaries and split before each reading in
        `splits` (sorted)."""
        if not self._lo:
            return _EMPTY, _EMPTY
        if len(self._lo) == 1:
            lo, hi = self._lo[0], self._hi[0]
        else:
            lo, hi = np.concatenate(self._lo), np.concatenate(self._hi)
            touch = (hi[:-1] == lo[1:]).nonzero()[0]  # only where one chunk met the next
            if len(touch):
                lo = np.delete(lo, touch + 1)
                hi = np.delete(hi, touch)
        if splits is not None and len(splits):
            lo, hi = split_runs(lo, hi, splits)
        return lo, hi


def split_runs(lo: np.ndarray, hi: np.ndarray,
               at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Runs [lo, hi) (sorted, disjoint) cut before each position in `at` that lies strictly
    inside one of them."""
    k = lo.searchsorted(at, side="right") - 1  # the run starting at or before each cut
    inside = (k >= 0) & (at < hi[np.maximum(k, 0)]) & (at != lo[np.maximum(k, 0)])
    if not inside.any():
        return lo, hi
    cut = at[inside]
    return np.sort(np.concatenate((lo, cut))), np.sort(np.concatenate((hi, cut)))
