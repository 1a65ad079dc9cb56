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
