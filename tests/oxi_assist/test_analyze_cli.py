"""`oxi-assist analyze`: summary, JSON, --config, --format and one-line errors with exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivers.formats.native import SessionWriter
from drivers.reading import Reading
from oxi_assist.cli import main


@pytest.fixture
def session(tmp_path: Path) -> Path:
    p = tmp_path / "night.jsonl"
    with SessionWriter(p, source="test", start_wall=0.0) as w:
        for i in range(400):
            v = 96.0 if i < 150 or i > 250 else 86.0
            w.reading(Reading(t=float(i), spo2=v, pulse=72.0, pi=3.0))
    return p


def test_summary(session: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(session)]) == 0
    out = capsys.readouterr().out
    assert "night.jsonl (native)" in out
    assert "SpO2 min 86.0%" in out
    assert "90% (BC)" in out and "85% (Ontario paramedics)" in out
    assert "spo2_low" in out


def test_json(session: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(session), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["device"]["min_spo2"] == 86.0 and d["samples"] == 400
    assert sorted(a["kind"] for a in d["alarms"]) == ["falling_fast", "spo2_low"]


def test_config_changes_the_result(session: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "mine.toml"
    cfg.write_text("[alarms.spo2_low]\nlimit = 85\n\n[alarms.falling_fast]\nenabled = false\n",
                   encoding="utf-8")
    assert main(["analyze", str(session), "--json", "--config", str(cfg)]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["alarms"] == []
    assert d["config"] == str(cfg)


def test_forced_format(session: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(session), "--format", "native", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["samples"] == 400


def one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    cap = capsys.readouterr()
    err = cap.err.strip()
    assert err.startswith("oxi-assist: error: ")
    assert "\n" not in err and "Traceback" not in cap.err
    return err


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(tmp_path / "nope.jsonl")]) == 2
    assert "nope.jsonl" in one_line_error(capsys)


def test_empty_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "empty.jsonl"
    p.write_bytes(b"")
    assert main(["analyze", str(p)]) == 2
    assert "empty" in one_line_error(capsys)


def test_binary_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "blob.bin"
    p.write_bytes(bytes(range(256)) * 8)
    assert main(["analyze", str(p)]) == 2
    assert "blob.bin" in one_line_error(capsys)


def test_wrong_format_forced(session: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(session), "--format", "no-such-format"]) == 2
    assert "no-such-format" in one_line_error(capsys)


def test_session_without_readings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    p = tmp_path / "hollow.jsonl"
    SessionWriter(p, source="test", start_wall=0.0).close()
    assert main(["analyze", str(p)]) == 2
    assert "no vitals readings" in one_line_error(capsys)


def test_corrupt_session_line(session: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = session.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[5] = '{"k":"r","t":"soon"}\n'
    session.write_text("".join(lines), encoding="utf-8")
    assert main(["analyze", str(session)]) == 2
    assert ":6:" in one_line_error(capsys)


def test_bad_config(session: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[monitor]\nstale_after_s = 60\n", encoding="utf-8")
    assert main(["analyze", str(session), "--config", str(cfg)]) == 2
    assert f"{cfg}:2:" in one_line_error(capsys)


def test_real_capture_through_format_detection(vectors: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """A real Contec CMS50E export, detected by content: a calm 3.5 minutes."""
    assert main(["analyze", str(vectors / "contec-cms50e-live.SpO2"), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["samples"] == 212 and d["valid_fraction"] == 1.0
    assert d["device"]["min_spo2"] == 95.0  # the device's own lowest reading
    assert 95.0 <= d["smoothed"]["min_spo2"] <= 97.0
    assert d["alarms"] == [] and d["desaturations"] == []
