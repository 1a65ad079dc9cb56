"""Escape codes and line breaks in a file's metadata, in event text and in file names are
shown escaped wherever the commands print them, never sent to the terminal raw."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivers.clock import VirtualClock
from drivers.reading import LinkEvent, LinkState
from oxi_assist.cli import main
from oxi_assist.session import Session

ESC = "\x1b[2J\x1b]0;pwned\x07"


@pytest.fixture
def rec(tmp_path: Path) -> Path:
    d = tmp_path / "sessions"
    d.mkdir()
    p = d / f"night{ESC}.jsonl"
    head = {"format": "oxi-assist-session", "version": 1, "source": f"sim:{ESC}",
            "device": f"Pulse{ESC}Ox", "start_wall": 1700000000.0}
    lines = [json.dumps(head)]
    lines += [json.dumps({"k": "r", "t": i, "spo2": 96, "pulse": 70}) for i in range(30)]
    lines.append(json.dumps({"k": "event", "t": 5, "name": "911", "by": "responder",
                             "note": ESC}))
    lines.append(json.dumps({"k": "end", "t": 30}))
    p.write_text("\n".join(lines) + "\n")
    return p


@pytest.mark.parametrize("argv", [["info", "{f}"], ["analyze", "{f}"],
                                  ["debrief", "{f}", "--text"], ["sessions", "--dir", "{d}"]])
def test_no_raw_control_character_reaches_the_terminal(rec: Path, argv: list[str],
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    args = [a.replace("{f}", str(rec)).replace("{d}", str(rec.parent)) for a in argv]
    assert main(args) == 0
    out, err = capsys.readouterr()
    for text in (out, err):
        assert "\x1b" not in text and "\x07" not in text
    assert "\\x1b[2J" in out  # shown, escaped


def test_errors_about_such_a_file_stay_one_line(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / f"two\nlines{ESC}.jsonl"
    bad.write_text("")
    assert main(["info", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "\x1b" not in err and "two\\nlines" in err


def test_the_live_screen_gets_device_names_escaped() -> None:
    s = Session(clock=VirtualClock(), source_label="ble:auto")
    s.on_item(LinkEvent(0.0, LinkState.CONNECTED, reason=f"ok{ESC}", device=f"Ox{ESC}"))
    assert "\x1b" not in s.device and "\x1b" not in s.link_reason
    assert all("\x1b" not in line.text for line in s.log)
