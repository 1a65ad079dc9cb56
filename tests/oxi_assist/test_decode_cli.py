"""`oxi-assist decode` on the real CMS50E capture, stdin, binary input and bad input."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from drivers.protocols._contec import v7_pack
from oxi_assist.cli import main


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = main(argv)
    out, err = capsys.readouterr()
    return rc, out, err


def test_capture_as_one_long_hex_line(vectors: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run(["decode", "--protocol", "cms50-v7", "--hex",
                        str(vectors / "cms50e-v7-live.hex")], capsys)
    assert rc == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0])[:5] == ["t", "spo2", "pulse", "pi", "flags"]
    assert len(rows) == 102
    assert {(r["spo2"], r["pulse"], r["pi"]) for r in rows} == {("99", "60", "")}
    assert [i for i, r in enumerate(rows) if "beat" in r["flags"]] == [34, 35, 94, 95]
    assert rows[1]["t"] == "0.0167" and rows[60]["t"] == "1.0000"
    assert "frames good 102 / bad 0" in err
    assert "4 bytes of an incomplete frame" in err
    assert len(err.strip().splitlines()) == 1


def test_hex_chunks_per_line_from_stdin(vectors: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    data = bytes.fromhex((vectors / "cms50e-v7-live.hex").read_text())
    lines = "\n".join(data[i:i + 7].hex(" ") for i in range(0, len(data), 7)) + "\n"
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(lines.encode())))
    rc, out, err = run(["decode", "--protocol", "cms50-v7", "--hex", "-"], capsys)
    assert rc == 0
    assert len(out.strip().splitlines()) == 103
    assert err.startswith("<stdin>: 102 readings")


def test_binary_with_garbage_and_invalid_values(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    good = v7_pack(1, [4, 30, 0x02, 130, 95, 0x2C, 0x01])  # PR 130, SpO2 95, PI 3.00
    finger_out = v7_pack(1, [0x84, 0x40, 0x10, 0xFF, 0x7F, 0xFF, 0xFF])
    f = tmp_path / "cap.bin"
    f.write_bytes(b"\xff\x13\x99" + good + finger_out + good[:5])
    rc, out, err = run(["decode", "--protocol", "cms50-v7", str(f)], capsys)
    assert rc == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert (rows[0]["spo2"], rows[0]["pulse"], rows[0]["pi"]) == ("95", "130", "3")
    assert (rows[1]["spo2"], rows[1]["pulse"], rows[1]["pi"]) == ("", "", "")
    assert "finger_out" in rows[1]["flags"]
    assert "skipped bytes 3" in err and "5 bytes of an incomplete frame" in err


@pytest.mark.parametrize("argv, needle", [
    (["--protocol", "nope", "x"], "unknown protocol 'nope'"),
    (["--protocol", "cms50-v7", "/nonexistent/cap.bin"], "/nonexistent/cap.bin"),
])
def test_bad_arguments_exit_2_with_one_line(argv: list[str], needle: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    rc, _out, err = run(["decode", *argv], capsys)
    assert rc == 2
    assert len(err.strip().splitlines()) == 1 and needle in err


def test_bad_hex_names_the_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "log.hex"
    f.write_text("01e0849392bce3ffff\n\n01 e0 84 zz\n")
    rc, _out, err = run(["decode", "--protocol", "cms50-v7", "--hex", str(f)], capsys)
    assert rc == 2
    assert err.strip() == f"oxi-assist: error: {f}:3: bad hex"
    f.write_text("01e\n")
    rc, _out, err = run(["decode", "--protocol", "cms50-v7", "--hex", str(f)], capsys)
    assert rc == 2 and "log.hex:1: bad hex (odd number of digits)" in err


def test_other_codecs_through_the_same_command(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "hid.hex"
    f.write_text("EB 01 06 02 5F 7F 00 52\nEB 00 00 33 06 24\n")
    rc, out, _err = run(["decode", "--protocol", "contec-hid", "--hex", str(f)], capsys)
    assert rc == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert (rows[0]["pulse"], rows[0]["wave"]) == ("130", "0")
    assert rows[1]["wave"] == "1" and rows[1]["pleth"] == "40.157"


def test_a_reader_that_stops_early_is_not_blamed_on_the_input(tmp_path: Path) -> None:
    """`decode … | head`: the pipe closes under us; that is not the capture's fault, so no
    error line names the file and the exit code is 0."""
    import subprocess
    import sys

    from drivers.protocols.cms50_v7 import CMS50V7Codec
    from drivers.reading import Reading

    cap = tmp_path / "long.bin"
    frame = CMS50V7Codec.encode(Reading(t=0.0, spo2=97.0, pulse=70.0), pleth=50.0)
    cap.write_bytes(frame * 200_000)
    root = Path(__file__).resolve().parents[2]
    p = subprocess.run(
        ["bash", "-c", f"{sys.executable} -m oxi_assist decode --protocol cms50-v7 {cap} "
                       "| head -n 2 >/dev/null; echo ${PIPESTATUS[0]}"],
        capture_output=True, text=True, timeout=120, cwd=root,
        env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})
    assert p.stdout.strip() == "0", p.stderr
    assert "long.bin" not in p.stderr and "Traceback" not in p.stderr, p.stderr
