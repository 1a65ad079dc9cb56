"""Alarm configuration: shipped defaults with sources, user overrides, FILE:LINE errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from drivers.errors import ConfigError
from oxi_assist.monitor.alarm_config import DEFAULTS_PATH, MAX_STALE_S, AlarmConfig, load_config
from oxi_assist.monitor.priority import Priority


def test_defaults_load_and_match_the_documented_numbers() -> None:
    cfg = AlarmConfig.default()
    assert cfg.window_s == 8.0 and cfg.stale_after_s == 10.0 and cfg.no_data_after_s == 5.0
    assert cfg.escalate_within_s == 120.0
    assert cfg.stale_after_s <= MAX_STALE_S
    assert cfg.rules["spo2_low"].limit == 90.0
    assert cfg.rules["spo2_low"].priority is Priority.MEDIUM
    assert cfg.rules["spo2_severe"].limit == 85.0
    assert cfg.rules["spo2_severe"].priority is Priority.HIGH
    assert cfg.rules["spo2_severe"].latching
    assert cfg.rules["link_lost"].priority is Priority.HIGH and cfg.rules["link_lost"].technical
    assert not cfg.rules["pulse_low"].technical
    assert cfg.desat_drops == (3.0, 4.0) and cfg.time_below == (90.0, 85.0, 80.0)


def test_every_number_in_the_shipped_file_names_its_source() -> None:
    labels = ("[BC]", "[clinical-ref", "[other-jurisdiction]", "[app-defined]")
    text = DEFAULTS_PATH.read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(text):
        code = line.split("#", 1)[0]
        if re.search(r"=\s*[-\d\[]", code):
            # the label sits on the line or in the comment block right above it
            context = " ".join(text[max(0, i - 4): i + 1])
            assert any(lb in context for lb in labels), f"line {i + 1} has no source: {line}"


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "alarms.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_user_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    p = write(tmp_path, "[alarms.spo2_low]\nlimit = 88\ndelay_s = 15\n\n"
                        "[monitor]\nwindow_s = 4\n")
    cfg = load_config(p)
    assert cfg.rules["spo2_low"].limit == 88.0 and cfg.rules["spo2_low"].delay_s == 15.0
    assert cfg.window_s == 4.0
    assert cfg.rules["spo2_severe"].limit == 85.0  # untouched default
    assert cfg.source == str(p)


@pytest.mark.parametrize(("text", "line", "words"), [
    ("[monitor]\nwindow_s = 4\nwindow = 3\n", 3, "unknown key monitor.window"),
    ("[alarms.spo2_low]\nlimit = \"low\"\n", 2, "expected a number"),
    ("[alarms.spo2_low]\nenabled = 1\n", 2, "expected true or false"),
    ("\n[monitor]\nstale_after_s = 45\n", 3, "out of range"),
    ("[alarms.spo2_low]\nlimit = 120\n", 2, "out of range"),
    ("[alarms.spo2_low]\npriority = \"urgent\"\n", 2, "priority"),
    ("[alarms.pulse_low]\nrapid_drop = 3\n", 2, "unknown key alarms.pulse_low.rapid_drop"),
    ("[alarms.apnea]\nlimit = 3\n", 1, "unknown alarm 'apnea'"),
    ("[extras]\nx = 1\n", 1, "unknown section 'extras'"),
    ("[monitor]\nwindow_s = = 4\n", 2, "invalid TOML"),
    ("[desaturation]\ndrops = []\n", 2, "must not be empty"),
    ("[desaturation]\nrecovery = 3.5\n", 2, "must be below every drop"),
    ("[monitor]\nwindow_s = true\n", 2, "expected a number"),
])
def test_bad_values_name_file_and_line(tmp_path: Path, text: str, line: int,
                                       words: str) -> None:
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as e:
        load_config(p)
    msg = str(e.value)
    assert msg.startswith(f"{p}:{line}: "), msg
    assert words in msg
    assert "\n" not in msg


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.toml")
    b = tmp_path / "b.toml"
    b.write_bytes(b"\x00\xff\xfe\x80binary")
    with pytest.raises(ConfigError, match=r":1: not UTF-8"):
        load_config(b)
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)
