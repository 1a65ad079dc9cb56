"""WFDB (PhysioNet) records with SpO2 / pulse signals, e.g. MIMIC numerics.

Single-file records in formats 16, 61, 80, 24, 32 and 212 (one sample per frame, no skew) are
read here with a strict header parser and numpy, without the `wfdb` package: its header parser
costs 8–30 ms a record. Every other layout goes through `wfdb` (the optional extra
`oxi-assist[wfdb]`), which is also the reference the fast path is tested against.

Only the SpO2 and pulse channels are read. In MIMIC numerics 0 means "no value / sensor off",
and WFDB's invalid-sample marker arrives as NaN: both become gaps. MIMIC dates are shifted
centuries ahead for de-identification; such a date is kept in the header, never used as a start.
"""

from __future__ import annotations

import datetime as _dt
import re
import warnings
from pathlib import Path

import numpy as np

from drivers.errors import FormatError
from drivers.formats._base import FormatInfo, Recording
from drivers.formats._text_lines import head_lines
from drivers.formats._timeline import clean_vitals, mark_startup
from drivers.formats._timestamps import day_seconds, naive_to_epoch

NAME = "wfdb"
MULTI = ("a multi-segment or empty WFDB record: open one of its numerics segments (…n.hea) "
         "instead")
EXTRA = "reading WFDB records needs the optional extra: pip install 'oxi-assist[wfdb]'"
SPO2_NAMES = ("spo2", "%spo2", "spo2%", "sao2", "spo2-%", "sp02", "o2sat")
PULSE_NAMES = ("pulse", "pr", "pleth hr", "pulse rate", "hr", "heart rate")
_RECORD_LINE = re.compile(r"^\S+(/\d+)?\s+\d+\s+[\d.eE+-]+(/[\d.eE+-]+)?(\([\d.+-]+\))?"
                          r"(\s+\d+)?")


def sniff(head: bytes, name: str) -> int:
    if not name.lower().endswith(".hea"):
        return 0
    for line in head_lines(head, 20):
        if line.strip() and not line.startswith("#"):
            return 90 if _RECORD_LINE.match(line) else 0
    return 0


def _pick(names: list[str], wanted: tuple[str, ...]) -> int | None:
    low = [(n or "").strip().lower() for n in names]
    for w in wanted:
        if w in low:
            return low.index(w)
    return None


def read(path: Path) -> Recording:
    from drivers.formats import _wfdb_header as _wh  # only for a WFDB record: not at detection

    path = Path(path)
    base = path.with_suffix("") if path.suffix.lower() == ".hea" else path
    hea = base.with_name(base.name + ".hea")
    try:
        with open(hea, "rb") as f:
            raw = f.read(_wh.MAX_HEADER + 1)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise FormatError(path, "no WFDB header (.hea) for this record") from None
    except OSError as e:
        raise FormatError(path, f"unreadable WFDB header: {e.strerror or e}") from None
    if len(raw) > _wh.MAX_HEADER:
        raise FormatError(path, f"not a WFDB header: more than {_wh.MAX_HEADER} bytes")
    hdr = _wh.parse(path, raw)
    names = [s.name for s in hdr.signals]
    if hdr.n_seg is not None or not names:  # as the package path says of them
        raise FormatError(path, MULTI, line=hdr.record_line)
    i_s, i_p = _channels(path, names)
    chans = [i_s] if i_p is None else [i_s, i_p]
    for c in chans:  # the package would fail on these too, only slower
        sg = hdr.signals[c]
        if sg.file_name != "~" and not (base.parent / sg.file_name).is_file():
            raise FormatError(path, f"unreadable WFDB signal file: {sg.file_name} not found",
                              line=sg.line)
    if hdr.needs_wfdb():  # a layout the numpy reader leaves to the package
        return _read_wfdb(path, base)
    try:
        sig = _wh.read_signals(path, hdr, chans)
    except _wh.Truncated:
        return _read_wfdb(path, base)
    return _recording(path, base, names, i_s, i_p, sig, hdr.fs, hdr.comments,
                      hdr.base_date, hdr.base_time)


def _channels(path: Path, names: list[str]) -> tuple[int, int | None]:
    i_s = _pick(names, SPO2_NAMES)
    if i_s is None:
        raise FormatError(path, f"no SpO2 signal in the record (signals: {', '.join(names)})")
    return i_s, _pick(names, PULSE_NAMES)


def _read_wfdb(path: Path, base: Path) -> Recording:
    """Through the `wfdb` package: the reference, and the reader of every layout the numpy
    path leaves alone (multi-segment records, other formats, several files, skew, spf > 1)."""
    try:
        with warnings.catch_warnings():  # its pandas deprecation notes are not the user's
            warnings.simplefilter("ignore")
            import wfdb
    except ImportError:
        raise FormatError(path, EXTRA) from None
    if not base.with_name(base.name + ".hea").is_file():
        raise FormatError(path, "no WFDB header (.hea) for this record")
    try:
        hdr = wfdb.rdheader(str(base))
    except Exception as e:  # wfdb raises many kinds of error for a bad header
        raise FormatError(path, f"unreadable WFDB header: {_msg(e)}") from None
    names = [str(n or "") for n in (getattr(hdr, "sig_name", None) or [])]
    if not names:
        raise FormatError(path, MULTI)
    i_s, i_p = _channels(path, names)
    chans = [i_s] if i_p is None else [i_s, i_p]
    try:
        rec = wfdb.rdrecord(str(base), channels=chans)
    except Exception as e:
        raise FormatError(path, f"unreadable WFDB signal file: {_msg(e)}") from None
    sig = np.asarray(rec.p_signal, dtype=np.float64)
    return _recording(path, base, names, i_s, i_p, sig, rec.fs, rec.comments,
                      rec.base_date, rec.base_time)


def _recording(path: Path, base: Path, names: list[str], i_s: int, i_p: int | None,
               sig: np.ndarray, fs_raw: object, comments: list[str] | None,
               bd: _dt.date | None, bt: _dt.time | None) -> Recording:
    if sig.ndim != 2 or sig.shape[0] == 0:
        raise FormatError(path, "no samples in the record")
    spo2 = sig[:, 0]
    pulse = sig[:, 1] if i_p is not None else np.full(len(spo2), np.nan)
    spo2 = np.where(np.isnan(spo2), 0.0, spo2)  # NaN (WFDB invalid) and 0 (MIMIC) alike
    pulse = np.where(np.isnan(pulse), 0.0, pulse)
    s, p, st = clean_vitals(spo2, pulse)
    mark_startup(st, s, p)
    fs = float(fs_raw)  # type: ignore[arg-type]
    if not fs > 0:
        raise FormatError(path, f"bad sampling frequency {fs_raw!r} in the header")
    interval = round(1.0 / fs, 3)
    meta: dict[str, object] = {"record": base.name, "signals": names,
                               "spo2_signal": names[i_s],
                               "pulse_signal": None if i_p is None else names[i_p],
                               "comments": list(comments or [])}
    start: float | None = None
    if bd is not None:
        secs = 0.0 if bt is None else bt.hour * 3600 + bt.minute * 60 + bt.second \
            + bt.microsecond / 1e6
        stamp = f"{bd.isoformat()} {'' if bt is None else bt.isoformat()}".strip()
        if bd.year > 2200:
            meta["base_datetime"] = f"{stamp} (date-shifted for de-identification)"
        else:
            meta["base_datetime"] = stamp
            start = naive_to_epoch(day_seconds(bd.year, bd.month, bd.day) + secs)
    elif bt is not None:
        meta["base_time"] = bt.isoformat()
    t = np.arange(len(s), dtype=np.float64) * interval
    return Recording.from_arrays(path, NAME, t, s, p, st, start_wall=start, interval=interval,
                                 device="WFDB record", source=base.name, header=meta,
                                 start_naive=start is not None)


def _msg(e: Exception) -> str:
    return (str(e).splitlines() or [type(e).__name__])[0][:200] or type(e).__name__


FORMAT = FormatInfo(
    name=NAME, description="WFDB (PhysioNet) record with SpO2 / pulse, e.g. MIMIC numerics",
    extensions=(".hea",), sniff=sniff, read=read,
)
