"""A strict WFDB header parser and a numpy reader for the plain single-file signal formats.

The `wfdb` package parses a header with pandas lookups per field per signal (8–30 ms a header);
numerics records need none of that. Fields, defaults and quirks follow wfdb 4.3.1
(`wfdb/io/_header.py`, `wfdb/io/header.py`) so both give the same values: adc gain 0 means 200,
a missing baseline is the adc zero (else 0), a missing fs is 250, an fs within 1e-8 of an integer
is that integer, comments are `#` lines stripped of spaces, tabs and `#`, and the text is read as
ASCII with other bytes dropped. Where wfdb's regular expressions accept a line loosely (fields run
together, trailing garbage ignored), this parser refuses it with the line number instead.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drivers.errors import FormatError
from drivers.safe_files import kind_of

MAX_HEADER = 1 << 20  # a WFDB header is a few lines; a megabyte is not one
_INT64 = 1 << 63
_NUM = r"(?:\d+\.?\d*|\.\d+)"
_NAME = re.compile(r"([-\w]+)(?:/(\d+))?", re.ASCII)
_FREQ = re.compile(rf"({_NUM})(?:/({_NUM})(?:\((-?{_NUM})\))?)?")
_TIME = re.compile(r"(?:(?:\d{1,2}:)?\d{1,2}:)?\d{1,2}(?:\.\d{1,6})?")
_DATE = re.compile(r"\d{1,2}/\d{1,2}/\d{4}")
_FILE = re.compile(r"~|[-\w]*\.?\w*", re.ASCII)
_FMT = re.compile(r"(\d+)(?:x(\d+))?(?::(\d+))?(?:\+(\d+))?")
_GAIN = re.compile(r"(-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?)(?:\((-?\d+)\))?(?:/([\w^\-?%/]*))?",
                   re.ASCII)
_INT = re.compile(r"-?\d+")
_UINT = re.compile(r"\d+")
_SEP = re.compile(r"[ \t]+")
_NUMS = (("ADC resolution", False), ("ADC zero", True), ("initial value", True),
         ("checksum", True), ("block size", False))

# format → (bytes per sample, invalid-sample marker); 212 packs two samples in three bytes
FAST_FORMATS: dict[str, tuple[float, int]] = {
    "16": (2, -(2**15)), "61": (2, -(2**15)), "80": (1, -(2**7)), "24": (3, -(2**23)),
    "32": (4, -(2**31)), "212": (1.5, -(2**11)),
}
# every signal format WFDB defines (the package reads these; anything else is an error)
WFDB_FORMATS = frozenset({"8", "16", "24", "32", "61", "80", "160", "212", "310", "311", "508",
                          "516", "524"})


@dataclass
class Signal:
    file_name: str
    fmt: str
    spf: int | None
    skew: int | None
    byte_offset: int | None
    gain: float
    baseline: int
    name: str
    line: int


@dataclass
class Header:
    name: str
    n_seg: int | None
    n_sig: int
    fs: float
    sig_len: int | None
    base_time: _dt.time | None
    base_date: _dt.date | None
    signals: list[Signal]
    comments: list[str]
    record_line: int

    def needs_wfdb(self) -> str:
        """Why the numpy reader cannot read this record ("" when it can): wfdb reads the rest."""
        if self.n_seg is not None:
            return "multi-segment record"
        sigs = self.signals
        if not sigs:
            return "no signals"
        s0 = sigs[0]
        for s in sigs:
            if s.file_name == "~" or s.file_name != s0.file_name:
                return "signals in several files"
            if s.fmt not in FAST_FORMATS or s.fmt != s0.fmt:
                return f"format {s.fmt}"
            if s.spf not in (None, 1) or s.skew is not None:
                return "several samples per frame or skew"
            if s.byte_offset != s0.byte_offset:
                return "byte offsets differ between signals"
        return ""


def _int(tok: str, path: Path, line: int, what: str, signed: bool = True) -> int:
    if not (_INT if signed else _UINT).fullmatch(tok):
        raise FormatError(path, f"bad {what} {tok[:40]!r} in the WFDB header", line=line)
    if len(tok) > 20 or not -_INT64 < (v := int(tok)) < _INT64:  # int() refuses 4300+ digits
        raise FormatError(path, f"{what} {tok[:40]} out of range in the WFDB header", line=line)
    return v


def _time(tok: str) -> _dt.time:
    fmt = {0: "%S", 1: "%M:%S", 2: "%H:%M:%S"}[tok.count(":")]
    if "." in tok:
        fmt += ".%f"
    return _dt.datetime.strptime(tok, fmt).time()


def _record_line(text: str, path: Path, line: int) -> dict[str, object]:
    toks = _SEP.split(text)
    if len(toks) < 2:
        raise FormatError(path, "WFDB record line needs a record name and a number of "
                                "signals", line=line)
    if len(toks) > 6:
        raise FormatError(path, f"unexpected field {toks[6][:40]!r} after the base date in the "
                                "WFDB record line", line=line)
    m = _NAME.fullmatch(toks[0])
    if m is None:
        raise FormatError(path, f"bad WFDB record name {toks[0][:40]!r}", line=line)
    out: dict[str, object] = {"name": m.group(1), "n_seg": None if m.group(2) is None
                              else _int(m.group(2), path, line, "number of segments")}
    out["n_sig"] = _int(toks[1], path, line, "number of signals", signed=False)
    fs: float = 250
    if len(toks) > 2:
        f = _FREQ.fullmatch(toks[2])
        if f is None:
            raise FormatError(path, f"bad sampling frequency {toks[2][:40]!r} in the WFDB "
                                    "record line", line=line)
        fs = float(f.group(1))
        if not math.isfinite(fs):
            raise FormatError(path, f"sampling frequency {toks[2][:40]} out of range", line=line)
        if round(fs, 8) == float(int(fs)):
            fs = int(fs)
    out["fs"] = fs
    out["sig_len"] = (_int(toks[3], path, line, "number of samples", signed=False)
                      if len(toks) > 3 else None)
    out["base_time"] = out["base_date"] = None
    try:
        if len(toks) > 4:
            if not _TIME.fullmatch(toks[4]):
                raise ValueError
            out["base_time"] = _time(toks[4])
    except ValueError:
        raise FormatError(path, f"bad base time {toks[4][:40]!r} in the WFDB record line",
                          line=line) from None
    try:
        if len(toks) > 5:
            if not _DATE.fullmatch(toks[5]):
                raise ValueError
            out["base_date"] = _dt.datetime.strptime(toks[5], "%d/%m/%Y").date()
    except ValueError:
        raise FormatError(path, f"bad base date {toks[5][:40]!r} in the WFDB record line "
                                "(want DD/MM/YYYY)", line=line) from None
    return out


def _signal_line(text: str, path: Path, line: int) -> Signal:
    # fields split on spaces and tabs only (as wfdb); the description is the rest of the line
    # up to a tab, as wfdb reads it
    parts = _SEP.split(text, 8)
    if len(parts) < 2:
        raise FormatError(path, "WFDB signal line needs a file name and a format", line=line)
    if not _FILE.fullmatch(parts[0]):
        raise FormatError(path, f"bad signal file name {parts[0][:40]!r}", line=line)
    f = _FMT.fullmatch(parts[1])
    if f is None:
        raise FormatError(path, f"bad signal format {parts[1][:40]!r}", line=line)
    if f.group(1) not in WFDB_FORMATS:
        raise FormatError(path, f"unknown WFDB signal format {f.group(1)[:20]}", line=line)
    spf, skew, off = (None if g is None else _int(g, path, line, what, signed=False)
                      for g, what in ((f.group(2), "samples per frame"), (f.group(3), "skew"),
                                      (f.group(4), "byte offset")))
    gain = 200.0
    baseline: int | None = None
    if len(parts) > 2:
        g = _GAIN.fullmatch(parts[2])
        if g is None:
            raise FormatError(path, f"bad ADC gain/baseline/units {parts[2][:40]!r}", line=line)
        gain = float(g.group(1))
        if gain == 0:
            gain = 200.0
        if g.group(2) is not None:
            baseline = _int(g.group(2), path, line, "baseline")
    vals = [_int(tok, path, line, what, signed)
            for tok, (what, signed) in zip(parts[3:8], _NUMS, strict=False)]
    if baseline is None:
        baseline = vals[1] if len(vals) > 1 else 0
    desc = parts[8].split("\t")[0] if len(parts) > 8 else ""
    return Signal(parts[0], f.group(1), spf, skew, off, gain, baseline, desc, line)


def parse(path: Path, raw: bytes) -> Header:
    """The header in `raw` (the bytes of `path`), or FormatError naming the line."""
    text = raw.decode("ascii", "ignore")
    comments: list[str] = []
    lines: list[tuple[int, str]] = []
    for i, ln in enumerate(text.splitlines(), 1):
        ln = ln.strip()
        if ln.startswith("#"):
            comments.append(ln.strip(" \t#"))
        elif ln:
            lines.append((i, ln))
    if not lines:
        raise FormatError(path, "empty WFDB header: no record line")
    rline, rtext = lines[0]
    rec = _record_line(rtext, path, rline)
    sigs: list[Signal] = []
    if rec["n_seg"] is None:
        sigs = [_signal_line(t, path, n) for n, t in lines[1:]]
        if len(sigs) != rec["n_sig"]:
            raise FormatError(path, f"the WFDB record line says {rec['n_sig']} signals, the "
                                    f"header has {len(sigs)} signal lines", line=rline)
    return Header(name=str(rec["name"]), n_seg=rec["n_seg"],  # type: ignore[arg-type]
                  n_sig=rec["n_sig"], fs=rec["fs"], sig_len=rec["sig_len"],  # type: ignore[arg-type]
                  base_time=rec["base_time"], base_date=rec["base_date"],  # type: ignore[arg-type]
                  signals=sigs, comments=comments, record_line=rline)


class Truncated(Exception):
    """A format-212 file whose last 3-byte block is cut short: wfdb pads it with zeros, so
    wfdb reads it (a file short by more is refused, not padded with made-up samples)."""


def read_signals(path: Path, hdr: Header, chans: list[int]) -> np.ndarray:
    """Physical values (n_samples × len(chans), NaN for the invalid marker) as wfdb computes
    them: (digital − baseline) / gain in float64."""
    s0 = hdr.signals[0]
    fmt = s0.fmt
    bps, invalid = FAST_FORMATS[fmt]
    dat = path.parent / s0.file_name
    offset = s0.byte_offset or 0
    nsig = len(hdr.signals)
    st = os.stat(dat) if os.path.exists(dat) else None
    if st is not None and not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
        raise FormatError(path, f"unreadable WFDB signal file: {s0.file_name} is "
                                f"{kind_of(st.st_mode)}", line=s0.line)  # a FIFO never ends
    try:
        with open(dat, "rb") as f:
            size = f.seek(0, 2)
            n = hdr.sig_len
            if n is None:
                n = int((size - offset) / (bps * nsig))
            if n <= 0:
                raise FormatError(path, "no samples in the record")
            total = n * nsig
            need = math.ceil(total * bps)
            f.seek(offset)
            buf = f.read(need)
    except FileNotFoundError:
        raise FormatError(path, f"unreadable WFDB signal file: {s0.file_name} not found",
                          line=s0.line) from None
    except IsADirectoryError:
        raise FormatError(path, f"unreadable WFDB signal file: {s0.file_name} is a directory",
                          line=s0.line) from None
    except OSError as e:
        raise FormatError(path, f"unreadable WFDB signal file {s0.file_name}: "
                                f"{e.strerror or e}", line=s0.line) from None
    if len(buf) < need:
        if fmt == "212" and need - len(buf) < 3:  # a last block cut short: wfdb pads it
            raise Truncated
        raise FormatError(path, f"unreadable WFDB signal file: {s0.file_name} holds "
                                f"{len(buf)} bytes after offset {offset}, {n} frames of "
                                f"{nsig} signals need {need}", line=s0.line)
    d = _digital(buf, fmt, total).reshape(n, nsig)[:, chans]
    bad = d == invalid
    out = d.astype(np.float64)
    np.subtract(out, np.array([hdr.signals[c].baseline for c in chans]), out)
    np.divide(out, np.array([hdr.signals[c].gain for c in chans], dtype=np.float64), out)
    out[bad] = np.nan
    return out


def _digital(buf: bytes, fmt: str, total: int) -> np.ndarray:
    if fmt == "16":
        return np.frombuffer(buf, "<i2", total).astype(np.int64)
    if fmt == "61":
        return np.frombuffer(buf, ">i2", total).astype(np.int64)
    if fmt == "32":
        return np.frombuffer(buf, "<i4", total).astype(np.int64)
    if fmt == "80":
        return np.frombuffer(buf, np.uint8, total).astype(np.int64) - 128
    if fmt == "24":
        b = np.frombuffer(buf, np.uint8, total * 3).reshape(-1, 3).astype(np.int64)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        return v - ((v & (1 << 23)) << 1)
    # 212: each 3 bytes hold two 12-bit samples
    raw = np.frombuffer(buf, np.uint8)
    pad = (-len(raw)) % 3
    b = np.concatenate((raw, np.zeros(pad, np.uint8))).reshape(-1, 3).astype(np.int64)
    v = np.empty((len(b), 2), np.int64)
    v[:, 0] = b[:, 0] | ((b[:, 1] & 0x0F) << 8)
    v[:, 1] = b[:, 2] | ((b[:, 1] & 0xF0) << 4)
    v = v.reshape(-1)[:total]
    return v - ((v & (1 << 11)) << 1)
