"""The breathing-rate counter: taps in, breaths/min out, never a stale rate shown as current."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oxi_assist.guide.breathing import BreathCount, BreathCounter, CountState


def taps(counter: BreathCounter, start: float, every: float, n: int) -> float:
    t = start
    for _ in range(n):
        counter.tap(t)
        t += every
    return t - every


def test_idle_until_the_first_tap() -> None:
    c = BreathCounter()
    assert c.count(100.0).state is CountState.IDLE
    assert c.count(100.0).per_min is None


def test_counting_until_enough_taps() -> None:
    c = BreathCounter()
    last = taps(c, 0.0, 5.0, 3)
    got = c.count(last)
    assert got.state is CountState.COUNTING
    assert got.per_min is None and got.taps == 3
    c.tap(last + 5.0)
    got = c.count(last + 5.0)
    assert got.state is CountState.READY
    assert got.per_min == pytest.approx(12.0)
    assert got.normal is True


def test_slow_breathing_is_reported_once_counted_over_a_real_span() -> None:
    c = BreathCounter()
    c.tap(0.0)
    c.tap(15.0)  # 4/min: two taps are not a count yet
    assert c.count(15.0).state is CountState.COUNTING
    c.tap(30.0)
    got = c.count(30.0)
    assert got.state is CountState.READY
    assert got.per_min == pytest.approx(4.0)
    assert got.normal is False and got.judgement == "not_normal"


def test_four_quick_taps_and_a_pause_give_no_rate_judgement() -> None:
    """Four taps a second apart, then nothing: never a rate, never "under 10 a minute";
    once the taps stop it says how long since the last one."""
    c = BreathCounter()
    last = taps(c, 0.0, 1.0, 4)
    for t in range(int(last), int(last) + 60):
        got = c.count(float(t))
        assert got.per_min is None and got.judgement is None and got.normal is None
    got = c.count(last + 25.0)
    assert got.state is CountState.STALE
    assert got.text == "no breath tapped for 25 s"


def test_judgement_boundaries() -> None:
    """BC: about 12 a minute is normal; under 10 is the prolonged-sedation re-dose line;
    10–11 is borderline (not normal)."""
    def judged(per_min: float) -> str | None:
        return BreathCount(CountState.READY, per_min, 5, 1.0).judgement

    assert judged(12.0) == "normal"
    assert judged(11.99) == "borderline"
    assert judged(10.0) == "borderline"
    assert judged(9.99) == "not_normal"
    assert BreathCount(CountState.READY, 11.0, 5, 1.0).normal is False
    assert BreathCount(CountState.READY, 12.0, 5, 1.0).normal is True
    assert BreathCount(CountState.STALE, None, 5, 30.0).judgement is None


def test_a_pause_goes_stale_after_two_missed_breaths() -> None:
    c = BreathCounter(stale_after=20.0)
    last = taps(c, 0.0, 5.0, 6)
    assert c.count(last).per_min == pytest.approx(12.0)
    got = c.count(last + 9.0)  # one breath late: still the counted rate
    assert got.state is CountState.READY and got.per_min == pytest.approx(12.0)
    got = c.count(last + 11.0)  # two breaths missed: no rate is current
    assert got.state is CountState.STALE and got.per_min is None
    assert got.normal is None
    assert got.text == "no breath tapped for 11 s"


def test_text_is_about_the_person() -> None:
    c = BreathCounter()
    taps(c, 0.0, 7.5, 5)  # 8 a minute
    assert c.count(30.0).text == "8 a minute"
    assert BreathCounter().count(0.0).text == "not counted"
    c2 = BreathCounter()
    c2.tap(0.0)
    assert c2.count(1.0).text == "counting… (1 tap so far)"


def test_taps_out_of_order_are_clamped() -> None:
    c = BreathCounter()
    c.tap(10.0)
    c.tap(5.0)
    assert c.count(10.0).since_last == 0.0


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        BreathCounter(window=0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=30.0), min_size=1, max_size=60),
       st.floats(min_value=0.0, max_value=120.0))
def test_rate_is_finite_and_bounded(gaps: list[float], after: float) -> None:
    c = BreathCounter()
    t = 0.0
    for g in gaps:
        t += g
        c.tap(t)
    got = c.count(t + after)
    if got.state is CountState.READY:
        assert got.per_min is not None and 0.0 <= got.per_min < float("inf")
    else:
        assert got.per_min is None
    assert got.since_last is not None and got.since_last >= 0.0


def test_a_double_press_is_one_breath() -> None:
    c = BreathCounter()
    for t in (0.0, 0.1, 5.0, 5.05, 10.0, 15.0, 15.2):
        c.tap(t)
    got = c.count(15.0)
    assert got.taps == 4
    assert got.per_min == pytest.approx(12.0)
