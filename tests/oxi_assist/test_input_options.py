"""`--format` and `--columns` on every command that reads a file, the same everywhere."""

from __future__ import annotations

import json

import pytest

from drivers.clock import VirtualClock
from oxi_assist.cli import build_parser, main
from oxi_assist.commands.replay import replay_uri
from oxi_assist.uris import parse_uri
from simulators.replay import open_replay

#: a table with no header: only an explicit mapping reads it
ROWS = "".join(f"10:00:{s:02d};{97 - s % 3};{70 + s % 5}\n" for s in range(30))
MAP = "time=1,spo2=2,pulse=3"
READERS = ("info", "analyze", "debrief", "replay", "convert")


def test_every_command_that_reads_a_file_takes_both_options():
    sub = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name in READERS:
        opts = {s for a in sub[name]._actions for s in a.option_strings}
        assert {"--format", "--columns"} <= opts, name


@pytest.mark.parametrize("argv", [
    ["info", "--json"], ["analyze", "--json"], ["debrief", "--text"]])
def test_columns_read_a_headerless_table(tmp_path, capsys, argv):
    p = tmp_path / "raw.csv"
    p.write_text(ROWS)
    assert main([*argv, str(p)]) == 2  # no reader recognises it on its own
    err = capsys.readouterr().err
    assert "--columns spo2=2,pulse=3,time=1" in err and err.count("\n") == 1
    assert main([*argv, str(p), "--columns", MAP]) == 0
    out = capsys.readouterr().out
    if argv[0] in ("info", "analyze"):
        assert json.loads(out)["samples"] == 30
    else:
        assert "raw.csv" in out and "0:30 long" in out


def test_convert_takes_columns_and_format(tmp_path, capsys):
    p = tmp_path / "raw.csv"
    p.write_text(ROWS)
    out = tmp_path / "o.csv"
    assert main(["convert", str(p), str(out), "--columns", MAP]) == 0
    assert "30 samples from generic-csv" in capsys.readouterr().out
    assert main(["convert", str(p), str(tmp_path / "x.csv"), "--format", "contec-csv"]) == 2
    assert "not a Contec CSV" in capsys.readouterr().err


@pytest.mark.parametrize("argv", [["info"], ["analyze"], ["debrief", "--text"]])
def test_format_forces_a_reader(tmp_path, capsys, argv):
    p = tmp_path / "raw.csv"
    p.write_text(ROWS)
    assert main([*argv, str(p), "--format", "viatom-csv"]) == 2
    assert "not a Viatom/Wellue CSV" in capsys.readouterr().err


async def test_replay_passes_both_to_the_reader(tmp_path):
    p = tmp_path / "raw.csv"
    p.write_text(ROWS)
    uri = replay_uri(str(p), 10, "generic-csv", MAP)
    u = parse_uri(uri)
    assert u.params == {"speed": "10", "format": "generic-csv", "columns": MAP}
    src = open_replay(u.target, u.params, VirtualClock())
    assert len(src.readings) == 30
