"""EDF / EDF+ through edfio: ResMed SA2-style files with −1 fill, label aliases, our writer."""

from __future__ import annotations

import datetime as dt

import edfio
import numpy as np
import pytest

from drivers.errors import FormatError
from drivers.formats import detect, edf, load
from drivers.formats.native import SessionWriter
from drivers.reading import INVALIDATING, Reading, Status


def _sa2(path, spo2_digital, pulse_digital, labels=("SpO2.1s", "Pulse.1s"), fs=1):
    sigs = [
        edfio.EdfSignal.from_digital(np.asarray(spo2_digital, dtype=np.int16), fs,
                                     label=labels[0], physical_dimension="%",
                                     physical_range=(-1, 100), digital_range=(-1, 100)),
        edfio.EdfSignal.from_digital(np.asarray(pulse_digital, dtype=np.int16), fs,
                                     label=labels[1], physical_dimension="bpm",
                                     physical_range=(-1, 250), digital_range=(-1, 250)),
        edfio.EdfSignal.from_digital(np.zeros(len(spo2_digital), dtype=np.int16), fs,
                                     label="Crc16", digital_range=(-32768, 32767),
                                     physical_range=(-32768, 32767)),
    ]
    e = edfio.Edf(sigs, recording=edfio.Recording(startdate=dt.date(2024, 1, 14)),
                  starttime=dt.time(23, 5, 12))
    e.write(path)


def test_resmed_sa2_fill_is_a_gap(tmp_path):
    p = tmp_path / "20240114_230512_SA2.edf"
    _sa2(p, [96, -1, 95, 94], [70, -1, -1, 72])
    assert detect(p) == "edf"
    rec = load(p)
    assert [(r.t, r.spo2, r.pulse) for r in rec.readings] == [
        (0, 96, 70), (1, None, None), (2, 95, None), (3, 94, 72)]
    assert rec.readings[1].status == Status.NO_SENSOR and not rec.readings[1].valid
    assert dt.datetime.fromtimestamp(rec.start_wall) == dt.datetime(2024, 1, 14, 23, 5, 12)
    assert rec.header["spo2_signal"] == "SpO2.1s"


def test_all_fill_channel_and_psg_labels(tmp_path):
    p = tmp_path / "none.edf"
    _sa2(p, [-1] * 5, [-1] * 5)
    rec = load(p)
    assert all(r.spo2 is None for r in rec.readings)
    assert "no oximeter attached" in rec.header["note"]


def test_resmed_without_oximeter_says_so_end_to_end(tmp_path):
    """All −1: no oximeter attached. The alarms say that, not "finger out", and so does the
    debrief."""
    from oxi_assist.analysis import analyze
    from oxi_assist.debrief import debrief_text

    p = tmp_path / "20240114_230512_SA2.edf"
    _sa2(p, [-1] * 30, [-1] * 30)
    rec = load(p)
    assert {r.status for r in rec.readings} == {Status.NO_SENSOR}
    kinds = {a.kind for a in analyze(rec).alarms}
    assert "no_sensor" in kinds and "finger_out" not in kinds
    text = debrief_text(rec)
    assert "no oximeter attached" in text and "finger out" not in text
    p2 = tmp_path / "psg.edf"
    _sa2(p2, [97, 98, 97, 96, 95, 94], [60, 61, 62, 63, 64, 65], labels=("A-SpO2", "A-Pulse"),
         fs=3)
    rec = load(p2)
    assert rec.interval == pytest.approx(1 / 3) and len(rec.readings) == 6
    assert [r.pulse for r in rec.readings] == [60, 61, 62, 63, 64, 65]


def test_no_spo2_channel_and_garbage(tmp_path):
    p = tmp_path / "eeg.edf"
    sig = edfio.EdfSignal(np.zeros(10), 1, label="EEG Fpz-Cz")
    edfio.Edf([sig]).write(p)
    with pytest.raises(FormatError, match=r"no SpO2 channel \(signals: EEG Fpz-Cz\)"):
        load(p)
    g = tmp_path / "g.edf"
    g.write_bytes(b"0       " + b"\xff" * 600)
    with pytest.raises(FormatError, match=r"g\.edf: byte 252: EDF header: number of signals "
                                          r"'\\xff\\xff\\xff\\xff' is not a whole number"):
        load(g)
    data = p.read_bytes()
    t = tmp_path / "t.edf"
    t.write_bytes(data[:300])
    with pytest.raises(FormatError, match=r"t\.edf"):
        load(t, "edf")


def _native(path, readings, start=1_705_273_512.0):
    with SessionWriter(path, source="test", device="Test Ox", start_wall=start,
                       extra={"interval": 1.0}) as w:
        for r in readings:
            w.reading(r)


READINGS = [
    Reading(0.0, 96.0, 71.0, pi=1.2),
    Reading(1.0, 95.5, 72.0, pi=1.1),
    Reading(2.0, None, None, status=Status.FINGER_OUT),
    Reading(3.0, None, 70.0, status=Status.POOR_SIGNAL),
    Reading(4.0, 88.0, 64.0, pi=0.4, status=Status.LOW_PERFUSION),
    Reading(5.0, None, None, status=Status.FINGER_OUT),
    Reading(6.0, 97.0, 80.5, pi=2.0),
]


def test_native_edf_native_round_trip_keeps_samples_and_gaps(tmp_path):
    src = tmp_path / "s.jsonl"
    _native(src, READINGS)
    a = load(src)
    e = tmp_path / "s.edf"
    edf.write(a, e)
    b = load(e)
    assert [(r.t, r.spo2, r.pulse, r.pi) for r in b.readings] == \
        [(r.t, r.spo2, r.pulse, r.pi) for r in READINGS]
    assert [r.valid for r in b.readings] == [r.valid for r in READINGS]
    assert b.start_wall == a.start_wall and b.device == "Test Ox"
    # EDF+ annotations mark the gaps for EDF viewers
    anns = edfio.read_edf(e).annotations
    assert [(x.onset, x.duration, x.text) for x in anns] == [
        (2.0, 1.0, "SpO2 gap: finger out"), (3.0, 1.0, "SpO2 gap"),
        (5.0, 1.0, "SpO2 gap: finger out")]
    # and the reasons come back: our own −1 fill is not taken for "no oximeter"
    assert [r.status & INVALIDATING for r in b.readings] == \
        [r.status & INVALIDATING for r in READINGS]
    back = tmp_path / "back.jsonl"
    from drivers.formats import native
    native.write(b, back)
    c = load(back)
    assert [(r.t, r.spo2, r.pulse, r.pi) for r in c.readings] == \
        [(r.t, r.spo2, r.pulse, r.pi) for r in READINGS]


def test_writer_puts_off_grid_and_missing_samples_on_the_grid(tmp_path):
    src = tmp_path / "j.jsonl"
    _native(src, [Reading(0.02, 96, 70), Reading(1.01, 95, 70), Reading(3.98, 94, 70)])
    e = tmp_path / "j.edf"
    edf.write(load(src), e)
    assert [(r.t, r.spo2) for r in load(e).readings] == [
        (0, 96), (1, 95), (2, None), (3, None), (4, 94)]


@pytest.mark.parametrize(("interval", "record_s", "per_record"), [
    (1 / 60, 1, 60), (1.0, 1, 1), (4.0, 4, 1), (0.3, 3, 10), (1 / 3, 1, 3), (60.0, 60, 1)])
def test_export_keeps_every_sample_at_any_rate(tmp_path, interval, record_s, per_record):
    """A record holds a whole number of samples of every signal (a 60 Hz stream no longer
    gets 0.017 s records that lose samples); the padding of the last record is dropped on
    reading, checked with edfio itself."""
    n = 1000
    rng = np.random.default_rng(3)
    spo2 = np.rint(rng.uniform(85, 100, n))
    pulse = np.rint(rng.uniform(50, 120, n))
    status = np.zeros(n, dtype=np.int32)
    spo2[500:520] = pulse[500:520] = np.nan
    status[500:520] = int(Status.SEARCHING)
    from drivers.formats._base import Recording
    rec = Recording.from_arrays("x", "t", np.arange(n) * interval, spo2, pulse, status,
                                interval=interval, start_wall=1_705_273_512.0)
    path = tmp_path / "x.edf"
    edf.write(rec, path)
    raw = edfio.read_edf(path)
    assert raw.data_record_duration == record_s
    sig = raw.signals[0]
    assert sig.sampling_frequency * record_s == per_record
    assert len(sig.data) == raw.num_data_records * per_record >= n
    np.testing.assert_array_equal(sig.data[:n][~np.isnan(spo2)], spo2[~np.isnan(spo2)])
    back = load(path)
    c = back.columns()
    assert len(c) == n
    np.testing.assert_allclose(c.t, np.arange(n) * interval, atol=1e-6)
    np.testing.assert_array_equal(c.spo2, spo2)
    np.testing.assert_array_equal(c.pulse, pulse)
    if interval != 60.0:
        np.testing.assert_array_equal(c.status, status)  # the reasons come back too
    else:  # edfio refuses the annotations of this sub-Hz file (float seconds): gaps stay gaps
        np.testing.assert_array_equal(c.status != 0, status != 0)


def test_a_long_recording_gets_longer_records_and_keeps_every_sample(tmp_path):
    """Past 100 000 records the records grow by a whole factor (edfio keeps one Python
    object per record), still holding a whole number of samples; nothing is lost."""
    from drivers.formats._base import Recording

    n = 100_001
    spo2 = np.full(n, 97.0)
    spo2[::1000] = np.nan
    rec = Recording.from_arrays("x", "t", np.arange(n, dtype=float), spo2, np.full(n, 70.0),
                                interval=1.0, start_wall=1_705_273_512.0)
    path = tmp_path / "long.edf"
    edf.write(rec, path)
    raw = edfio.read_edf(path)
    assert raw.data_record_duration == 2 and raw.num_data_records == 50_001
    c = load(path).columns()
    assert len(c) == n
    np.testing.assert_array_equal(c.spo2, spo2)
