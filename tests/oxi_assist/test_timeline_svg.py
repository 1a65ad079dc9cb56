"""The timeline SVG is well-formed XML with its markers, threshold labels and gaps."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import numpy as np

from drivers.formats._base import Recording
from drivers.reading import LinkEvent, LinkState, Reading, Status
from oxi_assist.debrief import summarize
from oxi_assist.timeline_svg import render_svg, write_svg

NS = {"s": "http://www.w3.org/2000/svg"}


def _rec() -> Recording:
    rs = []
    for t in range(0, 120):
        if 40 <= t < 50:
            rs.append(Reading(t=float(t), status=Status.FINGER_OUT))
        else:
            rs.append(Reading(t=float(t), spo2=96 - (t % 60) / 3, pulse=70 + t % 10))
    rec = Recording(path="/x/session.jsonl", format="native", readings=rs, start_wall=1.7e9)
    rec.events = [
        {"k": "event", "t": 0, "name": "session_start"},
        {"k": "event", "t": 20, "name": "911", "by": "responder"},
        {"k": "event", "t": 30, "name": "naloxone", "by": "responder", "dose": 1},
        {"k": "event", "t": 35, "name": "motion", "by": "trainer"},
        {"k": "event", "t": 36, "name": "note <&> \"x\"", "by": "monitor"},
    ]
    rec.alarms = [
        {"k": "alarm", "t": 25, "kind": "spo2_low", "priority": "high", "state": "raised"},
        {"k": "alarm", "t": 55, "kind": "spo2_low", "priority": "high", "state": "cleared"},
        {"k": "alarm", "t": 100, "kind": "no_data", "priority": "medium", "state": "raised"},
    ]
    rec.links = [LinkEvent(60.0, LinkState.LOST, "out of range"),
                 LinkEvent(70.0, LinkState.CONNECTED)]
    return rec


def test_svg_is_well_formed_and_has_the_markers():
    rec = _rec()
    root = ET.fromstring(render_svg(rec))
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    actions = root.findall(".//s:g[@class='action']", NS)
    assert sorted(g.get("data-name") for g in actions) == ["911", "naloxone"]
    assert [g.get("data-name") for g in root.findall(".//s:g[@class='trainer']", NS)] == [
        "motion"]
    alarms = root.findall(".//s:g[@class='alarm']", NS)
    assert sorted(g.get("data-kind") for g in alarms) == ["no_data", "spo2_low"]
    assert root.findall(".//s:rect[@class='link-lost']", NS)
    texts = " ".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert "90 % — BC (BCCDC/Toward the Heart)" in texts
    assert "85 % — other jurisdiction (Ontario paramedics, 2020)" in texts
    assert "0:30 Naloxone dose 1" in texts


def test_spo2_trace_breaks_at_the_gap():
    root = ET.fromstring(render_svg(_rec()))
    d = root.find(".//s:path[@class='spo2']", NS).get("d")
    # finger out 40–50 s: two runs, and no point drawn inside the gap
    assert d.count("M") == 2
    svg = render_svg(_rec())
    assert "NaN" not in svg and "nan" not in d


def test_long_recording_is_decimated_but_keeps_the_dip():
    n = 8 * 3600
    t = np.arange(n, dtype=float)
    spo2 = np.full(n, 96.0)
    spo2[20_000] = 71.0  # one 1-second dip in eight hours
    rs = [Reading(t=float(a), spo2=float(b), pulse=70.0) for a, b in zip(t, spo2, strict=True)]
    rec = Recording(path="night.jsonl", format="native", readings=rs, interval=1.0)
    svg = render_svg(rec)
    root = ET.fromstring(svg)
    d = root.find(".//s:path[@class='spo2']", NS).get("d")
    pts = re.findall(r"[-\d.]+,([-\d.]+)", d)
    assert len(pts) < 3 * 1000  # at most a min/max pair per pixel column
    s = summarize(rec)
    assert s.lowest_spo2 == 71
    # the dip is drawn: its y is the lowest point of the path (largest y)
    ys = [float(y) for y in pts]
    assert max(ys) > min(ys) + 50
    assert len(svg) < 200_000


def test_write_svg_file(tmp_path):
    p = write_svg(_rec(), tmp_path / "t.svg")
    ET.parse(p)


def test_empty_recording_renders():
    rec = Recording(path="empty.jsonl", format="native")
    ET.fromstring(render_svg(rec))


def test_label_of_a_late_action_stays_on_the_canvas():
    rec = _rec()
    rec.events.append({"k": "event", "t": 119, "name": "ems", "by": "responder"})
    root = ET.fromstring(render_svg(rec))
    (g,) = [g for g in root.findall(".//s:g[@class='action']", NS) if g.get("data-name") == "ems"]
    label = g.find("s:text", NS)
    assert label.get("text-anchor") == "end"
    assert float(label.get("x")) <= float(root.get("width"))


def reference_runs(t: np.ndarray, v: np.ndarray, max_gap: float, columns: int, t0: float,
                   t1: float) -> list[list[tuple[float, float]]]:
    """The chart's runs one sample at a time: split at NaN and at gaps longer than
    max_gap; with more than two samples per column, the first lowest and first highest of
    each stretch of a run in one column, in time order."""
    out: list[list[tuple[float, float]]] = []
    run: list[tuple[float, float]] = []
    span = (t1 - t0) or 1.0
    col = (np.clip(((t - t0) / span * columns).astype(int), 0, columns - 1)
           if len(t) > 2 * columns else None)
    i = 0
    while i < len(t):
        if not np.isfinite(v[i]):
            if run:
                out.append(run)
                run = []
            i += 1
            continue
        if i and t[i] - t[i - 1] > max_gap and run:
            out.append(run)
            run = []
        j = i
        while (col is not None and j + 1 < len(t) and col[j + 1] == col[i]
               and np.isfinite(v[j + 1]) and not t[j + 1] - t[j] > max_gap):
            j += 1
        lo, hi = int(np.argmin(v[i:j + 1])), int(np.argmax(v[i:j + 1]))
        run += [(float(t[i + k]), float(v[i + k])) for k in sorted({lo, hi})]
        i = j + 1
    if run:
        out.append(run)
    return out


def test_value_runs_match_a_sample_by_sample_reading(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Whole-array steps, a stretch at a time (stretches as short as 7 samples here), give
    the runs a sample-by-sample loop gives."""
    from oxi_assist import timeline_svg

    rng = np.random.default_rng(0)
    for trial in range(150):
        n = int(rng.integers(1, 3000))
        dt = rng.choice([1.0, 1.0, 0.5, 4.0, 30.0], n)
        t = np.cumsum(dt) - dt[0]
        v = np.round(rng.normal(95, 3, n))
        v[rng.random(n) < rng.uniform(0, 0.3)] = np.nan
        columns = int(rng.integers(1, 900))
        t1 = float(t[-1]) + float(rng.uniform(0, 10))
        monkeypatch.setattr(timeline_svg, "_STRETCH", int(rng.choice([1 << 20, 7, 64])))
        assert (timeline_svg.value_runs(t, v, 3.0, columns, 0.0, t1)
                == reference_runs(t, v, 3.0, columns, 0.0, t1)), trial
