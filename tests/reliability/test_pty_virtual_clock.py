"""The serial path (virtual CMS50 V7.0 on a real pty → pyserial → open_serial → Session) on a
virtual clock in lockstep: a short soak at 100 frames/s with two finger-out gaps, and cable
pulls, each judged from the recording file. CI-sized; the published run uses 12 h and 100."""

from __future__ import annotations

import pytest

from benchmarks.reliability_faults_pty import _reopen_wait, pty_faults
from benchmarks.reliability_soak import soak_pty
from simulators.virtual_serial import pty_supported

pytestmark = pytest.mark.skipif(not pty_supported(), reason="needs a POSIX pty")


def test_pty_soak_on_the_virtual_clock_records_every_frame_and_gap() -> None:
    r = soak_pty(120.0, rate=100, gap_every=60.0, gap_len=5.0)
    assert r["clock"].startswith("virtual")
    assert r["simulated_s"] == pytest.approx(120.0, abs=0.01)
    assert r["generated"] == r["patient_frames"] == 12_000
    assert r["recorded"] == r["generated"]
    assert r["generator_dropped"] == 0
    assert r["gaps_injected"] == 2
    assert r["gaps_generated"] == r["gaps_recorded"] == 2
    assert r["ended"]
    assert r["links"].get("lost", 0) == 0


def test_reopen_wait_follows_the_backoff() -> None:
    # attempts at 0, 0.25, 0.75, 1.75, 3.75 s after the pull
    assert _reopen_wait(1.0) == pytest.approx(0.75)
    assert _reopen_wait(0.5) == pytest.approx(0.25)
    assert _reopen_wait(3.0) == pytest.approx(0.75)


def test_pty_cable_pulls_on_the_virtual_clock() -> None:
    rows = pty_faults(5, stall_s=None, every=10.0)
    by = {r["fault"]: r for r in rows}
    drop = by["link drop (cable out 1 s)"]
    assert drop["injected"] == drop["detected"] == 5
    assert drop["max_latency_s"] is not None and drop["max_latency_s"] <= 1.0
    assert by["link drop: gap recorded"]["detected"] == 5
    resume = by["link drop: readings resume"]
    assert resume["detected"] == 5 and resume["max_latency_s"] <= 1 / 60 + 1e-6
    back = by["link drop: reopened after the cable is back"]
    assert back["detected"] == 5 and back["max_latency_s"] <= 0.75 + 1 / 60 + 1e-6
    failed = [r["fault"] for r in rows if not r["pass"]]
    assert failed == []
