"""Property: native → CSV → native and native → EDF+ → native keep every sample and every gap
(CSV also every flag), for any recording on a regular grid."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.formats import csv_out, edf, load, native
from drivers.formats.native import SessionWriter
from drivers.reading import Reading, Status

FLAGS = [f for f in Status if f and f.name]


@st.composite
def readings(draw: st.DrawFn) -> list[Reading]:
    n = draw(st.integers(1, 40))
    interval = draw(st.sampled_from([1.0, 2.0, 4.0, 0.5]))
    out = []
    for i in range(n):
        gap = draw(st.booleans())
        spo2 = None if gap else draw(st.integers(500, 1000)) / 10
        pulse = None if gap and draw(st.booleans()) else draw(st.integers(200, 2500)) / 10
        pi = None if gap or draw(st.booleans()) else draw(st.integers(1, 2000)) / 100
        flags = Status.NONE
        for f in draw(st.lists(st.sampled_from(FLAGS), max_size=2)):
            flags |= f
        if gap:
            flags |= Status.FINGER_OUT
        out.append(Reading(t=i * interval, spo2=spo2, pulse=pulse, pi=pi, status=flags))
    return out


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(readings(), st.sampled_from([None, 1_705_273_512.0, 1_705_273_512.5]))
def test_round_trips(rs: list[Reading], start: float | None) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        src = d / "s.jsonl"
        interval = rs[1].t - rs[0].t if len(rs) > 1 else 1.0
        with SessionWriter(src, source="t", start_wall=start if start else 0.0,
                           extra={"interval": interval}) as w:
            for r in rs:
                w.reading(r)
        a = load(src)
        csv_out.write(a, d / "s.csv")
        b = load(d / "s.csv")
        assert list(b.readings) == rs  # values, gaps and flags
        native.write(b, d / "b.jsonl")
        assert load(d / "b.jsonl").readings == rs
        edf.write(a, d / "s.edf")
        e = load(d / "s.edf")
        assert [(r.t, r.spo2, r.pulse, r.pi) for r in e.readings] == [
            (r.t, r.spo2, r.pulse, r.pi if r.spo2 is not None else None) for r in rs]
        assert [r.spo2 is None for r in e.readings] == [r.spo2 is None for r in rs]
        native.write(e, d / "e.jsonl")
        assert [(r.t, r.spo2, r.pulse) for r in load(d / "e.jsonl").readings] == [
            (r.t, r.spo2, r.pulse) for r in rs]
