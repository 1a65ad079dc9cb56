"""Conditions: the facts they read, how each quantity compares, and the number limits."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from oxi_assist.guide.conditions import (
    LIMITS,
    QUANTITIES,
    Condition,
    Facts,
    band_of,
    check_holds,
    cond,
    condition_value_problem,
    limit_problem,
    number_problem,
)


def test_every_quantity_names_itself_and_reads_a_fact() -> None:
    facts = Facts()
    for name, q in QUANTITIES.items():
        assert q.name == name
        assert hasattr(facts, q.fact), name
        assert (q.kind == "word") == bool(q.words)
        assert q.op in ("lt", "ge", "ge_or_none", "eq")


@pytest.mark.parametrize("spo2, signal, band", [
    (97.0, "good", "normal"), (95.0, "good", "normal"), (94.9, "good", "watch"),
    (90.0, "good", "watch"), (89.9, "good", "low"), (85.0, "good", "low"),
    (84.9, "good", "severe"),
    (97.0, "poor", "unknown"), (92.0, "poor", "unknown"), (88.0, "poor", "low"),
    (80.0, "poor", "severe"), (97.0, "none", "unknown"), (80.0, "none", "unknown"),
    (None, "good", "unknown"),
])
def test_band_of(spo2: float | None, signal: str, band: str) -> None:
    assert band_of(spo2, signal) == band


def test_comparisons() -> None:
    f = Facts(spo2=90.0, spo2_trusted=True, signal="good", doses=2, breathing="normal")
    assert check_holds(QUANTITIES["spo2_below"], f, 90.1)
    assert not check_holds(QUANTITIES["spo2_below"], f, 90.0)
    assert check_holds(QUANTITIES["spo2_at_least"], f, 90.0)
    assert not check_holds(QUANTITIES["spo2_at_least"], f, 90.1)
    # a high number only counts on a good signal; a low one counts on a doubtful one too
    poor = replace(f, spo2_trusted=False, signal="poor")
    assert not check_holds(QUANTITIES["spo2_at_least"], poor, 50.0)
    assert check_holds(QUANTITIES["spo2_below"], poor, 95.0)
    # a missing number holds nothing, except "at least N minutes without naloxone"
    none = Facts()
    assert not check_holds(QUANTITIES["spo2_below"], none, 95.0)
    assert not check_holds(QUANTITIES["minutes_since_naloxone_at_least"], none, 3.0)
    assert not check_holds(QUANTITIES["minutes_since_naloxone_below"], none, 3.0)
    assert check_holds(QUANTITIES["minutes_without_naloxone_at_least"], none, 3.0)
    dosed = replace(none, doses=1, minutes_since_naloxone=2.0)
    assert not check_holds(QUANTITIES["minutes_without_naloxone_at_least"], dosed, 3.0)
    assert check_holds(QUANTITIES["minutes_without_naloxone_at_least"], dosed, 2.0)
    # words and lists of words, counts, booleans, on/off
    assert check_holds(QUANTITIES["breathing"], f, "normal")
    assert check_holds(QUANTITIES["breathing"], f, ("unknown", "normal"))
    assert not check_holds(QUANTITIES["breathing"], f, ("unknown", "not_normal"))
    assert check_holds(QUANTITIES["doses_at_least"], f, 2)
    assert not check_holds(QUANTITIES["doses_below"], f, 2)
    assert check_holds(QUANTITIES["breaths"], replace(f, breaths_on=True), "on")
    assert check_holds(QUANTITIES["compressions"], f, "off")
    assert check_holds(QUANTITIES["awake"], f, False)


def test_conditions_and_cond() -> None:
    c = cond(breathing=["normal", "unknown"], doses_at_least=1)
    assert c.checks == (("breathing", ("normal", "unknown")), ("doses_at_least", 1))
    assert c.names() == frozenset({"breathing", "doses_at_least"})
    assert c.holds(Facts(doses=1)) and not c.holds(Facts(doses=0))
    both = c & cond(awake=True)
    assert both.checks[-1] == ("awake", True) and not both.holds(Facts(doses=1))
    assert Condition().holds(Facts()) and not Condition()
    assert bool(c)


def test_trusted_facts_drop_doubtful_numbers() -> None:
    good = Facts(spo2=97.0, spo2_trusted=True, pulse=70.0, signal="good", band="normal")
    assert good.trusted() is good
    poor = replace(good, signal="poor", spo2_trusted=False, band="unknown")
    t = poor.trusted()
    assert t.spo2 is None and t.pulse is None and t.band == "unknown"
    assert t.signal == "poor"


@pytest.mark.parametrize("value, lo, hi, kw, why", [
    (5, 1, 10, {}, None),
    (1, 1, 10, {}, None),
    (10, 1, 10, {}, None),
    (0.5, 1, 10, {}, "must be at least 1, not 0.5"),
    (11, 1, 10, {}, "must be at most 10, not 11"),
    (0, 0, 10, {"lo_open": True}, "must be above 0, not 0"),
    (0.1, 0, 10, {"lo_open": True}, None),
    (2.5, 0, 10, {}, None),
    (2.5, 0, 10, {"whole": True}, "must be a whole number"),
    (2.0, 0, 10, {"whole": True}, None),
    (3, 0, 10, {"whole": True}, None),
    (math.nan, 0, 10, {}, "must be a number, not nan"),
    (math.inf, 0, 10, {}, "must be a finite number, not inf"),
    (-math.inf, 0, 10, {}, "must be a finite number, not -inf"),
    (True, 0, 10, {}, "must be a number"),
    ("5", 0, 10, {}, "must be a number"),
])
def test_number_problem(value: object, lo: float, hi: float, kw: dict[str, bool],
                        why: str | None) -> None:
    assert number_problem(value, lo, hi, **kw) == why


def test_limits_and_condition_values() -> None:
    assert limit_problem("kit", 2.5) == "must be a whole number"
    assert limit_problem("kit", 3) is None and limit_problem("kit", 0) is not None
    assert limit_problem("priority", 2.0) is None
    assert limit_problem("length_s", 0) == "must be above 0, not 0"
    assert limit_problem("interval_s", 60) is None and limit_problem("interval_s", 61)
    assert set(LIMITS) == {"interval_s", "length_s", "at_s", "priority", "kit"}
    assert condition_value_problem(QUANTITIES["doses_at_least"], 2.5) == \
        "must be a whole number"
    assert condition_value_problem(QUANTITIES["spo2_below"], 89.5) is None
    assert condition_value_problem(QUANTITIES["spo2_below"], 0) == "must be at least 1, not 0"
    assert condition_value_problem(QUANTITIES["minutes_in_step_at_least"], 0) is None
