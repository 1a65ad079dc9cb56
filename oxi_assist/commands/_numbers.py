"""Numbers on the command line, checked where argparse reads them: a value that is not finite
or lies outside what the option can mean (`--speed nan`, `--duration inf`, `--seed -1`) is a
usage error naming the option ("argument --speed: expected a number from 1 to 20, got 'nan'"),
never a value that silently turns something off or a traceback further in."""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from simulators.simulator import MAX_SEED


def number(lo: float, hi: float, *, unit: str = "") -> Callable[[str], float]:
    """An argparse `type`: a finite number within [lo, hi]."""

    def parse(text: str) -> float:
        try:
            v = float(text)
        except ValueError:
            v = math.nan
        if not (math.isfinite(v) and lo <= v <= hi):
            raise argparse.ArgumentTypeError(
                f"expected a number from {lo:g} to {hi:g}{unit}, got {text!r}")
        return v

    return parse


def whole(lo: int, hi: int) -> Callable[[str], int]:
    """An argparse `type`: a whole number within [lo, hi] (written in digits)."""

    def parse(text: str) -> int:
        t = text.strip()
        ok = t.lstrip("-").isdigit() and t.isascii() and len(t) <= 20
        v = int(t) if ok else None
        if v is None or not lo <= v <= hi:
            raise argparse.ArgumentTypeError(
                f"expected a whole number from {lo} to {hi}, got {text!r}")
        return v

    return parse


#: `--seed` everywhere: a whole number a run can be repeated with.
seed = whole(0, MAX_SEED)
#: `--duration` of the virtual devices, in seconds (up to two days).
device_seconds = number(0.1, 172800.0, unit=" s")
