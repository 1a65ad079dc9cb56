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
    a.write_text("x")
    b = new_session_path(start, "sim", tmp_path)
    assert a != b and b.name.endswith("-sim-2.jsonl")
    assert a.name == session_filename(start, "sim")
    assert a.name[:15].replace("-", "").isdigit()


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
