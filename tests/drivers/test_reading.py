from drivers.reading import INVALIDATING, Reading, Status


def test_invalid_values_are_none_with_a_flag_not_numbers():
    r = Reading(t=1.0, spo2=None, pulse=None, status=Status.FINGER_OUT)
    assert not r.valid
    assert r.status & INVALIDATING


def test_a_flagged_number_is_not_a_valid_reading():
    # A codec bug that kept a number while flagging "searching" must not read as valid.
    assert not Reading(t=0, spo2=97, status=Status.SEARCHING).valid
    assert Reading(t=0, spo2=97, status=Status.MOTION).valid  # doubtful, but a value
    assert not Reading(t=0, spo2=97, wave_only=True).valid


def test_status_names_round_trip():
    s = Status.FINGER_OUT | Status.LOW_BATTERY
    assert s.names == ["finger_out", "low_battery"]
    assert Status.from_names(s.names) == s
    assert Status.NONE.names == []
