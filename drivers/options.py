"""Numbers in a source URI's options (`?stale=5&speed=10`), checked the same way for every
source: a number that is not finite or lies outside the range the option makes sense in is
refused with the option's name, so `stale=nan` cannot silently turn off the silence check and
`attempts=1e308` cannot mean "forever"."""

from __future__ import annotations

import math

from drivers.errors import SourceError


def number_option(params: dict[str, str], key: str, default: float, lo: float, hi: float, *,
                  scheme: str, unit: str = "", whole: bool = False) -> float:
    """`params[key]` as a number within [lo, hi] (`default` when absent). `whole`: a whole
    number. Raises SourceError "SCHEME: bad KEY='RAW': expected LO–HI UNIT"."""
    raw = params.get(key)
    if raw is None:
        return default
    kind = "a whole number" if whole else "a number"
    expected = f"expected {kind} {lo:g}–{hi:g}{unit}"
    try:
        v = float(raw)
    except ValueError:
        raise SourceError(f"{scheme}: bad {key}={raw!r}: {expected}") from None
    if not math.isfinite(v) or not lo <= v <= hi or (whole and v != int(v)):
        raise SourceError(f"{scheme}: bad {key}={raw!r}: {expected}")
    return v
