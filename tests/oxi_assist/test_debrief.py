"""Debrief numbers from hand-written native files whose answers are known, text export, CLI."""

from __future__ import annotations

import json
import os
import stat
import sys

import numpy as np
import pytest

from drivers.errors import OxiError
from drivers.formats import load
from drivers.formats._base import Recording
from oxi_assist.cli import main
from oxi_assist.debrief import (
    ROSE,
    debrief_text,
    fmt_time,
    rose_text,
    summarize,
    summary_text,
    write_output,
)

HEADER = ('{"format":"oxi-assist-session","version":1,"source":"sim:opioid-overdose",'
          '"device":"sim","start_wall":1700000000}\n')

# Session started at t=0; readings every 1 s from t=2. Known answers:
#  - 911 at 10 s, breaths at 12 s, naloxone at 20 s and 320 s (2 doses)
#  - SpO2 below 90 at t=5..9 (5 samples) and t=15..16 (2 samples) = 7 s; below 85: t=7,8 = 2 s
#  - t=11..13 finger out (no reading, never counted as below 90)
#  - lowest 78 at t=8
#  - alarms: spo2_low raised twice, no_data once
BODY = [
    '{"k":"event","t":0,"name":"session_start","source":"sim:opioid-overdose"}',
]
SPO2 = {2: 97, 3: 95, 4: 91, 5: 89, 6: 86, 7: 84, 8: 78, 9: 88, 10: 92,
        14: 93, 15: 89, 16: 87, 17: 90, 18: 94}
for t in range(2, 19):
    if t in SPO2:
        BODY.append(json.dumps({"k": "r", "t": t, "spo2": SPO2[t], "pulse": 60 + t}))
    else:
        BODY.append(json.dumps({"k": "r", "t": t, "st": ["finger_out"]}))
BODY += [
    '{"k":"alarm","t":5,"kind":"spo2_low","priority":"high","state":"raised","message":"low"}',
    '{"k":"alarm","t":10,"kind":"spo2_low","priority":"high","state":"cleared"}',
    '{"k":"alarm","t":11,"kind":"no_data","priority":"medium","state":"raised"}',
    '{"k":"alarm","t":14,"kind":"no_data","priority":"medium","state":"cleared"}',
    '{"k":"alarm","t":15,"kind":"spo2_low","priority":"high","state":"raised"}',
    '{"k":"event","t":10,"name":"911","by":"responder"}',
    '{"k":"event","t":12,"name":"breaths","by":"responder"}',
    '{"k":"event","t":20,"name":"naloxone","by":"responder","dose":1,"route":"im"}',
    '{"k":"event","t":21,"name":"guide","kind":"step","text":"Keep giving breaths","by":"guide"}',
    '{"k":"event","t":25,"name":"finger_out","by":"trainer"}',
    '{"k":"event","t":320,"name":"naloxone","by":"responder","dose":2,"route":"im"}',
    '{"k":"link","t":330,"state":"closed"}',
]


@pytest.fixture
def session_file(tmp_path):
    p = tmp_path / "known.jsonl"
    p.write_text(HEADER + "\n".join(BODY) + '\n{"k":"end","t":330}\n')
    return p


def test_summary_numbers_are_the_known_answers(session_file):
    s = summarize(load(session_file))
    assert s.t_911 == 10 and s.t_breaths == 12 and s.t_naloxone == 20
    assert s.doses == 2 and s.naloxone_times == [20, 320]
    assert s.lowest_spo2 == 78 and s.lowest_at == 8
    assert s.first_below_90 == 5
    # the device's values, each holding until the next reading (the last one: no interval)
    assert s.time_below_90 == pytest.approx(7.0)
    assert s.time_below_85 == pytest.approx(2.0)
    assert s.valid_seconds == pytest.approx(13.0)
    assert s.reading_seconds == pytest.approx(17.0)
    # alarms: what the alarm rules raise on these readings, as `analyze` counts them; the
    # three the session recorded are kept for its timeline and named in the text
    assert s.alarms_by_kind == {"finger_out": 1, "no_data": 1, "spo2_low": 2, "stale": 1}
    assert s.alarms_raised == 5 and s.alarms_recorded == 3
    assert "the session recorded 3" in summary_text(s)
    assert s.pulse_min is not None and 62 <= s.pulse_min < s.pulse_max <= 78
    assert not s.alarms_computed
    assert s.duration == 330
    assert not s.interrupted


def test_times_are_from_the_session_start_event(tmp_path):
    body = [b.replace('"t":0,"name":"session_start"', '"t":-5,"name":"session_start"')
            for b in BODY]
    p = tmp_path / "shifted.jsonl"
    p.write_text(HEADER + "\n".join(body) + "\n")
    s = summarize(load(p))
    assert s.t_911 == 15 and s.lowest_at == 13
    assert s.interrupted


def test_gaps_between_samples_are_not_time_below_90(tmp_path):
    lines = ['{"k":"r","t":0,"spo2":85,"pulse":60}', '{"k":"r","t":1,"spo2":85,"pulse":60}',
             '{"k":"r","t":600,"spo2":85,"pulse":60}']
    p = tmp_path / "gap.jsonl"
    p.write_text(HEADER + "\n".join(lines) + "\n")
    s = summarize(load(p))
    # 1 s + at most stale_after_s (10 s) across the 10-minute hole; the last reading holds
    # for no time (a native session states no interval)
    assert s.time_below_90 == pytest.approx(11.0)


def test_no_readings_and_no_actions_say_so(tmp_path):
    p = tmp_path / "empty.jsonl"
    p.write_text(HEADER + '{"k":"r","t":0,"st":["searching"]}\n')
    s = summarize(load(p))
    assert s.lowest_spo2 is None and s.doses == 0 and s.t_911 is None
    text = debrief_text(load(p), s)
    assert "No trustworthy SpO2 reading" in text
    assert "No responder actions" in text


def test_truncated_last_line_still_debriefs(session_file):
    text = session_file.read_text()
    cut = text[: text.rindex('{"k":"link"') + 12]  # the kill happened mid-line
    session_file.write_text(cut)
    s = summarize(load(session_file))
    assert s.interrupted
    assert s.doses == 2 and s.lowest_spo2 == 78
    assert "Interrupted" in debrief_text(load(session_file), s)


def test_text_export_has_summary_timeline_sources_and_rose(session_file):
    rec = load(session_file)
    text = debrief_text(rec)
    assert "911 called          at 0:10" in text
    assert "Naloxone doses      2 (at 0:20, 5:20)" in text
    assert "Lowest SpO2         78 % at 0:08" in text
    assert f"Time below 90 %     {fmt_time(summarize(rec).time_below_90)}" in text
    assert "BC (BCCDC/Toward the Heart)" in text
    assert "other jurisdiction (Ontario paramedics, 2020)" in text
    assert "Naloxone dose 2 (injection)" in text
    assert "trainer: finger out" in text
    assert "high alarm: low" in text and "alarm over: spo2 low" in text
    assert "medium alarm: no data" in text
    assert "Keep giving breaths" in text
    for sec in ROSE:
        assert f"{sec.letter} – {sec.title}" in text
    assert "towardtheheart.com" in rose_text() and "app-defined" in rose_text()
    lines = text.splitlines()
    tl = lines.index("Timeline")
    times = [ln.split()[0] for ln in lines[tl + 1:] if ln.startswith("   ") and ":" in ln[:10]]
    assert times == sorted(times, key=lambda x: tuple(int(v) for v in x.split(":")))


@pytest.mark.parametrize(("secs", "txt"), [(0, "0:00"), (59.6, "1:00"), (3725, "1:02:05"),
                                           (None, "—")])
def test_fmt_time(secs, txt):
    assert fmt_time(secs) == txt


def test_cli_prints_and_exports(session_file, tmp_path, capsys):
    out_t, out_s = tmp_path / "d.txt", tmp_path / "d.svg"
    rc = main(["debrief", str(session_file), "--export-text", str(out_t),
               "--export-svg", str(out_s)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "First naloxone      at 0:20" in printed
    assert out_t.read_text() == printed
    assert out_s.read_text().startswith("<svg")
    if sys.platform != "win32":
        assert stat.S_IMODE(os.stat(out_t).st_mode) == 0o600


@pytest.mark.parametrize("bad", ["missing-dir/x.txt", "."])
def test_cli_bad_output_path_is_one_line_exit_2(session_file, tmp_path, capsys, bad):
    target = str(tmp_path / bad)
    rc = main(["debrief", str(session_file), "--export-text", target, "-q"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("oxi-assist: error:") and err.count("\n") == 1
    assert "Traceback" not in err


def test_cli_bad_input_file_exit_2(tmp_path, capsys):
    p = tmp_path / "junk.jsonl"
    p.write_text('{"format":"oxi-assist-session","version":1}\n{"k":"r"}\n{"k":"r","t":1}\n')
    assert main(["debrief", str(p)]) == 2
    err = capsys.readouterr().err
    assert "junk.jsonl:2" in err and err.count("\n") == 1
    assert main(["debrief", str(tmp_path / "none.jsonl")]) == 2


def test_write_output_refuses_a_folder(tmp_path):
    with pytest.raises(OxiError, match="is a directory; give a file name"):
        write_output(tmp_path, "x", force=True)


def test_terminal_opens_the_screen_and_exports_stay_text(session_file, tmp_path, monkeypatch,
                                                          capsys):
    import oxi_assist.ui.app as ui_app

    opened: list[str] = []
    monkeypatch.setattr(ui_app, "run_debrief", lambda path: opened.append(str(path)) or 0)
    monkeypatch.setattr(sys.stdin, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    assert main(["debrief", str(session_file)]) == 0
    assert opened == [str(session_file)]
    assert main(["debrief", str(session_file), "--text"]) == 0
    assert main(["debrief", str(session_file), "--export-svg", str(tmp_path / "x.svg")]) == 0
    assert opened == [str(session_file)]
    assert "Debrief (ROSE)" in capsys.readouterr().out


def _plateau(tmp_path):
    """97 % for 2 min, 85 % for 2 min, 97 % for 2 min, 1 Hz: smoothing only blurs the edges."""
    body = []
    for t in range(360):
        v = 85 if 120 <= t < 240 else 97
        body.append(json.dumps({"k": "r", "t": t, "spo2": v, "pulse": 70}))
    p = tmp_path / "plateau.jsonl"
    p.write_text(HEADER + "\n".join(body) + "\n")
    return p


def test_time_below_follows_the_smoothed_values_like_the_live_monitor(tmp_path):
    from drivers.reading import Reading
    from oxi_assist.monitor.monitor import Monitor

    rec = load(_plateau(tmp_path))
    s = summarize(rec)
    assert s.shown_time_below_90 == pytest.approx(120.0, abs=6.0)
    assert s.shown_time_below_85 <= s.shown_time_below_90
    assert s.time_below_90 == pytest.approx(120.0)
    m = Monitor()
    for r in rec.readings:
        m.update(Reading(t=r.t, spo2=r.spo2, pulse=r.pulse, status=r.status))
    assert s.shown_time_below_90 == pytest.approx(m.time_below[90.0])
    assert s.lowest_shown == pytest.approx(85.0)
    assert s.desaturations == 1


def test_imported_file_gets_alarms_computed_with_the_live_rules(tmp_path, vectors):
    from drivers.formats._base import Recording

    rec = load(_plateau(tmp_path))
    imported = Recording(path="x.csv", format="csv", readings=list(rec.readings))
    s = summarize(imported)
    assert s.alarms_computed
    assert s.alarms_by_kind.get("spo2_low") == 1
    text = debrief_text(imported, s)
    assert "live alarm rules" in text
    # a live session with no alarm keeps "no alarms": its record is the truth
    live = summarize(load(session_file_without_alarms(tmp_path)))
    assert live.alarms_recorded == 0 and not live.alarms_computed
    # a real capture (Contec .SpO2): no responder events, alarms computed, text renders
    cap = load(vectors / "contec-cms50e-live.SpO2")
    sc = summarize(cap)
    assert sc.alarms_computed and sc.lowest_spo2 == pytest.approx(95.0)
    # a once-a-minute export is not a stream of "no data" alarms
    sparse = Recording(path="m.csv", format="csv", interval=60.0,
                       readings=[r for r in rec.readings if r.t % 60 == 0])
    ss = summarize(sparse)
    # counted as `analyze` counts them, but the data-gap ones are not listed one by one
    from oxi_assist.analysis import analyze
    assert ss.alarms_by_kind == analyze(sparse).alarm_counts
    assert ss.alarms_computed and ss.alarms_unlisted == ss.alarms_raised
    assert not [i for i in ss.timeline if i.kind == "alarm"]
    assert "about data gaps" in summary_text(ss)
    assert "No responder actions" in debrief_text(cap, sc)


def session_file_without_alarms(tmp_path):
    p = tmp_path / "quiet.jsonl"
    p.write_text(HEADER + '{"k":"event","t":0,"name":"session_start"}\n'
                 + "\n".join(json.dumps({"k": "r", "t": t, "spo2": 80, "pulse": 60})
                             for t in range(1, 60)) + "\n")
    return p


def test_debrief_last_picks_the_newest_session(tmp_path, monkeypatch, capsys):
    from oxi_assist.recordings import ENV_DATA_DIR

    monkeypatch.setenv(ENV_DATA_DIR, str(tmp_path / "data"))
    monkeypatch.chdir(tmp_path)
    assert main(["debrief", "last", "--text"]) == 2
    assert "no recorded sessions" in capsys.readouterr().err
    d = tmp_path / "data" / "sessions"
    d.mkdir(parents=True)
    (d / "old.jsonl").write_text(HEADER.replace("1700000000", "1600000000")
                                 + '{"k":"r","t":0,"spo2":99,"pulse":70}\n')
    (d / "new.jsonl").write_text(HEADER + '{"k":"r","t":0,"spo2":81,"pulse":70}\n')
    assert main(["debrief", "last", "--text"]) == 0
    out = capsys.readouterr().out
    assert "new.jsonl" in out and "Lowest SpO2         81 %" in out


def test_a_long_recording_is_debriefed_without_an_object_per_reading() -> None:
    """A million readings: the summary, the text, the SVG and the screen's chart together
    allocate under 32 bytes a reading (a Python float per reading alone takes 24, a list of
    them 32), and the chart is drawn from a few thousand points."""
    import tracemalloc

    from benchmarks.bench_analysis import synthetic
    from oxi_assist.analysis import analyze_trace
    from oxi_assist.timeline_svg import render_svg
    from oxi_assist.ui.debrief_screen import CHART_BUCKETS, chart_points

    tr = synthetic(1_000_000 / 3600, 1.0, seed=7)
    n = len(tr.t)
    rec = Recording.from_arrays("night.csv", "test", tr.t, tr.spo2, tr.pulse,
                                tr.status.astype(np.int32), interval=1.0)
    analyze_trace(synthetic(10.0, 1.0))  # once per process: the allocator's warm-up block
    tracemalloc.start()
    try:
        s = summarize(rec)
        text = debrief_text(rec, s)
        svg = render_svg(rec, s)
        t, spo2, _ = rec.arrays()
        ts, _vs = chart_points(t, spo2, s.duration, s.t_start)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert s.lowest_spo2 is not None and "Lowest SpO2" in text and "<path" in svg
    assert len(ts) < 3 * CHART_BUCKETS
    assert peak < 32 * n


def test_recorded_alarms_become_spans_in_session_time(session_file):
    """The recorded raise/clear records, paired: one shape with the analysis' records."""
    from oxi_assist.monitor.priority import Priority
    from oxi_assist.monitor.records import AlarmRecord

    s = summarize(load(session_file))
    assert s.alarm_spans == [
        AlarmRecord("spo2_low", Priority.HIGH, False, 5.0, 5.0, 10.0),
        AlarmRecord("no_data", Priority.MEDIUM, False, 11.0, 11.0, 14.0),
        AlarmRecord("spo2_low", Priority.HIGH, False, 15.0, 15.0, None),  # never cleared
    ]


def test_computed_alarm_spans_are_the_analysis_records(tmp_path):
    from drivers.formats._base import Recording
    from oxi_assist.analysis import analyze
    from oxi_assist.debrief import LINK_ALARMS

    rec = load(_plateau(tmp_path))
    imported = Recording(path="x.csv", format="csv", readings=list(rec.readings))
    s = summarize(imported)
    found = [a for a in analyze(imported).alarms if a.kind not in LINK_ALARMS]
    assert found and s.alarms_computed
    assert [(a.kind, a.priority, a.start + s.t_start) for a in s.alarm_spans] == \
        [(a.kind, a.priority, a.start) for a in found]
