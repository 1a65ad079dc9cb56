"""Where sessions are recorded, file modes, listing and interrupted detection, on real files."""

from __future__ import annotations

import os
import stat
import sys

import pytest

from drivers.clock import VirtualClock
from drivers.reading import Reading, Status
from oxi_assist import recordings
from oxi_assist.recordings import (
    list_sessions,
    new_session_path,
    open_writer,
    scan,
    session_filename,
    sessions_dir,
    source_kind,
)

POSIX = sys.platform != "win32"
HEADER = ('{"format":"oxi-assist-session","version":1,"source":"sim:x","device":"dev",'
          '"start_wall":%d}\n')


def _mode(p: os.PathLike[str]) -> int:
    return stat.S_IMODE(os.stat(p).st_mode)


def test_env_var_overrides_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(recordings.ENV_DATA_DIR, str(tmp_path / "data"))
    assert sessions_dir() == tmp_path / "data" / "sessions"
    assert not (tmp_path / "data").exists()  # listing never creates anything


def test_default_data_dir_comes_from_platformdirs(monkeypatch):
    monkeypatch.delenv(recordings.ENV_DATA_DIR, raising=False)
    from platformdirs import user_data_dir

    assert recordings.data_dir() == __import__("pathlib").Path(
        user_data_dir("oxi-assist", appauthor=False))


@pytest.mark.skipif(not POSIX, reason="POSIX file modes")
def test_folder_0700_and_file_0600_even_with_open_umask(tmp_path, monkeypatch):
    monkeypatch.setenv(recordings.ENV_DATA_DIR, str(tmp_path / "data"))
    old = os.umask(0)
    try:
        clock = VirtualClock()
        w = open_writer("sim:opioid-overdose", clock)
        w.reading(Reading(t=0.0, spo2=97, pulse=80))
        w.close()
    finally:
        os.umask(old)
    d = tmp_path / "data" / "sessions"
    assert _mode(d) == 0o700
    assert _mode(w.path) == 0o600
    assert w.path.parent == d
    assert w.path.name.endswith("-sim.jsonl")


@pytest.mark.skipif(not POSIX, reason="POSIX file modes")
def test_existing_wide_folder_is_narrowed(tmp_path):
    d = tmp_path / "s"
    d.mkdir(mode=0o755)
    os.chmod(d, 0o755)
    sessions_dir(d, create=True)
    assert _mode(d) == 0o700


def test_file_names_from_start_time_and_kind_never_overwrite(tmp_path):
    start = 1_700_000_000.0
    a = new_session_path(start, "sim", tmp_path)
    assert a.name == session_filename(start, "sim")
    assert a.name[:15].replace("-", "").isdigit()
    assert new_session_path(start, "sim", tmp_path, 2).name.endswith("-sim-2.jsonl")
    # a file already there (another process, the same second) is never opened for writing
    a.write_text("someone else's session")
    clock = VirtualClock(wall_start=start)
    w1 = open_writer("sim:x", clock, base=tmp_path)
    w2 = open_writer("sim:x", clock, base=tmp_path)
    w1.close()
    w2.close()
    assert a.read_text() == "someone else's session"
    assert [w1.path.name, w2.path.name] == [session_filename(start, "sim").replace(
        ".jsonl", f"-{n}.jsonl") for n in (2, 3)]


@pytest.mark.parametrize(("label", "kind"), [
    ("sim:opioid-overdose", "sim"), ("serial:/dev/ttyUSB0", "serial"),
    ("ble:AA:BB", "ble"), ("", "guide"), (None, "guide"), ("Weird Scheme:x", "weird-scheme"),
])
def test_source_kind(label, kind):
    assert source_kind(label) == kind


def _write(path, start, lines, end=True):
    text = HEADER % start + "".join(lines)
    if end:
        text += '{"k":"end","t":99}\n'
    path.write_text(text)
    return path


def test_list_newest_first_with_stats_and_interrupted(tmp_path):
    old = _write(tmp_path / "a.jsonl", 1_700_000_000, [
        '{"k":"r","t":0,"spo2":97,"pulse":80}\n',
        '{"k":"r","t":30,"spo2":91,"pulse":80}\n',
    ])
    new = _write(tmp_path / "b.jsonl", 1_700_100_000, [
        '{"k":"r","t":0,"spo2":95,"pulse":80}\n',
        '{"k":"alarm","t":5,"kind":"spo2_low","priority":"high","state":"raised"}\n',
        '{"k":"r","t":6,"spo2":82,"pulse":50}\n',
        '{"k":"r","t":7,"st":["finger_out"]}\n',
        '{"k":"alarm","t":9,"kind":"spo2_low","priority":"high","state":"cleared"}\n',
        '{"k":"alarm","t":10,"kind":"no_data","priority":"medium","state":"raised"}\n',
        '{"k":"event","t":11,"name":"naloxone","by":"responder","dose":1}\n',
    ], end=False)
    (tmp_path / "notes.txt").write_text("not a session")
    infos = list_sessions(tmp_path)
    assert [i.path for i in infos] == [new, old]
    b, a = infos
    assert b.interrupted and not a.interrupted
    assert b.lowest_spo2 == 82 and a.lowest_spo2 == 91
    assert b.alarms == 2 and a.alarms == 0
    assert b.actions == 1
    assert b.duration == 11 and a.duration == 30
    assert b.source == "sim:x" and b.device == "dev"


def test_truncated_last_line_is_interrupted_not_broken(tmp_path):
    p = tmp_path / "t.jsonl"
    p.write_text(HEADER % 1_700_000_000 + '{"k":"r","t":0,"spo2":96,"pulse":70}\n'
                 '{"k":"r","t":1,"spo2":9')
    info = scan(p)
    assert info.error == ""
    assert info.interrupted
    assert info.lowest_spo2 == 96


def test_unreadable_file_is_listed_with_its_error(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text("garbage\n")
    (info,) = list_sessions(tmp_path)
    assert info.error and "bad.jsonl" in info.error


def test_missing_folder_lists_nothing(tmp_path):
    assert list_sessions(tmp_path / "nope") == []


def test_recording_of_a_reading_round_trips(tmp_path):
    clock = VirtualClock()
    w = open_writer("serial:/dev/ttyUSB0", clock, base=tmp_path, device="CMS50D+")
    w.reading(Reading(t=0.0, status=Status.FINGER_OUT))
    w.reading(Reading(t=1.0, spo2=88, pulse=61))
    w.close()
    info = scan(w.path)
    assert (info.source, info.device, info.lowest_spo2, info.interrupted) == (
        "serial:/dev/ttyUSB0", "CMS50D+", 88, False)


def test_sessions_command_lists_newest_first(tmp_path, monkeypatch, capsys):
    from oxi_assist.cli import main

    monkeypatch.setenv(recordings.ENV_DATA_DIR, str(tmp_path))
    d = tmp_path / "sessions"
    d.mkdir()
    _write(d / "a.jsonl", 1_700_000_000, ['{"k":"r","t":0,"spo2":93,"pulse":80}\n'])
    _write(d / "b.jsonl", 1_700_200_000, [
        '{"k":"r","t":0,"spo2":81,"pulse":80}\n',
        '{"k":"alarm","t":5,"kind":"spo2_low","priority":"high","state":"raised"}\n',
        '{"k":"r","t":65,"spo2":90,"pulse":80}\n'], end=False)
    for f in d.iterdir():  # written an hour ago: not a session that is still running
        os.utime(f, (f.stat().st_mtime - 3600, f.stat().st_mtime - 3600))
    assert main(["sessions"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("2 sessions in")
    assert out[1].split()[:2] == ["started", "length"]
    assert "b.jsonl" in out[2] and "interrupted" in out[2] and "81 %" in out[2]
    assert "1:05" in out[2] and "sim:x / dev" in out[2]
    assert "a.jsonl" in out[3] and "interrupted" not in out[3] and "93 %" in out[3]


def test_sessions_command_empty_folder_is_friendly(tmp_path, monkeypatch, capsys):
    from oxi_assist.cli import main

    monkeypatch.setenv(recordings.ENV_DATA_DIR, str(tmp_path / "fresh"))
    assert main(["sessions"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("No recorded sessions yet") and out.count("\n") == 1


def test_sessions_command_dir_that_is_a_file_is_exit_2(tmp_path, capsys):
    from oxi_assist.cli import main

    f = tmp_path / "file"
    f.write_text("x")
    assert main(["sessions", "--dir", str(f)]) == 2
    err = capsys.readouterr().err
    assert "not a folder" in err and err.count("\n") == 1


def test_a_recording_in_progress_is_not_called_interrupted(tmp_path):
    clock = VirtualClock()
    w = open_writer("sim:x", clock, base=tmp_path)
    w.reading(Reading(t=0.0, spo2=97, pulse=80))
    w.flush()
    info = scan(w.path)
    assert info.interrupted and info.modified is not None
    assert info.recording_now(info.modified + 1.0)
    assert not info.recording_now(info.modified + 60.0)  # a crash a minute ago
    w.close()
    assert not scan(w.path).recording_now(info.modified + 1.0)


def _full(path):
    from drivers.formats.native import read

    return recordings.info_from_recording(read(path), path)


def _same(a, b):
    assert (a.start_wall, a.source, a.device, a.lowest_spo2, a.alarms, a.actions,
            a.interrupted) == (b.start_wall, b.source, b.device, b.lowest_spo2, b.alarms,
                               b.actions, b.interrupted)
    assert a.duration == pytest.approx(b.duration)


def test_quick_listing_agrees_with_the_full_reader(tmp_path):
    from oxi_assist.actions import Action
    from oxi_assist.monitor.monitor import Monitor
    from oxi_assist.session import Session

    clock = VirtualClock()
    w = open_writer("sim:x", clock, base=tmp_path)
    s = Session(clock=clock, monitor=Monitor(), writer=w, source_label="sim:x")
    for i in range(200):
        clock.advance(0.5)
        st = Status.FINGER_OUT if 100 <= i < 110 else Status.NONE
        s.on_item(Reading(t=clock.now(), spo2=None if st else 97 - (i % 50) / 3,
                          pulse=70, status=st, pleth=(1.0, 2.0), pleth_rate=4.0))
        s.on_item(Reading(t=clock.now() + 0.25, pleth=(3.0,), pleth_rate=4.0, wave_only=True))
        if i == 60:
            s.on_action(Action.NALOXONE)
        s.tick()
    s.close()
    full = _full(w.path)
    assert full.alarms >= 1 and full.actions == 1 and full.lowest_spo2 is not None
    _same(scan(w.path), full)  # from the summary at the end
    assert recordings._from_tail(w.path) is not None
    _same(recordings._fast_scan(w.path), full)  # and the one-pass scan agrees too
    # the same file killed mid-write: no summary, no end, a half line
    text = w.path.read_text()
    cut = tmp_path / "cut.jsonl"
    cut.write_text(text[: text.index('"name":"session_end"') - 30])
    assert recordings._from_tail(cut) is None
    _same(scan(cut), _full(cut))
    assert scan(cut).interrupted


def test_hand_written_file_with_spaces_still_lists(tmp_path):
    p = tmp_path / "spaced.jsonl"
    p.write_text(HEADER % 1_700_000_000
                 + '{"k": "r", "t": 0, "spo2": 88, "pulse": 60}\n'
                 + '{"k": "r", "t": 2, "spo2": 70, "st": ["finger_out"]}\n'
                 + '{"k": "end"}\n')
    _same(scan(p), _full(p))
    assert scan(p).lowest_spo2 == 88


def test_bad_line_inside_a_file_is_reported_with_its_line(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text(HEADER % 1_700_000_000 + '{"k":"r","t":0,"spo2":88}\n{"k":"zz","t":1}\n'
                 '{"k":"end"}\n')
    info = scan(p)
    assert info.error and "bad.jsonl:3" in info.error


def test_a_recording_that_cannot_start_does_not_stop_the_session(tmp_path):
    from oxi_assist.actions import Action
    from oxi_assist.session import Session

    blocked = tmp_path / "file-where-the-folder-should-be"
    blocked.write_text("")
    clock = VirtualClock()
    w, why = recordings.try_open_writer("sim:x", clock, base=blocked)
    assert w is None and str(blocked) in why and "sessions folder" in why
    s = Session(clock=clock, writer=w, record_error=why)
    s.on_action(Action.CALLED_911)
    assert s.record_error == why and s.actions[-1].name == "911"


def test_try_open_writer_gives_a_writer_when_it_can(tmp_path):
    w, why = recordings.try_open_writer("sim:x", VirtualClock(), base=tmp_path)
    assert w is not None and why == ""
    w.close()


def test_one_bad_file_never_breaks_the_listing_or_debrief_last(tmp_path, monkeypatch, capsys):
    """Every kind of broken thing in the sessions folder is listed as unreadable and skipped;
    `sessions` and `debrief last` still work for the good recording."""
    from oxi_assist.cli import main

    monkeypatch.setenv(recordings.ENV_DATA_DIR, str(tmp_path))
    d = tmp_path / "sessions"
    d.mkdir()
    good = _write(d / "good.jsonl", 1_700_000_000, [
        '{"k":"r","t":0,"spo2":93,"pulse":80}\n',
        '{"k":"event","t":3,"name":"911","by":"responder"}\n'])
    deep = HEADER % 1_700_100_000 + '{"k":"event","t":1,"x":' + "[" * 100_000 \
        + "]" * 100_000 + "}\n"
    (d / "deep.jsonl").write_text(deep)  # nested too deeply for a JSON parser
    (d / "deep-tail.jsonl").write_text(HEADER % 1_700_100_001 + "[" * 5000 + "\n"
                                       + "[" * 5000 + "\n")
    (d / "long-line.jsonl").write_text(HEADER % 1_700_100_002 + '{"k":"event","t":1,"x":"'
                                       + "x" * (2 << 20) + '"}\n')
    (d / "binary.jsonl").write_bytes(bytes(range(256)) * 8)
    (d / "empty.jsonl").write_bytes(b"")
    os.mkfifo(d / "fifo.jsonl")  # never opened (it would block forever)
    (d / "folder.jsonl").mkdir()
    (d / "loop.jsonl").symlink_to("loop.jsonl")
    infos = list_sessions(d)
    ok = [i for i in infos if not i.error]
    assert [i.path for i in ok] == [good]
    assert {i.path.name for i in infos if i.error} >= {"deep.jsonl", "long-line.jsonl",
                                                       "binary.jsonl", "empty.jsonl"}
    for i in infos:
        assert "\n" not in i.error and "Traceback" not in i.error
    deep_info = next(i for i in infos if i.path.name == "deep.jsonl")
    assert "nested too deeply" in deep_info.error
    assert main(["sessions"]) == 0
    out = capsys.readouterr().out
    assert "good.jsonl" in out and out.count("unreadable") >= 4
    assert main(["debrief", "last", "--text"]) == 0
    assert "911 called" in capsys.readouterr().out
