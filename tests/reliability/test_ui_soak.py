"""A CI-sized run of the headless UI soak (benchmarks/reliability_ui.py): the real app on a
simulated patient with finger-out stretches, every reading counted into the recording, the
screen redrawn all along, a value on screen while valid and none in a gap or after the end."""

from __future__ import annotations

from benchmarks.reliability_ui import soak_ui


def test_ui_soak_counts_every_reading_and_keeps_drawing() -> None:
    # 2 simulated minutes, the screen polled every 2 simulated seconds (a few seconds of wall
    # time); the published run polls every 0.5 s for 2 h; the app polls at 10 Hz live
    r = soak_ui(120, gap_every=40, gap_len=5, redraw_every=2.0)
    assert r["generated"] == r["recorded"] == 120
    assert r["gaps_injected"] == 3
    assert r["gaps_generated"] == r["gaps_recorded"] == 3
    assert r["ended"]
    # the app redrew on nearly every poll (the patient changes every second) and the
    # compositor produced screen updates from those redraws
    assert r["polls_driven"] >= 60
    assert r["redraws"] >= r["polls_driven"] * 0.9
    assert r["screen_updates"] >= r["polls_driven"] * 0.9
    shown = r["spo2_shown"]
    assert shown and all(s.isdigit() and 90 <= int(s) <= 100 for s in shown), shown
    assert len(r["spo2_in_gaps"]) == 3 and not any(
        any(c.isdigit() for c in s) for s in r["spo2_in_gaps"]), r["spo2_in_gaps"]
    assert not any(c.isdigit() for c in r["spo2_after_end"])
    assert r["rss_end"] - r["rss_warm"] < 10
