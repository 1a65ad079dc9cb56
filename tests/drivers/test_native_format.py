import json
import os
import stat
import sys

import pytest

from drivers.clock import VirtualClock
from drivers.errors import FormatError
from drivers.formats import load
from drivers.formats.native import SessionWriter, read
from drivers.reading import LinkEvent, LinkState, Reading, Status


def _write_session(path, clock):
    w = SessionWriter(path, source="sim:baseline", device="Simulator", clock=clock,
                      start_wall=1_700_000_000.0)
    w.link(LinkEvent(0.0, LinkState.CONNECTED, device="Simulator"))
    w.reading(Reading(1.0, spo2=97, pulse=71, pi=2.5, pleth=(10.0, 50.5), pleth_rate=2.0))
    w.reading(Reading(2.0, spo2=None, pulse=None, status=Status.FINGER_OUT))
    w.alarm(2.0, "finger_out", "low", "raised", "Finger out")
    w.event(3.0, "naloxone", dose=1, route="im")
    return w


def test_round_trip_keeps_values_gaps_and_events(tmp_path):
    p = tmp_path / "s.jsonl"
    w = _write_session(p, VirtualClock())
    w.close(t=3.0)
    rec = read(p)
    assert not rec.interrupted
    assert rec.source == "sim:baseline" and rec.start_wall == 1_700_000_000.0
    assert rec.readings[0] == Reading(1.0, 97.0, 71.0, 2.5, (10.0, 50.5), 2.0)
    assert rec.readings[1].spo2 is None and rec.readings[1].status == Status.FINGER_OUT
    assert rec.links[0].state is LinkState.CONNECTED
    assert rec.alarms[0]["kind"] == "finger_out"
    assert rec.events[0]["name"] == "naloxone" and rec.events[0]["dose"] == 1
    assert load(p).readings == rec.readings  # detected by content


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_recordings_are_private(tmp_path):
    p = tmp_path / "s.jsonl"
    _write_session(p, VirtualClock()).close()
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600


def test_flushes_at_least_every_second_of_clock_time(tmp_path):
    p = tmp_path / "s.jsonl"
    clock = VirtualClock()
    w = SessionWriter(p, source="x", clock=clock)
    w.reading(Reading(0.0, spo2=95))
    assert p.read_text().count("\n") == 1  # only the header so far
    clock.advance(1.0)
    w.reading(Reading(1.0, spo2=96))
    assert p.read_text().count("\n") == 3  # a killed process would lose nothing
    w.close()


def test_a_crash_mid_line_is_tolerated_and_marked_interrupted(tmp_path):
    p = tmp_path / "s.jsonl"
    w = _write_session(p, VirtualClock())
    w.flush()
    with open(p, "a") as f:
        f.write('{"k":"r","t":4.0,"sp')  # killed while writing
    rec = read(p)
    assert rec.interrupted
    assert len(rec.readings) == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty file"),
        (b"hello\n", "not an oxi-assist session"),
        (b'{"format":"oxi-assist-session","version":99}\n', "unsupported"),
        (b'{"format":"oxi-assist-session","version":1}\n{"k":"r"}\n{"k":"end"}\n',
         ":2: bad record"),
        (b'{"format":"oxi-assist-session","version":1}\n{"k":"zz","t":1}\n', ":2: bad record"),
        (b'{"format":"oxi-assist-session","version":1}\n\xff\xfe\n', "not UTF-8"),
    ],
)
def test_bad_files_give_one_line_errors_with_the_line(tmp_path, content, message):
    p = tmp_path / "bad.jsonl"
    p.write_bytes(content)
    with pytest.raises(FormatError) as e:
        read(p)
    assert message in str(e.value)
    assert "\n" not in str(e.value)
    assert str(p) in str(e.value)


def test_values_are_plain_json(tmp_path):
    p = tmp_path / "s.jsonl"
    w = SessionWriter(p, source="x", clock=VirtualClock())
    w.reading(Reading(0.5, spo2=float("nan"), pulse=60.04))
    w.close()
    lines = [json.loads(x) for x in p.read_text().splitlines()]
    assert lines[1] == {"k": "r", "t": 0.5, "spo2": None, "pulse": 60}


def test_impossible_numbers_in_a_damaged_file_read_as_no_value(tmp_path):
    p = tmp_path / "s.jsonl"
    p.write_text('{"format":"oxi-assist-session","version":1}\n'
                 '{"k":"r","t":0,"spo2":97,"pulse":543}\n'
                 '{"k":"r","t":1,"spo2":140,"pulse":70}\n')
    a, b = read(p).readings
    assert (a.spo2, a.pulse) == (97.0, None) and a.status & Status.POOR_SIGNAL
    assert (b.spo2, b.pulse) == (None, 70.0) and not b.valid


def test_columns_are_written_byte_for_byte_as_readings_are_and_read_back_as_columns(tmp_path):
    """A whole recording's readings are formatted a column at a time: the lines are exactly
    those `SessionWriter.reading` writes one by one, and reading them back gives columns."""
    import json

    import numpy as np

    from drivers.formats import native
    from drivers.formats._base import ReadingArrays, Recording

    rng = np.random.default_rng(1)
    n = 5000
    t = np.cumsum(rng.choice([0.25, 1.0, 1.5, 0.00005, 1 / 3], n))
    s = np.where(rng.random(n) < .1, np.nan, np.where(
        rng.random(n) < .5, np.round(rng.uniform(50, 100, n)),
        np.round(rng.uniform(50, 100, n), 1)))
    p = np.where(rng.random(n) < .1, np.nan, rng.uniform(30, 200, n))
    st = rng.choice([0, 1, 2, int(Status.MISSING | Status.POOR_SIGNAL)], n)
    pi = np.where(rng.random(n) < .5, np.nan, rng.uniform(0, 10, n))
    cols = ReadingArrays(t, s, p, st, pi)
    one_by_one = "".join(json.dumps(native.reading_to_obj(r), separators=(",", ":")) + "\n"
                         for r in cols)
    assert native.reading_lines(cols, 0, n) == one_by_one
    rec = Recording("x", "t", readings=cols, interval=1.0,  # type: ignore[arg-type]
                    links=[LinkEvent(round(float(t[10]), 4), LinkState.LOST),
                           LinkEvent(round(float(t[20]), 4), LinkState.CONNECTED)])
    out = tmp_path / "c.jsonl"
    native.write(rec, out)
    back = load(out)
    assert isinstance(back.readings, ReadingArrays)
    assert list(back.readings) == [native.obj_to_reading(json.loads(x))
                                   for x in one_by_one.splitlines()]
    assert back.links == rec.links
    lines = out.read_text().splitlines()
    lost = next(i for i, ln in enumerate(lines) if '"lost"' in ln)
    assert json.loads(lines[lost - 1])["t"] == round(t[10], 4)  # after the readings of its time
