"""The alarm and desaturation records the Monitor and the analysis share."""

from __future__ import annotations

import dataclasses
import json

import pytest

from drivers.reading import Reading
from oxi_assist.analysis import Trace, analyze_trace
from oxi_assist.monitor.monitor import Monitor
from oxi_assist.monitor.priority import Priority
from oxi_assist.monitor.records import AlarmRecord, DesatEnd, DesatRecord


def test_records_are_frozen() -> None:
    a = AlarmRecord("spo2_low", Priority.MEDIUM, False, 1.0, 11.0)
    d = DesatRecord(3.0, 5.0, 970, 880)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.end = 20.0  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.nadir10 = 800  # type: ignore[misc]
    assert dataclasses.replace(a, end=20.0) == AlarmRecord("spo2_low", Priority.MEDIUM, False,
                                                           1.0, 11.0, 20.0)
    assert a.end is None and hash(a) == hash(AlarmRecord("spo2_low", Priority.MEDIUM, False,
                                                        1.0, 11.0))


def test_dicts_have_the_json_keys_and_read_back() -> None:
    a = AlarmRecord("finger_out", Priority.HIGH, True, 3.5, 13.5, None)
    assert a.to_dict() == {"kind": "finger_out", "priority": "high", "technical": True,
                           "onset_s": 3.5, "start_s": 13.5, "end_s": None}
    assert AlarmRecord.from_dict(a.to_dict()) == a
    d = DesatRecord(4.0, 100.0, 973, 881, 130.0, DesatEnd.RECOVERED)
    assert d.to_dict() == {"level": 4.0, "start_s": 100.0, "nadir": 88.1, "baseline": 97.3,
                           "depth": 9.2, "duration_s": 30.0, "end_s": 130.0,
                           "ended": "recovered", "counted": True}
    assert DesatRecord.from_dict(d.to_dict()) == d
    going = DesatRecord(3.0, 100.0, 970, 900)
    assert going.to_dict()["ended"] is None and not going.counted
    assert DesatRecord.from_dict(going.to_dict()) == going


def _dip() -> list[Reading]:
    vals = [97.0] * 60 + [85.0] * 40 + [97.0] * 30
    return [Reading(t=float(i), spo2=v, pulse=70.0) for i, v in enumerate(vals)]


def test_a_record_handed_out_does_not_change_and_the_history_follows() -> None:
    """The Monitor replaces a record when its alarm ends or its dip goes deeper or ends."""
    m = Monitor()
    items = _dip()
    for r in items[:90]:
        m.update(r)
    low = next(a for a in m.history if a.kind == "spo2_low")
    dip = m.desaturations[0]
    assert low.end is None and dip.end is None
    for r in items[90:]:
        m.update(r)
    assert low.end is None and dip.end is None  # the objects held are as they were
    ended = next(a for a in m.history if a.kind == "spo2_low")
    assert ended.end is not None and ended.start == low.start
    assert m.desaturations[0].outcome is DesatEnd.RECOVERED


def test_the_analysis_json_is_the_records_dicts() -> None:
    a = analyze_trace(Trace.from_items(_dip()))
    assert a.alarms and a.desaturations
    out = json.loads(a.to_json())
    assert out["alarms"] == [x.to_dict() for x in a.alarms]
    assert out["desaturations"] == [x.to_dict() for x in a.desaturations]
    assert [AlarmRecord.from_dict(x) for x in out["alarms"]] == a.alarms
    assert [DesatRecord.from_dict(x) for x in out["desaturations"]] == a.desaturations
