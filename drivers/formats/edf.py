"""EDF / EDF+ recordings with SpO2 and pulse channels (read and write, through edfio).

Reading: channels are found by label (ResMed `SpO2.1s` / `Pulse.1s`, PSG `A-SpO2`, `spo2`,
`SaO2`, `Pulse`, `Puls`, `Pouls`, …). A digital −1 is ResMed's fill for "no oximeter
attached" and becomes a gap with that reason (NO_SENSOR); any other value outside the
physiological range becomes a gap with no reason given. A pulse channel at another rate is
aligned to the SpO2 samples (nearest sample).

Writing: EDF+C with `SpO2` (%), `Pulse` (bpm) and, when present, `PI` (%) at the recording's
interval, 0.1 resolution (PI 0.01), digital −1 as the gap fill (the ResMed convention, so
other tools treat it as missing), plus an annotation for every gap naming its reason
("SpO2 gap: finger out") so EDFbrowser shows where and why the oximeter had no reading.
Samples are placed on the interval grid from the start. A data record lasts a whole number of
seconds that holds a whole number of samples (1 s for 1 Hz or 60 Hz, 4 s for one sample every
4 s), so every sample is kept at any rate; the last record is padded with the fill, and the
true sample count is written into the recording field (`samples=N`), which this reader uses
to drop the padding again, and which the annotations' reasons come back from.
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
from drivers.formats._timeline import clean_vitals, mark_startup, timeline, typical_interval
from drivers.formats._timestamps import day_seconds, naive_to_epoch
from drivers.reading import GAP_REASONS, Status
from drivers.safe_files import open_input, open_private

NAME = "edf"
SPO2_LABELS = ("spo2.1s", "spo2", "a-spo2", "sao2", "spo2%", "osat", "sat", "saturation",
               "oxygen saturation", "spo2 %", "spo2(%)", "pulse oximetry")
PULSE_LABELS = ("pulse.1s", "pulse", "puls", "pouls", "pols", "nabiz", "a-pulse", "pr",
                "pulse rate", "pulserate", "hr", "heart rate")
PI_LABELS = ("pi", "perfusion index", "perfusion")
FILL = -1
#: who wrote the file, in the EDF+ recording field (so the reasons and count can be trusted)
WRITER = "oxi-assist"
GAP_TEXT = "SpO2 gap"
#: the longest data record this writer makes, in seconds (EDF allows 8 digits)
MAX_RECORD_S = 3600
#: records a file is kept to: edfio builds one time-keeping entry per record in Python, so a
#: long recording gets longer records instead (a month at 1 Hz: 30 s records, not 1 s)
MAX_RECORDS = 100_000
#: the size EDF+ recommends a data record stays under, in bytes
MAX_RECORD_BYTES = 61_440
#: gap annotations written one by one up to this many; past it the gaps are in the fill
#: value alone (a viewer still shows them; the reasons then read back as "no value")
MAX_GAP_ANNOTATIONS = 20_000
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


def _physical(sig: Any, path: Path) -> tuple[np.ndarray, np.ndarray | None]:
    """The physical values (NaN at the fill) and where the fill was (None: nowhere)."""
    try:
        dig = np.asarray(sig.digital)
        data = np.asarray(sig.data, dtype=np.float64)
    except Exception as e:
        raise FormatError(path, f"unreadable samples in signal {sig.label!r}: {e}") from None
    fill = None
    if sig.digital_min <= FILL:
        fill = dig == FILL
        data = np.where(fill, np.nan, data)
    # drop the float noise of the scaling (1.2000000000000002): round to the resolution
    span = sig.digital_max - sig.digital_min
    gain = abs(sig.physical_max - sig.physical_min) / span if span else 1.0
    if gain > 0:
        data = np.round(data, int(min(6, max(0, math.ceil(-math.log10(gain)) + 1))))
    return data, fill


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
    spo2, s_fill = _physical(s_sig, path)
    ours, count = _written_by_us(edf)
    if ours and count is not None and count <= len(spo2):
        spo2 = spo2[:count]  # the padding of the last record is not part of the recording
        s_fill = None if s_fill is None else s_fill[:count]
    n = len(spo2)
    if n == 0:
        raise FormatError(path, "no samples in the file")
    t = np.arange(n, dtype=np.float64) / fs

    def aligned(sig: Any) -> np.ndarray:
        v, _fill = _physical(sig, path)
        if float(sig.sampling_frequency) == fs and len(v) >= n:
            return v[:n]
        idx = np.rint(t * float(sig.sampling_frequency)).astype(np.int64)
        ok = idx < len(v)
        out = np.full(n, np.nan)
        out[ok] = v[idx[ok]]
        return out

    pulse = aligned(p_sig) if p_sig is not None else np.full(n, np.nan)
    s, p, st = clean_vitals(np.nan_to_num(spo2, nan=0.0), np.nan_to_num(pulse, nan=0.0))
    if ours:
        _reasons_from_annotations(edf, st, fs)
    elif s_fill is not None:
        # ResMed's −1: no oximeter attached (a reason, where the file gives one)
        nosensor = s_fill & np.isnan(p)
        st[nosensor] = (st[nosensor] & ~int(Status.MISSING)) | int(Status.NO_SENSOR)
    mark_startup(st, s, p)
    pi = None
    if pi_sig is not None:
        raw = aligned(pi_sig)
        pi = np.where((raw > 0) & (raw <= 30), raw, np.nan)
    hdr: dict[str, Any] = {"spo2_signal": s_sig.label.strip(),
                           "pulse_signal": None if p_sig is None else p_sig.label.strip(),
                           "signals": [x.label.strip() for x in signals]}
    if np.all(np.isnan(s)):
        hdr["note"] = ("no oximeter attached: the SpO2 channel holds only the fill value"
                       if np.all(st & int(Status.NO_SENSOR)) else
                       "the SpO2 channel holds no valid sample")
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
                                 source=path.name, header=hdr, start_naive=start is not None)


def _written_by_us(edf: Any) -> tuple[bool, int | None]:
    """(written by this program, its true sample count) from the EDF+ recording field."""
    try:
        extra = list(edf.recording.additional)
    except Exception:
        return False, None
    if WRITER not in extra:
        return False, None
    for x in extra:
        if x.startswith("samples="):
            try:
                return True, int(x[8:])
            except ValueError:
                break
    return True, None


_REASON_OF_TEXT = {text: flag for flag, text in GAP_REASONS}


def _reasons_from_annotations(edf: Any, st: np.ndarray, fs: float) -> None:
    """In place: the reason each "SpO2 gap: REASON" annotation names, on its samples (our
    own files write −1 for every gap, so the fill alone says nothing about why)."""
    try:
        anns = list(edf.annotations)
    except Exception:
        return
    n = len(st)
    for a in anns:
        text = str(a.text)
        if not text.startswith(GAP_TEXT + ": "):
            continue
        flag = _REASON_OF_TEXT.get(text[len(GAP_TEXT) + 2:])
        if flag is None:
            continue
        lo = max(0, round(float(a.onset) * fs))
        hi = min(n, lo + max(1, round(float(a.duration or 0.0) * fs)))
        seg = st[lo:hi]
        seg[:] = (seg & ~int(Status.MISSING)) | int(flag)


def record_layout(interval: float, n: int = 0, signals: int = 3) -> tuple[int, int]:
    """(record duration in whole seconds, samples per record) for `n` samples `interval` s
    apart: the shortest whole number of seconds that holds a whole number of samples (1 s at
    1 Hz and at 60 Hz, 4 s at one sample every 4 s, 3 s at 0.3 s), made a whole multiple
    longer when `n` samples would need more than MAX_RECORDS records, as far as a record of
    `signals` 16-bit signals stays under EDF+'s recommended size. FormatError when the
    interval is no such fraction of a second (not a rate a file can hold exactly)."""
    from fractions import Fraction  # (it loads decimal: only a writer needs it)

    frac = Fraction(interval).limit_denominator(10_000)
    if not frac > 0 or abs(float(frac) - interval) > max(1e-6 * interval, 5e-7):
        raise FormatError("EDF", f"samples every {interval!r} s cannot be placed on EDF data "
                                 "records exactly")
    seconds, per = frac.numerator, frac.denominator  # interval = seconds / per
    if seconds > MAX_RECORD_S:
        raise FormatError("EDF", f"samples every {interval:g} s need {seconds} s records")
    records = -(-n // per)
    if records > MAX_RECORDS:
        k = -(-records // MAX_RECORDS)
        k = max(1, min(k, MAX_RECORD_S // seconds, MAX_RECORD_BYTES // (2 * signals * per)))
        seconds, per = seconds * k, per * k
    return seconds, per


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


def _grid(rec: Recording) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray,
                                   float]:
    """SpO2, pulse, PI and status on the interval grid from the first sample (NaN and
    MISSING where nothing)."""
    c = rec.columns()
    if not len(c):
        raise FormatError(rec.path, "nothing to write: the recording has no vitals samples")
    interval = rec.interval or typical_interval(c.t)
    t, s, p, st, pi, interval, _t0 = timeline(c.t, c.spo2, c.pulse, c.status, c.pi,
                                              interval, max_fill=50_000_000)
    idx = np.rint(t / interval).astype(np.int64)
    n = int(idx[-1]) + 1
    if n == len(idx):  # already one sample per grid slot (the usual case): no copies
        return s, p, pi, st, interval
    out = []
    for v in (s, p, pi):
        if v is None:
            out.append(None)
            continue
        g = np.full(n, np.nan)
        g[idx] = v
        out.append(g)
    gs = np.full(n, int(Status.MISSING), dtype=np.int32)
    gs[idx] = st
    return out[0], out[1], out[2], gs, interval


def _signal(edfio: Any, v: np.ndarray, fs: float, label: str, dim: str, top: float,
            per_record: int, scale: int = 10) -> Any:
    """`scale` digital steps per unit: 0.1 % / bpm like the session file; 0.01 % for PI.
    The last record is padded with the fill."""
    pad = (-len(v)) % per_record
    dig = np.full(len(v) + pad, FILL, dtype=np.int16)
    with np.errstate(invalid="ignore"):
        vals = np.clip(np.rint(v * scale), 0, top * scale)
    ok = ~np.isnan(v)
    dig[:len(v)][ok] = vals[ok]
    return edfio.EdfSignal.from_digital(dig, fs, label=label,
                                        physical_dimension=dim,
                                        physical_range=(FILL / scale, top),
                                        digital_range=(FILL, int(top * scale)))


def write(recording: Recording, path: Path) -> None:
    import edfio

    path = Path(path)
    s, p, pi, st, interval = _grid(recording)
    try:
        duration, per_record = record_layout(interval, len(s), 3 if pi is not None else 2)
    except FormatError as e:
        raise FormatError(path, e.reason) from None
    fs = per_record / duration
    sigs = [_signal(edfio, s, fs, "SpO2", "%", 100.0, per_record),
            _signal(edfio, p, fs, "Pulse", "bpm", 300.0, per_record)]
    if pi is not None:
        sigs.append(_signal(edfio, pi, fs, "PI", "%", 30.0, per_record, scale=100))
    runs = _gap_runs(s, st)
    if len(runs) > MAX_GAP_ANNOTATIONS:
        runs = []  # the fill marks every gap; one annotation each would swamp the file
    anns = [edfio.EdfAnnotation(round(a / fs, 3), round(k / fs, 3), text) for a, k, text in runs]
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
                                          additional=[WRITER, f"samples={len(s)}"])
    else:
        kw["recording"] = edfio.Recording(equipment_code=equip,
                                          additional=[WRITER, f"samples={len(s)}"])
    try:
        edf = edfio.Edf(sigs, data_record_duration=duration, **kw)
        try:
            edf.set_annotations(anns)
        except ValueError:
            # edfio checks that every signal spans the same seconds in floating point; at a
            # rate below 1 Hz (1/60 Hz) the annotation signal can miss by 1e-11 s. The
            # samples and their −1 fill are written all the same; the gap reasons are not.
            edf = edfio.Edf(sigs, data_record_duration=duration, **kw)
        with open_private(path) as f:  # 0600: personal health data
            edf.write(f)
    except OSError as e:
        raise FormatError(path, e.strerror or str(e)) from None
    except ValueError as e:
        raise FormatError(path, f"cannot write EDF: {_msg(e)}") from None


def _reason_codes(st: np.ndarray) -> np.ndarray:
    """Per sample: 1 + the index in GAP_REASONS of its most specific reason, 0 for none."""
    code = np.zeros(len(st), dtype=np.int8)
    for i, (flag, _text) in reversed(list(enumerate(GAP_REASONS))):
        code[(st & int(flag)) != 0] = i + 1
    return code


def _gap_runs(s: np.ndarray, st: np.ndarray) -> list[tuple[int, int, str]]:
    """(first sample, length, annotation) of each run of samples without SpO2 and with one
    reason ("SpO2 gap: finger out"; "SpO2 gap" where no reason is known)."""
    code = np.where(np.isnan(s), _reason_codes(st) + 1, 0).astype(np.int16)
    edges = np.flatnonzero(np.diff(code)) + 1
    starts = np.concatenate(([0], edges))
    ends = np.concatenate((edges, [len(code)]))
    keep = code[starts] > 0
    out = []
    for a, b, c in zip(starts[keep].tolist(), ends[keep].tolist(), code[starts[keep]].tolist(),
                       strict=True):
        out.append((a, b - a, GAP_TEXT if c == 1 else f"{GAP_TEXT}: {GAP_REASONS[c - 2][1]}"))
    return out


FORMAT = FormatInfo(
    name=NAME, description="EDF / EDF+ with SpO2 and pulse channels (e.g. ResMed SA2)",
    extensions=(".edf",), sniff=sniff, read=read, write=write,
)
