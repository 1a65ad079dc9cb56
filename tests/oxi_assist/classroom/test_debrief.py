"""The class debrief: deviations from the guidance, times to each action, text and CSV, and the
same debrief from the class record file."""

from __future__ import annotations

import json
import os
import stat

import pytest

from drivers.errors import FormatError
from oxi_assist.classroom.debrief import (
    NO_911_MIN,
    class_debrief,
    load_record,
    station_debrief,
    to_csv,
    to_text,
)
from oxi_assist.classroom.messages import EventKind, StationEvent
from oxi_assist.classroom.record import ClassRecord


def acts(*items: tuple[float, str]) -> list[StationEvent]:
    return [StationEvent(i + 1, t, EventKind.ACTION, name) for i, (t, name) in enumerate(items)]


def rules(events: list[StationEvent]) -> list[str]:
    return [d.rule for d in station_debrief("s", "S", events).deviations]


def test_a_by_the_book_response_has_no_deviation() -> None:
    ev = acts((10, "unresponsive"), (30, "911"), (40, "breaths"), (60, "naloxone"),
              (300, "breathing_not_normal"), (361, "naloxone"), (500, "breathing_normal"),
              (520, "breaths_stop"))
    d = station_debrief("s", "S", ev)
    assert d.deviations == []
    assert d.first["911"] == 30 and d.first["unresponsive"] == 10
    assert d.naloxone_times == [60, 361] and d.doses == 2


def test_second_dose_before_3_min() -> None:
    assert rules(acts((10, "naloxone"), (120, "naloxone"))) == ["second_dose_early"]
    assert rules(acts((10, "naloxone"), (190, "naloxone"))) == []


def test_breaths_stopped_while_not_breathing_normally() -> None:
    assert rules(acts((1, "breaths"), (50, "breathing_not_normal"), (60, "breaths_stop"))) \
        == ["breaths_stopped"]
    assert rules(acts((1, "breaths"), (60, "breaths_stop"))) == ["breaths_stopped"]
    assert rules(acts((1, "breaths"), (50, "awake"), (60, "breaths_stop"))) == []


def test_no_911_within_the_app_defined_minutes() -> None:
    late = NO_911_MIN * 60 + 5
    assert rules(acts((0, "unresponsive"), (late, "911"))) == ["no_911"]
    assert rules(acts((0, "unresponsive"), (late, "ems"))) == ["no_911"]
    assert rules(acts((0, "unresponsive"), (30, "911"))) == []
    assert rules(acts((0, "unresponsive"), (30, "ems"))) == []  # not yet due when it ended


def test_naloxone_while_breathing_normally() -> None:
    assert rules(acts((5, "breathing_normal"), (10, "naloxone"))) == ["naloxone_breathing"]


def test_text_and_csv(tmp_path) -> None:
    cd = class_debrief({"ann": ("Ann", acts((0, "unresponsive"), (20, "911"), (30, "naloxone"),
                                            (60, "naloxone"))),
                        "bob": ("Bob", acts((5, "breaths")))}, "opioid-overdose")
    text = to_text(cd)
    assert "== Ann (ann)" in text and "== Bob (bob)" in text
    assert "before 3 min" in text and "app-defined" not in text.split("== Bob")[1].split(
        "Debrief (ROSE)")[0].replace("none found", "")
    assert "Debrief (ROSE)" in text
    rows = to_csv(cd).splitlines()
    assert rows[0].startswith("station,name,t_unresponsive_s,t_911_s")
    assert rows[1].startswith("ann,Ann,0.0,20.0") and "second_dose_early" in rows[1]
    assert rows[2].split(",")[5] == "" and rows[2].split(",")[8] == "0"  # bob: no naloxone


def test_record_round_trip_and_modes(tmp_path) -> None:
    rec = ClassRecord.create({"scenario": "opioid-overdose"}, start_wall=1.7e9, base=tmp_path)
    for e in acts((1, "unresponsive"), (2, "911"), (3, "naloxone"), (100, "naloxone")):
        rec.write({"k": "event", "rt": 1.0, "station": "ann", "station_name": "Ann",
                   "seq": e.seq, "t": e.t, "kind": e.kind.value, "name": e.name, "text": "",
                   "params": {}, "sent": 0.0})
    rec.close()
    if os.name == "posix":
        assert stat.S_IMODE(rec.path.stat().st_mode) == 0o600
        assert stat.S_IMODE(tmp_path.stat().st_mode) == 0o700
    again = ClassRecord.create({}, start_wall=1.7e9, base=tmp_path)  # never over the first
    assert again.path != rec.path
    again.close()
    (s,) = load_record(rec.path).stations
    assert s.name == "Ann" and s.doses == 2 and [d.rule for d in s.deviations] == [
        "second_dose_early"]
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"k": "class"}) + "\n{oops\n")
    with pytest.raises(FormatError, match=":2: not JSON"):
        load_record(bad)
