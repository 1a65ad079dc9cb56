"""EDF / EDF+ recordings with SpO2 and pulse channels (read and write, through edfio).

Reading: channels are found by label (ResMed `SpO2.1s` / `Pulse.1s`, PSG `A-SpO2`, `spo2`,
`SaO2`, `Pulse`, `Puls`, `Pouls`, …). A digital −1 is ResMed's "no oximeter" fill and, like any
value outside the physiological range, becomes a gap. A pulse channel at another rate is
aligned to the SpO2 samples (nearest sample).

Writing: EDF+C with `SpO2` (%), `Pulse` (bpm) and, when present, `PI` (%) at the recording's
interval, 0.1 resolution (PI 0.01), digital −1 as the gap fill (the ResMed convention, so
other tools treat it as missing), plus an annotation for every gap so EDFbrowser shows where
the oximeter had no reading. Samples are placed on the interval grid from the start.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from drivers.errors import FormatError
from drivers.formats._base import FormatInfo, Recording
from drivers.formats._text import (
    clean_vitals,
    day_seconds,
    naive_to_epoch,
    timeline,
    typical_step,
)
from drivers.safe_files import open_input, open_private

NAME = "edf"
SPO2_LABELS = ("spo2.1s", "spo2", "a-spo2", "sao2", "spo2%", "osat", "sat", "saturation",
               "oxygen saturation", "spo2 %", "spo2(%)", "pulse oximetry")
PULSE_LABELS = ("pulse.1s", "pulse", "puls", "pouls", "pols", "nabiz", "a-pulse", "pr",
                "pulse rate", "pulserate", "hr", "heart rate")
PI_LABELS = ("pi", "perfusion index", "perfusion")
FILL = -1
_EDF_FIRST = _dt.datetime(1985, 1, 2).timestamp()
_EDF_LAST = _dt.datetime(2084, 12, 30).timestamp()


def sniff(head: bytes, name: str) -> int:
    if len(head) >= 256 and head[:8] == b"0       " and head[184:192].strip().isdigit():
        return 95
    return 0


def _find(signals: list[Any], labels: tuple[str, ...]) -> Any | None:
    norm = {re.sub(r"\s+", " ", s.label.strip().lower()): s for s in signals}
    for lab in labels:
        if lab in norm:
            return norm[lab]
    return None


def _physical(sig: Any, path: Path) -> np.ndarray:
    try:
        dig = np.asarray(sig.digital)
        data = np.asarray(sig.data, dtype=np.float64)
    except Exception as e:
        raise FormatError(path, f"unreadable samples in signal {sig.label!r}: {e}") from None
    if sig.digital_min <= FILL:
        data = np.where(dig == FILL, np.nan, data)
    # drop the float noise of the scaling (1.2000000000000002): round to the resolution
    span = sig.digital_max - sig.digital_min
    gain = abs(sig.physical_max - sig.physical_min) / span if span else 1.0
    if gain > 0:
        data = np.round(data, int(min(6, max(0, math.ceil(-math.log10(gain)) + 1))))
    return data


def read(path: Path) -> Recording:
    """Any damage edfio trips over (its header fields are parsed lazily, so anywhere) becomes
    a one-line FormatError; its warnings about a truncated file go into the header."""
    path = Path(path)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            rec = _read(path)
        except FormatError:
            raise
        except Exception as e:
            raise FormatError(path, f"not a readable EDF file: {_msg(e)}") from None
    notes = [str(w.message) for w in caught]
    if notes:
        rec.header["warnings"] = notes
        rec.interrupted = any("truncated" in n.lower() or "incomplete" in n.lower()
                              for n in notes)
    return rec


#: Bounds of the header fields we check ourselves before edfio reads the file.
MAX_SIGNALS = 4096  # a header of 1 MB; oximetry files have a handful
MAX_RECORD_S = 86400.0  # a data record of a day at most (they are 1–30 s in practice)
MAX_SAMPLES_PER_RECORD = 1_000_000
MAX_PHYSICAL = 99_999_999.0  # the largest plain number an 8-character field holds
#: The per-signal fields in header order: (name, width in bytes)
_SIGNAL_FIELDS = (("label", 16), ("transducer", 80), ("dimension", 8), ("physical minimum", 8),
                  ("physical maximum", 8), ("digital minimum", 8), ("digital maximum", 8),
                  ("prefiltering", 80), ("samples per data record", 8), ("reserved", 32))


def check_header(path: Path) -> None:
    """Every numeric field of the EDF header checked in our words before the library sees
    the file (it parses them lazily and fails with Python's own text, or not at all): counts
    are whole numbers in range, the record duration a plausible length, physical limits finite
    and distinct, digital limits 16-bit and ordered. FormatError names the field and its byte."""
    with open_input(path, what="recording") as f:
        head = f.read(256)
        if len(head) < 256:
            raise FormatError(path, "not a readable EDF file: the 256-byte header is cut short")
        if head[:8] != b"0       ":
            raise FormatError(path, "not a readable EDF file: no EDF header (an EDF file starts "
                                    "with '0' and seven spaces)")

        def field(offset: int, width: int, data: bytes = head, base: int = 0) -> str:
            raw = data[offset - base:offset - base + width]
            return raw.decode("ascii", "backslashreplace").strip()

        def bad(offset: int, what: str) -> FormatError:
            return FormatError(path, f"EDF header: {what}", offset=offset)

        ns_text = field(252, 4)
        ns = _whole(ns_text)
        if ns is None or not 1 <= ns <= MAX_SIGNALS:
            raise bad(252, f"number of signals '{ns_text}' is not a whole number from 1 to "
                           f"{MAX_SIGNALS}")
        size_text = field(184, 8)
        if _whole(size_text) != 256 * (ns + 1):
            raise bad(184, f"header size '{size_text}' does not match {ns} signal(s) (expected "
                           f"{256 * (ns + 1)})")
        nrec_text = field(236, 8)
        nrec = _whole(nrec_text)
        if nrec is None or nrec < -1:
            raise bad(236, f"number of data records '{nrec_text}' is not a whole number "
                           "(-1 while recording)")
        dur_text = field(244, 8)
        dur = _number(dur_text)
        if dur is None or not 0 < dur <= MAX_RECORD_S:
            raise bad(244, f"data record duration '{dur_text}' is not a length in seconds "
                           f"(above 0, at most {MAX_RECORD_S:g})")
        sig = f.read(256 * ns)
        if len(sig) < 256 * ns:
            raise FormatError(path, "not a readable EDF file: the signal headers are cut short")
    starts: dict[str, int] = {}
    pos = 256
    for name, width in _SIGNAL_FIELDS:
        starts[name] = pos
        pos += width * ns
    for i in range(ns):
        def at(name: str, i: int = i) -> tuple[int, str]:
            width = dict(_SIGNAL_FIELDS)[name]
            off = starts[name] + i * width
            return off, field(off, width, sig, 256)

        label = at("label")[1]
        who = f"signal {i + 1}"
        values: dict[str, float] = {}
        for name in ("physical minimum", "physical maximum"):
            off, text = at(name)
            v = _number(text)
            if v is None or abs(v) > MAX_PHYSICAL:
                raise bad(off, f"{who}: {name} '{text}' is not a usable number")
            values[name] = v
        if values["physical minimum"] == values["physical maximum"]:
            raise bad(at("physical minimum")[0], f"{who} ({label}): physical minimum and "
                                                 f"maximum are both {values['physical minimum']:g}")
        for name in ("digital minimum", "digital maximum"):
            off, text = at(name)
            v = _whole(text)
            if v is None or not -32768 <= v <= 32767:
                raise bad(off, f"{who}: {name} '{text}' is not a whole number from -32768 to "
                               "32767")
            values[name] = v
        if values["digital minimum"] >= values["digital maximum"]:
            raise bad(at("digital minimum")[0],
                      f"{who} ({label}): digital minimum {values['digital minimum']:g} is not "
                      f"below the maximum {values['digital maximum']:g}")
        off, text = at("samples per data record")
        n = _whole(text)
        if n is None or not 1 <= n <= MAX_SAMPLES_PER_RECORD:
            raise bad(off, f"{who}: samples per data record '{text}' is not a whole number "
                           f"from 1 to {MAX_SAMPLES_PER_RECORD}")


def _whole(text: str) -> int | None:
    t = text.strip()
    if not t or not t.lstrip("+-").isdigit() or not t.isascii():
        return None
    return int(t)


def _number(text: str) -> float | None:
    try:
        v = float(text)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def _read(path: Path) -> Recording:
    import edfio

    check_header(path)
    try:
        edf = edfio.read_edf(path, lazy_load_data=True)
        signals = list(edf.signals)
    except FileNotFoundError:
        raise FormatError(path, "no such file") from None
    except IsADirectoryError:
        raise FormatError(path, "is a directory, not a recording") from None
    except Exception as e:  # edfio reports a bad header with many kinds of error
        raise FormatError(path, f"not a readable EDF file: {_msg(e)}") from None
    s_sig = _find(signals, SPO2_LABELS)
    if s_sig is None:
        labels = ", ".join(s.label.strip() for s in signals) or "none"
        raise FormatError(path, f"no SpO2 channel (signals: {labels})")
    p_sig = _find(signals, PULSE_LABELS)
    pi_sig = _find(signals, PI_LABELS)
    fs = float(s_sig.sampling_frequency)
    if not fs > 0:
        raise FormatError(path, f"SpO2 channel has sampling frequency {fs}")
    spo2 = _physical(s_sig, path)
    n = len(spo2)
    if n == 0:
        raise FormatError(path, "no samples in the file")
    t = np.arange(n, dtype=np.float64) / fs

    def aligned(sig: Any) -> np.ndarray:
        v = _physical(sig, path)
        if float(sig.sampling_frequency) == fs and len(v) == n:
            return v
        idx = np.rint(t * float(sig.sampling_frequency)).astype(np.int64)
        ok = idx < len(v)
        out = np.full(n, np.nan)
        out[ok] = v[idx[ok]]
        return out

    pulse = aligned(p_sig) if p_sig is not None else np.full(n, np.nan)
    s, p, st = clean_vitals(np.nan_to_num(spo2, nan=0.0), np.nan_to_num(pulse, nan=0.0))
    pi = None
    if pi_sig is not None:
        raw = aligned(pi_sig)
        pi = np.where((raw > 0) & (raw <= 30), raw, np.nan)
    hdr: dict[str, Any] = {"spo2_signal": s_sig.label.strip(),
                           "pulse_signal": None if p_sig is None else p_sig.label.strip(),
                           "signals": [x.label.strip() for x in signals]}
    if np.all(np.isnan(s)):
        hdr["note"] = "the SpO2 channel holds no valid sample (no oximeter attached?)"
    start: float | None = None
    try:
        d, tm = edf.startdate, edf.starttime
        start = naive_to_epoch(day_seconds(d.year, d.month, d.day)
                               + tm.hour * 3600 + tm.minute * 60 + tm.second)
        hdr["time_zone"] = "local wall clock (EDF stores no zone)"
    except Exception:
        hdr["note_start"] = "start date not available (anonymised file)"
    device = ""
    try:
        rec = edf.recording
        device = "" if rec.equipment_code in ("X", "") else rec.equipment_code.replace("_", " ")
    except Exception:
        device = ""
    return Recording.from_arrays(path, NAME, t, s, p, st, pi, start_wall=start,
                                 interval=round(1.0 / fs, 6), device=device,
                                 source=path.name, header=hdr)


def _msg(e: Exception) -> str:
    """A library error in our words: the fields we can name are checked before the library
    reads the file, so what is left is damage we describe by its kind, not Python's text."""
    if isinstance(e, ZeroDivisionError | OverflowError):
        return "a header field has an impossible value"
    if isinstance(e, ValueError | TypeError | KeyError | IndexError):
        return "a header field is not what EDF allows"
    if isinstance(e, EOFError | OSError):
        return "the file is cut short or cannot be read"
    return "the header or the data is damaged"


def _grid(rec: Recording) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, float]:
    """SpO2, pulse, PI on the interval grid from the first sample (NaN where nothing)."""
    c = rec.columns()
    if not len(c):
        raise FormatError(rec.path, "nothing to write: the recording has no vitals samples")
    interval = rec.interval or typical_step(np.diff(c.t))
    t, s, p, _st, pi, interval, _t0 = timeline(c.t, c.spo2, c.pulse, c.status, c.pi,
                                               interval, max_fill=50_000_000)
    idx = np.rint(t / interval).astype(np.int64)
    n = int(idx[-1]) + 1
    out = []
    for v in (s, p, pi):
        if v is None:
            out.append(None)
            continue
        g = np.full(n, np.nan)
        g[idx] = v
        out.append(g)
    return out[0], out[1], out[2], interval


def _signal(edfio: Any, v: np.ndarray, fs: float, label: str, dim: str, top: float,
            per_record: int, scale: int = 10) -> Any:
    """`scale` digital steps per unit: 0.1 % / bpm like the session file; 0.01 % for PI."""
    pad = (-len(v)) % per_record
    if pad:
        v = np.concatenate((v, np.full(pad, np.nan)))
    dig = np.where(np.isnan(v), FILL, np.clip(np.rint(v * scale), 0, top * scale))
    return edfio.EdfSignal.from_digital(dig.astype(np.int16), fs, label=label,
                                        physical_dimension=dim,
                                        physical_range=(FILL / scale, top),
                                        digital_range=(FILL, int(top * scale)))


def write(recording: Recording, path: Path) -> None:
    import edfio

    path = Path(path)
    s, p, pi, interval = _grid(recording)
    # one sample per data record, the record as long as the interval: no padding at the end,
    # so the file holds exactly the samples of the recording
    fs, duration, per_record = 1.0 / interval, interval, 1
    sigs = [_signal(edfio, s, fs, "SpO2", "%", 100.0, per_record),
            _signal(edfio, p, fs, "Pulse", "bpm", 300.0, per_record)]
    if pi is not None:
        sigs.append(_signal(edfio, pi, fs, "PI", "%", 30.0, per_record, scale=100))
    anns = [edfio.EdfAnnotation(round(a * interval, 3), round(n * interval, 3), "SpO2 gap")
            for a, n in _runs(np.isnan(s))]
    start = recording.start_wall
    kw: dict[str, Any] = {}
    equip = re.sub(r"[^A-Za-z0-9.+-]+", "_", recording.device).strip("_")[:30] or "X"
    if start is not None and not (
            _EDF_FIRST <= start < _EDF_LAST and math.isfinite(start)):
        start = None  # EDF dates run 1985–2084: anything else is written as unknown ("X")
    if start is not None:
        dt = _dt.datetime.fromtimestamp(int(start))
        kw["starttime"] = dt.time()
        kw["recording"] = edfio.Recording(startdate=dt.date(), equipment_code=equip,
                                          additional=["oxi-assist"])
    else:
        kw["recording"] = edfio.Recording(equipment_code=equip, additional=["oxi-assist"])
    try:
        edf = edfio.Edf(sigs, data_record_duration=duration, annotations=anns, **kw)
        with open_private(path) as f:  # 0600: personal health data
            edf.write(f)
    except OSError as e:
        raise FormatError(path, e.strerror or str(e)) from None
    except ValueError as e:
        raise FormatError(path, f"cannot write EDF: {_msg(e)}") from None


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    m = np.concatenate(([0], mask.astype(np.int8), [0]))
    d = np.diff(m)
    a, b = np.flatnonzero(d == 1), np.flatnonzero(d == -1)
    return [(int(x), int(y - x)) for x, y in zip(a, b, strict=True)]


FORMAT = FormatInfo(
    name=NAME, description="EDF / EDF+ with SpO2 and pulse channels (e.g. ResMed SA2)",
    extensions=(".edf",), sniff=sniff, read=read, write=write,
)
