"""What each responder action does to the response (guide/response.py `Response.apply`): a stop
of something that is not on changes nothing and says why, and starting breaths or
compressions takes the person out of the recovery position (they are on their back again)."""

from __future__ import annotations

import pytest

from oxi_assist.actions import Action
from oxi_assist.guide.breathing import BreathCounter
from oxi_assist.guide.response import Response


def apply(r: Response, act: Action, t: float = 0.0) -> tuple[bool, list[tuple[str, str]]]:
    notes: list[tuple[str, str]] = []
    changed = r.apply(act, {}, t, BreathCounter(), lambda _t, kind, text: notes.append(
        (kind, text)))
    return changed, notes


@pytest.mark.parametrize(("stop", "what"), [(Action.BREATHS_STOP, "breaths"),
                                            (Action.COMPRESSIONS_STOP, "compressions")])
def test_a_stop_of_what_is_not_on_is_ignored_and_says_why(stop: Action, what: str) -> None:
    r = Response()
    changed, notes = apply(r, stop)
    assert changed is False
    assert notes == [("ignored", f"{what} stopped, but {what} were not on")]
    assert r == Response()  # nothing else moved


@pytest.mark.parametrize("start", [Action.BREATHS_START, Action.COMPRESSIONS_START])
def test_breaths_or_compressions_take_them_out_of_the_recovery_position(start: Action) -> None:
    r = Response()
    apply(r, Action.RECOVERY_POSITION)
    assert r.recovery is True
    changed, _ = apply(r, start, 5.0)
    assert changed is True
    assert r.recovery is False


@pytest.mark.parametrize(("start", "stop"), [(Action.BREATHS_START, Action.BREATHS_STOP),
                                             (Action.COMPRESSIONS_START,
                                              Action.COMPRESSIONS_STOP)])
def test_stopping_does_not_put_them_back_in_the_recovery_position(start: Action,
                                                                  stop: Action) -> None:
    r = Response()
    apply(r, start)
    apply(r, stop, 5.0)
    assert r.recovery is False
    apply(r, Action.RECOVERY_POSITION, 6.0)
    apply(r, stop, 7.0)  # not on: ignored, the position stays
    assert r.recovery is True


def test_the_pulse_check_is_recorded_in_the_words_the_conditions_use() -> None:
    """`pulse_check` is what a guidance condition compares with ("felt", "none")."""
    from oxi_assist.guide.conditions import PULSE_CHECK

    r = Response()
    apply(r, Action.NO_PULSE)
    assert r.pulse_check == "none" and r.pulse_check in PULSE_CHECK
    apply(r, Action.PULSE, 5.0)
    assert r.pulse_check == "felt" and r.pulse_check in PULSE_CHECK


def test_awake_stops_breaths_and_compressions() -> None:
    r = Response()
    apply(r, Action.BREATHS_START)
    apply(r, Action.COMPRESSIONS_START, 1.0)
    apply(r, Action.AWAKE, 2.0)
    assert r.breaths_on is False and r.compressions_on is False
    assert (r.awake, r.responsive) == (True, "yes")
