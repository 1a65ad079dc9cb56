"""What a guidance condition can look at (`Facts`), the closed list of quantities a `when`
table may name, and the limits on every number a guidance file may hold.

A condition is a conjunction of checks, each over one quantity (`spo2_below = 90`,
`breathing = "normal"`, …). Each quantity reads one fact with one comparison, which is what
lets `guidance check` decide exactly, over a finite set of values, whether a condition can hold
together with an unsafe situation (oxi_assist/guide/analysis.py), and lets the engine
evaluate the same `Condition` at run time.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

SIGNALS = ("good", "poor", "none")
BREATHING = ("normal", "not_normal", "unknown")
BANDS = ("normal", "watch", "low", "severe", "unknown")
OXIMETER = ("none", "on", "lost")  # no device in this session / readings coming / link gone
RESPONSIVE = ("unknown", "yes", "no")
PULSE_CHECK = ("unknown", "felt", "none")  # the responder's pulse check (if trained)
BREATH_COUNT = ("idle", "counting", "ready", "stale")
ON_OFF = ("on", "off")

#: SpO2 bands as the Monitor draws them (oxi_assist/monitor/vitals.py: 95–100 normal and below 90
#: low are BC's; 90–94 watch is ours; below 85 is Ontario's). Conditions see the band of the
#: value with these limits, so `band` and `spo2_*` conditions always agree.
BAND_LIMITS = (("normal", 95.0), ("watch", 90.0), ("low", 85.0))

#: BC: one breath every 5 s (about 12 a minute) is normal breathing (DOMAIN §2.1 E row).
BREATHS_NORMAL_PER_MIN = 12.0


@dataclass(frozen=True)
class Facts:
    """Everything a condition can look at, computed by the engine at each update.

    `spo2` and `pulse` are the values shown when present, even on a poor signal;
    `spo2_trusted` is False when the signal is poor, missing or stale. A low number counts
    even when doubtful (toward checking the person); a high number only counts when trusted,
    and an item that asks for an action only ever sees trusted numbers (`trusted()`).
    """

    spo2: float | None = None
    spo2_trusted: bool = False
    pulse: float | None = None
    signal: str = "none"
    band: str = "unknown"
    oximeter: str = "none"
    breathing: str = "unknown"  # the responder's last answer (a new dose makes it unknown)
    breath_rate: float | None = None  # the tap counter's rate, only when it has a current one
    breath_count: str = "idle"
    breathing_ok: bool = False  # see guide.safety.breathing_ok
    breaths_on: bool = False
    compressions_on: bool = False
    pulse_check: str = "unknown"
    called_911: bool = False
    responsive: str = "unknown"
    awake: bool = False
    oxygen: bool = False
    withdrawal: bool = False  # vomiting or withdrawal signs reported
    recovery: bool = False  # put in the recovery position (and not moved out of it since)
    ems: bool = False
    doses: int = 0
    out_of_naloxone: bool = False  # every dose of the kits in use has been given
    minutes_since_naloxone: float | None = None  # None iff no dose
    dose_gap_minutes: float | None = None  # between the last two doses; None under 2 doses
    minutes_since_911: float | None = None  # None iff 911 not called
    minutes_in_step: float = 0.0

    @property
    def breaths(self) -> str:
        return "on" if self.breaths_on else "off"

    @property
    def compressions(self) -> str:
        return "on" if self.compressions_on else "off"

    def trusted(self) -> Facts:
        """These facts with every number from a doubtful signal taken away: what an item that
        asks for an action (breaths, naloxone, 911, compressions) is evaluated on."""
        if self.signal == "good":
            return self
        return replace(self, spo2=None, pulse=None, band="unknown")


def band_of(spo2: float | None, signal: str) -> str:
    """The band a condition sees: from the value on a good signal; on a doubtful one only a
    low band counts (a normal or watch band never reassures on a poor signal)."""
    if spo2 is None or signal == "none":
        return "unknown"
    band = next((name for name, lo in BAND_LIMITS if spo2 >= lo), "severe")
    if signal != "good" and band in ("normal", "watch"):
        return "unknown"
    return band


# ---------------------------------------------------------------- quantities

@dataclass(frozen=True)
class Quantity:
    """One name a `when` table may use: which fact it reads and how it compares.

    op: "lt" (fact < value; False when the fact is None), "ge" (fact ≥ value; False when
    None), "ge_or_none" (True when the fact is None: "at least N minutes without a dose" holds
    when no dose was given), "eq" (a word, a list of words or true/false).
    """

    name: str
    kind: str  # "number", "count", "word", "bool"
    fact: str  # the Facts attribute (or property) it reads
    op: str
    words: tuple[str, ...] = ()
    trusted_only: bool = False  # a high vital sign only counts on a good signal
    lo: float = 0.0  # the range of a number written in a file
    hi: float = math.inf


_Q = Quantity
_MIN = 1440.0  # a day, the largest number of minutes a condition may compare with

#: Every quantity a `when` table may name, by its name (docs/GUIDANCE.md lists them with their
#: meaning); each entry is written once, as data.
QUANTITIES: dict[str, Quantity] = {q.name: q for q in (
    _Q("signal", "word", "signal", "eq", SIGNALS),
    _Q("band", "word", "band", "eq", BANDS),
    _Q("oximeter", "word", "oximeter", "eq", OXIMETER),
    _Q("breathing", "word", "breathing", "eq", BREATHING),
    _Q("breath_count", "word", "breath_count", "eq", BREATH_COUNT),
    _Q("breaths", "word", "breaths", "eq", ON_OFF),
    _Q("compressions", "word", "compressions", "eq", ON_OFF),
    _Q("pulse_check", "word", "pulse_check", "eq", PULSE_CHECK),
    _Q("responsive", "word", "responsive", "eq", RESPONSIVE),
    _Q("breathing_ok", "bool", "breathing_ok", "eq"),
    _Q("called_911", "bool", "called_911", "eq"),
    _Q("awake", "bool", "awake", "eq"),
    _Q("oxygen", "bool", "oxygen", "eq"),
    _Q("withdrawal", "bool", "withdrawal", "eq"),
    _Q("recovery", "bool", "recovery", "eq"),
    _Q("ems", "bool", "ems", "eq"),
    _Q("out_of_naloxone", "bool", "out_of_naloxone", "eq"),
    _Q("spo2_below", "number", "spo2", "lt", lo=1.0, hi=100.0),
    _Q("spo2_at_least", "number", "spo2", "ge", trusted_only=True, lo=1.0, hi=100.0),
    _Q("pulse_below", "number", "pulse", "lt", lo=1.0, hi=300.0),
    _Q("pulse_at_least", "number", "pulse", "ge", trusted_only=True, lo=1.0, hi=300.0),
    _Q("breath_rate_below", "number", "breath_rate", "lt", lo=1.0, hi=60.0),
    _Q("breath_rate_at_least", "number", "breath_rate", "ge", lo=1.0, hi=60.0),
    _Q("minutes_since_naloxone_below", "number", "minutes_since_naloxone", "lt", hi=_MIN),
    _Q("minutes_since_naloxone_at_least", "number", "minutes_since_naloxone", "ge", hi=_MIN),
    _Q("minutes_without_naloxone_at_least", "number",
       "minutes_since_naloxone", "ge_or_none", hi=_MIN),
    _Q("dose_gap_minutes_below", "number", "dose_gap_minutes", "lt", hi=_MIN),
    _Q("dose_gap_minutes_at_least", "number", "dose_gap_minutes", "ge", hi=_MIN),
    _Q("minutes_since_911_below", "number", "minutes_since_911", "lt", hi=_MIN),
    _Q("minutes_since_911_at_least", "number", "minutes_since_911", "ge", hi=_MIN),
    _Q("minutes_in_step_below", "number", "minutes_in_step", "lt", hi=_MIN),
    _Q("minutes_in_step_at_least", "number", "minutes_in_step", "ge", hi=_MIN),
    _Q("doses_at_least", "count", "doses", "ge", lo=0, hi=20),
    _Q("doses_below", "count", "doses", "lt", lo=1, hi=20),
)}


def check_holds(q: Quantity, facts: Facts, value: Any) -> bool:
    """One check of a condition against the facts."""
    v = getattr(facts, q.fact)
    if q.trusted_only and not facts.spo2_trusted:
        v = None
    if q.op == "eq":
        return v in value if isinstance(value, tuple) else v == value
    if v is None:
        return q.op == "ge_or_none"
    if q.op == "lt":
        return bool(v < value)
    return bool(v >= value)


@dataclass(frozen=True)
class Condition:
    """All of its checks must hold (an empty condition always holds)."""

    checks: tuple[tuple[str, Any], ...] = ()

    def holds(self, facts: Facts) -> bool:
        return all(check_holds(QUANTITIES[q], facts, v) for q, v in self.checks)

    def __and__(self, other: Condition) -> Condition:
        return Condition(self.checks + other.checks)

    def __bool__(self) -> bool:
        return bool(self.checks)

    def names(self) -> frozenset[str]:
        return frozenset(q for q, _ in self.checks)


def cond(**checks: Any) -> Condition:
    """A condition written in Python the way a file writes it: `cond(breathing_ok=False)`.
    A list of words becomes a tuple, as the loader stores it."""
    return Condition(tuple((k, tuple(v) if isinstance(v, list) else v)
                           for k, v in checks.items()))


#: Facts a vital-sign condition reads: an item tying an action to one of these cites our
#: own (app-defined) source, because no action threshold on them is BC guidance (DOMAIN §6.1).
VITAL_FACTS = frozenset({"spo2", "pulse", "band"})


# ---------------------------------------------------------------- numbers in a file

@dataclass(frozen=True)
class Limit:
    lo: float
    hi: float
    lo_open: bool = False  # True: the value must be above lo, not equal to it
    whole: bool = False


#: Every number a guidance file may hold that is not a condition value, with its range.
#: The checker and the engine both use `number_problem`, so they agree on what is valid.
LIMITS: dict[str, Limit] = {
    "interval_s": Limit(1.0, 60.0),  # the breath metronome: one cue every 1–60 s
    "length_s": Limit(0.0, 48 * 3600.0, lo_open=True),
    "at_s": Limit(0.0, 48 * 3600.0),
    "priority": Limit(1, 3, whole=True),
    "kit": Limit(1, 10, whole=True),  # doses in one naloxone kit
}


def number_problem(value: Any, lo: float, hi: float, *, lo_open: bool = False,
                   whole: bool = False) -> str | None:
    """Why `value` is not an acceptable number in [lo, hi], or None. NaN, infinities, a
    boolean, a fraction where a whole number is needed and values out of range are refused."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "must be a number"
    if isinstance(value, float) and math.isnan(value):
        return "must be a number, not nan"
    if isinstance(value, float) and math.isinf(value):
        return f"must be a finite number, not {value}"
    if whole and (isinstance(value, float) and not value.is_integer()):
        return "must be a whole number"
    if value < lo or (lo_open and value == lo):
        return f"must be {'above' if lo_open else 'at least'} {lo:g}, not {value:g}"
    if value > hi:
        return f"must be at most {hi:g}, not {value:g}"
    return None


def limit_problem(key: str, value: Any) -> str | None:
    """`number_problem` for a key of `LIMITS`."""
    lim = LIMITS[key]
    return number_problem(value, lim.lo, lim.hi, lo_open=lim.lo_open, whole=lim.whole)


def condition_value_problem(q: Quantity, value: Any) -> str | None:
    """Why a number in a condition makes no sense for its quantity, or None."""
    return number_problem(value, q.lo, q.hi, whole=q.kind == "count")
