"""The breath counter's hint on the offered answers (guide/offers.py `hint`): the counted rate
goes on the answer it supports — "breathing normally" only at a normal rate, "NOT breathing
normally" at a borderline or slow one — and the key it lands on keeps what the step said of
it (recommended, always offered, its label and parameters)."""

from __future__ import annotations

from oxi_assist.actions import ACTIONS, Action
from oxi_assist.guide.breathing import BreathCount, CountState
from oxi_assist.guide.offers import hint
from oxi_assist.guide.state import OfferedAction

NORMAL = OfferedAction(Action.BREATHING_NORMAL, "Breathing normally", (("x", "1"),), True, False)
NOT_NORMAL = OfferedAction(Action.BREATHING_NOT_NORMAL, "NOT breathing normally", (), True,
                           False)
NALOXONE = OfferedAction(Action.NALOXONE, "Naloxone", (("dose", "1"),), False, True)


def count(per_min: float) -> BreathCount:
    return BreathCount(CountState.READY, per_min)


def by_action(out: list[OfferedAction]) -> dict[Action, OfferedAction]:
    return {o.action: o for o in out}


def test_a_normal_count_hints_breathing_normally_and_keeps_the_key_as_it_was() -> None:
    out = by_action(hint([NORMAL, NOT_NORMAL, NALOXONE], count(14)))
    assert out[Action.BREATHING_NORMAL].hint == "counted 14/min"
    assert out[Action.BREATHING_NOT_NORMAL].hint == "" and out[Action.NALOXONE].hint == ""
    kept = out[Action.BREATHING_NORMAL]
    assert (kept.label, kept.params, kept.primary, kept.safety) == (
        NORMAL.label, NORMAL.params, NORMAL.primary, NORMAL.safety)
    assert out[Action.NALOXONE] == NALOXONE  # the other keys untouched


def test_a_borderline_count_hints_not_breathing_normally_and_says_borderline() -> None:
    out = by_action(hint([NORMAL, NOT_NORMAL], count(11)))
    assert out[Action.BREATHING_NOT_NORMAL].hint == "counted 11/min: borderline"
    assert out[Action.BREATHING_NORMAL].hint == ""


def test_a_slow_count_hints_not_breathing_normally_without_borderline() -> None:
    out = by_action(hint([NORMAL, NOT_NORMAL], count(6)))
    assert out[Action.BREATHING_NOT_NORMAL].hint == "counted 6/min"
    assert out[Action.BREATHING_NORMAL].hint == ""


def test_the_hinted_answer_is_added_once_when_the_step_does_not_offer_it() -> None:
    out = hint([NALOXONE], count(6))
    assert [o.action for o in out] == [Action.NALOXONE, Action.BREATHING_NOT_NORMAL]
    added = out[-1]
    assert added.label == ACTIONS[Action.BREATHING_NOT_NORMAL].label
    assert (added.params, added.primary, added.safety, added.hint) == ((), False, False,
                                                                    "counted 6/min")
    assert len(hint([NOT_NORMAL, NALOXONE], count(6))) == 2  # offered already: not again


def test_no_count_no_hint() -> None:
    offers = [NORMAL, NOT_NORMAL]
    assert hint(offers, BreathCount(CountState.COUNTING, None)) == offers
