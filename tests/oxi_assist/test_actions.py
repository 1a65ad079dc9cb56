import pytest

from drivers.errors import OxiError
from oxi_assist.actions import Action, parse_script, parse_time


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("90", 90), ("90s", 90), ("2m", 120), ("2m10s", 130), ("1h5m", 3900), ("02:10", 130),
     ("1:02:10", 3730), ("0.5s", 0.5)],
)
def test_times(text, seconds):
    assert parse_time(text) == seconds


@pytest.mark.parametrize("text", ["", "m", "2x", "1:2:3:4", "-5", "a:b"])
def test_bad_times(text):
    with pytest.raises(OxiError):
        parse_time(text)


def test_script_is_sorted_and_carries_parameters():
    s = parse_script("3m:naloxone:route=nasal:dose=2, 2m:911,2m10s:breaths")
    assert [(a.t, a.action) for a in s] == [
        (120, Action.CALLED_911), (130, Action.BREATHS_START), (180, Action.NALOXONE)]
    assert s[2].params == {"route": "nasal", "dose": "2"}


@pytest.mark.parametrize("text", ["2m", "2m:fly", "2m:naloxone:route", "x:911"])
def test_bad_scripts_name_the_problem(text):
    with pytest.raises(OxiError) as e:
        parse_script(text)
    assert "\n" not in str(e.value)


def test_log_lines_come_from_the_table_and_never_guess_a_parameter():
    from oxi_assist.actions import log_line

    assert log_line(Action.NALOXONE, {"dose": 2, "route": "nasal"}) == \
        "Naloxone dose 2 (nasal spray)"
    assert log_line(Action.NALOXONE, {"dose": 1}) == "Naloxone dose 1"
    assert log_line(Action.NALOXONE) == "Naloxone"
    assert log_line(Action.CALLED_911) == "911 called"


def test_the_response_is_under_way_from_the_first_sign_until_handover():
    from oxi_assist.actions import response_after, response_spans

    assert not response_after(False, Action.RESPONSIVE)
    assert not response_after(False, Action.BREATH_TAP)
    for a in (Action.UNRESPONSIVE, Action.CALLED_911, Action.BREATHS_START,
              Action.COMPRESSIONS_START, Action.NALOXONE, Action.NO_PULSE,
              Action.BREATHING_NOT_NORMAL):
        assert response_after(False, a), a
    assert response_after(True, Action.AWAKE)  # awake is not the end: it can come back
    assert not response_after(True, Action.EMS_ARRIVED)
    assert not response_after(True, Action.END)
    acts = [(10.0, Action.RESPONSIVE), (20.0, Action.UNRESPONSIVE), (30.0, Action.CALLED_911),
            (90.0, Action.EMS_ARRIVED), (95.0, Action.UNRESPONSIVE)]
    assert response_spans(acts) == [(20.0, 90.0), (95.0, None)]
