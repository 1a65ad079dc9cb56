"""A CI-sized run of each part of benchmarks/reliability.py (the published figures come from
`python -m benchmarks.reliability --full`): a short soak on each path with equal counts, a
few faults held to their bounds, fuzzing of every codec and reader, the SIGKILL crash run with
`sessions` and `debrief` on what it left, and the privacy checks."""

from __future__ import annotations

import sys

import pytest

from benchmarks import reliability_faults_ble as faults_ble
from benchmarks import reliability_faults_inproc as faults_inproc
from benchmarks import reliability_faults_pty as faults_pty
from benchmarks import reliability_safety as safety
from benchmarks import reliability_soak as soak
from benchmarks.reliability_fuzz import bad_value, run_fuzz
from benchmarks.reliability_verdicts import out_of_range
from drivers.reading import Reading
from simulators.virtual_serial import pty_supported


def _passed(rows: list[dict]) -> None:
    bad = [r for r in rows if not r["pass"]]
    assert not bad, bad


def _soak_ok(r: dict, gaps: int) -> None:
    assert r["generated"] == r["recorded"] > 0
    assert r["gaps_generated"] == r["gaps_recorded"]
    assert r["gaps_injected"] == gaps
    assert r["ended"]


def test_soak_in_process_counts_every_frame_and_gap(tmp_path) -> None:
    r = soak.soak_inprocess(60, rate=50, gap_every=20, gap_len=4, base=tmp_path)
    _soak_ok(r, 3)
    assert r["generated"] == 60 * 50 and r["gaps_recorded"] == 3
    assert r["codec_bad"] == 0 and r["rss_end"] - r["rss_warm"] < 10


def test_soak_ble_through_bleak_counts_every_notification() -> None:
    r = soak.soak_ble(900, gap_every=300, gap_len=20)
    _soak_ok(r, 3)
    assert r["generated"] == 900 and r["links"] == {"connecting": 1, "connected": 1}


@pytest.mark.skipif(not pty_supported(), reason="needs a POSIX pty")
def test_soak_pty_counts_every_frame() -> None:
    r = soak.soak_pty(20, gap_every=10, gap_len=3)
    assert r["generator_dropped"] == 0 and r["caught_up"]
    _soak_ok(r, 1)


def test_ble_faults_within_bounds() -> None:
    rows = faults_ble.ble_drops(4) + faults_ble.ble_silence(1) + faults_ble.ble_no_start()
    rows += faults_ble.ble_corruption([1e-2, 1e-1], 20) + faults_ble.ble_garbage(2)
    _passed(rows)
    drop = rows[0]
    assert drop["detected"] == 4 and drop["max_latency_s"] <= 1.0


@pytest.mark.skipif(not pty_supported(), reason="needs a POSIX pty")
def test_serial_pty_drop_garbage_and_deaf_device() -> None:
    rows = faults_pty.pty_faults(n_drops=1, stall_s=None)
    _passed(rows)
    assert [r["fault"] for r in rows][:3] == ["link drop (cable out 1 s)",
                                              "link drop: gap recorded",
                                              "link drop: readings resume"]


def test_in_process_faults() -> None:
    rows = faults_inproc.inproc_corruption([1e-3, 1e-1], 20) + faults_inproc.inproc_timestamps(120)
    rows += faults_inproc.finger_out_storm(6, first_at=15.0)
    _passed(rows)
    storm = rows[-1]
    assert storm["detected"] >= 4  # several separate finger-out stretches, each a gap


def test_out_of_range_checker_catches_what_it_must() -> None:
    assert bad_value(Reading(t=0, spo2=101)) and bad_value(Reading(t=0, pulse=301))
    assert bad_value(Reading(t=float("nan"))) and bad_value(Reading(t=0, pi=float("inf")))
    assert not bad_value(Reading(t=0, spo2=100, pulse=300, pi=0.2))
    rec = {"r": [{"spo2": 96, "pulse": 70}, {"spo2": 127}, {"pulse": 511}]}
    assert out_of_range(rec) == 2


def test_fuzz_every_codec_and_reader_a_little() -> None:
    rows = run_fuzz(300, 40)
    from drivers.formats import format_modules
    from drivers.protocols import registry

    assert {r["target"] for r in rows} == set(registry()) | set(format_modules())
    assert all(r["inputs"] == (300 if r["kind"] == "codec" else 40) for r in rows)
    bad = [(r["target"], r["first_problem"]) for r in rows
           if r["exceptions"] or r["out_of_range"]]
    assert not bad, bad
    assert all(r["valid_seeds"] > 0 for r in rows)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_killed_recording_is_listed_interrupted_and_debriefs() -> None:
    """The loss bound itself is tested in tests/oxi_assist/session/test_session.py; this adds
    the live composition (sim source + session_maker), `oxi-assist sessions` and
    `debrief --text`."""
    r = safety.crash_test(run_for=1.2)
    assert r["readable"] and r["interrupted"]
    assert r["lost_s"] <= 1.0
    assert r["sessions_lists_interrupted"] and r["debrief_ok"]
    assert r["pass"]


def test_privacy() -> None:
    assert safety.scan_sources() == []
    socks = safety.inet_sockets()
    if socks["checked"]:
        assert socks["inet"] == []
    nr = safety.no_record_check()
    assert nr["pass"] and nr["files_written"] == []
    modes = safety.file_modes()
    if modes["checked"]:
        assert modes["file_mode"] == "0o600" and modes["dir_mode"] == "0o700"


def test_network_scan_would_see_a_listener(tmp_path, monkeypatch) -> None:
    pkg = tmp_path / "drivers"
    pkg.mkdir()
    (pkg / "leak.py").write_text("import socket\ns = socket.socket()\ns.listen(1)\n")
    for name in ("simulators", "oxi_assist"):
        (tmp_path / name).mkdir()
    monkeypatch.setattr(safety, "ROOT", tmp_path)
    hits = safety.scan_sources()
    assert len(hits) == 3 and hits[0].startswith("drivers/leak.py:1")  # the import too


def test_network_scan_sees_a_network_library_outside_the_classroom(tmp_path,
                                                                  monkeypatch) -> None:
    for name in ("drivers", "simulators", "oxi_assist/classroom"):
        (tmp_path / name).mkdir(parents=True)
    (tmp_path / "oxi_assist" / "tele.py").write_text("import aiomqtt\n")
    (tmp_path / "oxi_assist" / "classroom" / "link.py").write_text("import aiomqtt\n")
    monkeypatch.setattr(safety, "ROOT", tmp_path)
    assert safety.scan_sources() == ["oxi_assist/tele.py:1: import aiomqtt"]


def test_the_classroom_figures_survive_a_rewrite(tmp_path) -> None:
    """The reliability run rewrites its page; the classroom section, measured by its own
    benchmark, is carried over."""
    from benchmarks.bench_classroom import BEGIN, END, _put
    from benchmarks.reliability import _classroom_block

    page = tmp_path / "RELIABILITY.md"
    page.write_text("# old\n\n## Classroom (MQTT)\n\n" + BEGIN + "\n" + END + "\n")
    _put(page, BEGIN + "\n| a | 1 |\n" + END)
    block = _classroom_block(page)
    assert "| a | 1 |" in block and block.count(BEGIN) == 1
    assert _classroom_block(tmp_path / "missing.md") == ""
