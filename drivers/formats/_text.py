"""Shared pieces of the text (CSV/TSV) readers: bounded line streaming, value and time parsing,
and turning timestamped rows into an even timeline whose holes are gaps.

Rows are collected into `array('d')` columns, never into per-row Python objects, so a
100 MB export costs a few bytes per sample, not a few hundred.
"""

from __future__ import annotations

import codecs
import csv
import datetime as _dt
import re
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from drivers.errors import FormatError
from drivers.formats._base import GAP, PARTIAL, Recording
from drivers.reading import INVALIDATING, Status

NAN = float("nan")
CHUNK = 1 << 20
MAX_LINE = 1 << 16  # a "line" longer than this is not a CSV row
MISSING = frozenset({"", "--", "- -", "-", "nan", "na", "n/a", "null", "none", "---", "--.-"})

Progress = Callable[[int, int], None] | None


class Block:
    """Whole lines of a text file, as read: `data` the raw bytes (None when the file had to be
    decoded as a whole, UTF-16), `first` the number of its first line, `base` its byte offset.
    `lines()` decodes them (once), raising FormatError for bad bytes with line and offset."""

    __slots__ = ("_lines", "base", "data", "first", "source")

    def __init__(self, source: TextLines, first: int, data: bytes | None, base: int,
                 lines: list[str] | None = None) -> None:
        self.source, self.first, self.data, self.base = source, first, data, base
        self._lines = lines

    def lines(self) -> list[str]:
        if self._lines is None:
            assert self.data is not None
            self._lines = self.source._decode(self.data, self.first, self.base)
        return self._lines

    @property
    def count(self) -> int:
        """The number of lines, without decoding them."""
        if self._lines is not None:
            return len(self._lines)
        assert self.data is not None
        return self.data.count(b"\n") + (0 if self.data.endswith(b"\n") else 1)


class TextLines:
    """Iterates `(line_number, list_of_lines)` blocks of a text file, decoded and without line
    ends, reading 1 MB at a time (`blocks()` gives them undecoded, for readers that can use
    the bytes as they are). A UTF-8 BOM is dropped; UTF-16 (with a BOM) is decoded.
    Bad bytes raise FormatError naming the line and byte offset. `complete` says afterwards
    whether the file ended with a line end (False: the last line may be half-written)."""

    def __init__(self, path: Path, progress: Progress = None) -> None:
        self.path = path
        self.progress = progress
        self.complete = True
        try:
            self.size = path.stat().st_size
        except OSError as e:
            raise FormatError(path, e.strerror or str(e)) from None

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        for b in self.blocks():
            yield b.first, b.lines()

    def blocks(self) -> Iterator[Block]:
        try:
            f = open(self.path, "rb")  # noqa: SIM115
        except IsADirectoryError:
            raise FormatError(self.path, "is a directory, not a recording") from None
        except OSError as e:
            raise FormatError(self.path, e.strerror or str(e)) from None
        with f:
            head = f.read(4)
            f.seek(0)
            if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
                for first, lines in self._utf16(f):
                    yield Block(self, first, None, 0, lines)
                return
            yield from self._utf8(f)

    def _utf8(self, f: object) -> Iterator[Block]:
        lineno = 1
        done = 0
        rest = b""
        first = True
        cr_only = False
        while True:
            chunk = f.read(CHUNK)  # type: ignore[attr-defined]
            if first:
                if chunk.startswith(codecs.BOM_UTF8):
                    chunk = chunk[3:]
                    done += 3
                first = False
                cr_only = b"\r" in chunk and b"\n" not in chunk  # classic Mac line ends
            if cr_only:
                chunk = chunk.replace(b"\r", b"\n")
            if not chunk:
                break
            buf = rest + chunk
            cut = buf.rfind(b"\n")
            if cut < 0:
                if len(buf) > MAX_LINE:
                    raise FormatError(self.path, f"no line end within {MAX_LINE} bytes: "
                                                 "not a text table", line=lineno)
                rest = buf
                continue
            block, rest = buf[: cut + 1], buf[cut + 1:]
            b = Block(self, lineno, block, done)
            done += len(block)
            yield b
            lineno += b.count
            if self.progress is not None:
                self.progress(done, self.size)
        if rest:
            if len(rest) > MAX_LINE:
                raise FormatError(self.path, f"no line end within {MAX_LINE} bytes: "
                                             "not a text table", line=lineno)
            self.complete = False
            yield Block(self, lineno, rest, done)
        if self.progress is not None:
            self.progress(self.size, self.size)

    def _decode(self, block: bytes, lineno: int, base: int) -> list[str]:
        if b"\x00" in block:
            pos = block.index(b"\x00")
            raise FormatError(self.path, "binary data (NUL byte) in a text file",
                              line=lineno + block.count(b"\n", 0, pos), )
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError as e:
            line = lineno + block.count(b"\n", 0, e.start)
            raise FormatError(self.path, f"not UTF-8 text (byte 0x{block[e.start]:02x} at "
                                         f"offset {base + e.start})", line=line) from None
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]

    def _utf16(self, f: object) -> Iterator[tuple[int, list[str]]]:
        import io

        tw = io.TextIOWrapper(f, encoding="utf-16", newline=None)  # type: ignore[arg-type]
        lineno = 1
        rest = ""
        try:
            while True:
                chunk = tw.read(CHUNK // 2)
                if not chunk:
                    break
                buf = rest + chunk
                cut = buf.rfind("\n")
                if cut < 0:
                    rest = buf
                    continue
                lines = buf[:cut].split("\n")
                rest = buf[cut + 1:]
                yield lineno, lines
                lineno += len(lines)
        except UnicodeDecodeError as e:
            raise FormatError(self.path, f"not valid UTF-16 text ({e.reason})",
                              line=lineno) from None
        if rest:
            self.complete = False
            yield lineno, [rest]


def head_lines(head: bytes, n: int = 60) -> list[str]:
    """The first lines of a sniffed head, decoded leniently (for detection only)."""
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        text = head.decode("utf-16", errors="replace")
    else:
        if b"\x00" in head:
            return []
        text = head.removeprefix(codecs.BOM_UTF8).decode("utf-8", errors="replace")
    lines = text.splitlines()
    if len(lines) > 1 and not head.endswith((b"\n", b"\r")):
        lines.pop()  # cut off mid-line by the sniff window
    return lines[:n]


def number(tok: str) -> float:
    """A value or NaN for an empty / dash / "nan" cell. Raises ValueError for anything else."""
    tok = tok.strip().strip('"')
    if tok.lower() in MISSING:
        return NAN
    return float(tok.rstrip("%"))


# ------------------------------------------------------------------------------------------
# Time stamps. Naive wall-clock times are counted as seconds since 1970-01-01 as if UTC
# ("naive seconds"): differences are then exact and free of DST jumps, which the device's own
# clock does not have either; the start is converted with the local zone only at the end.

MONTHS = {m: i + 1 for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"))}
_EPOCH_ORD = _dt.date(1970, 1, 1).toordinal()


@lru_cache(maxsize=4096)
def day_seconds(y: int, m: int, d: int) -> float:
    """Naive seconds of midnight of a calendar date (ValueError for an impossible date)."""
    try:
        return float((_dt.date(y, m, d).toordinal() - _EPOCH_ORD) * 86400)
    except OverflowError:
        raise ValueError(f"year {y} out of range") from None


_HMS = r"(\d{1,2}):(\d{2})(?::(\d{2})(\.\d+)?)?\s*([AaPp][Mm])?"
_RE_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]" + r"(\d{1,2}):(\d{2})(?::(\d{2})"
                     r"(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$")
_RE_TIME_MON = re.compile(_HMS + r"\s+([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})$")
_RE_MON_TIME = re.compile(r"([A-Za-z]{3})[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})\s+" + _HMS + "$")
_RE_TIME_SLASH = re.compile(_HMS + r"\s+(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})$")
_RE_SLASH_TIME = re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})[ T,]+" + _HMS + "$")
_RE_SLASH = re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})$")
_RE_CLOCK = re.compile(_HMS + "$")
_RE_NUM = re.compile(r"[+-]?\d+(\.\d*)?$")


def _hms(h: str, mi: str, s: str | None, frac: str | None, ampm: str | None) -> float:
    hh = int(h)
    if ampm:
        if not 1 <= hh <= 12:
            raise ValueError("12-hour clock hour out of range")
        hh = hh % 12 + (12 if ampm[0] in "Pp" else 0)
    mm, ss = int(mi), int(s or 0)
    if hh > 23 or mm > 59 or ss > 60:
        raise ValueError("time of day out of range")
    return hh * 3600 + mm * 60 + ss + (float(frac) if frac else 0.0)


def _year(y: str) -> int:
    v = int(y)
    return v + 2000 if len(y) == 2 else v


class TimeParser:
    """Parses one column's time stamps. The kind is fixed by the first value:

    - "abs": ISO 8601 with a zone, or epoch seconds / milliseconds → true epoch seconds;
    - "naive": a date and a clock time with no zone → naive seconds;
    - "clock": a clock time with no date (a `date` column may complete it) → seconds of day;
    - "elapsed": seconds or `mm:ss` since the start.
    `dayfirst` decides DD/MM against MM/DD for slash dates (None: work it out per file).
    """

    def __init__(self, dayfirst: bool | None = True) -> None:
        self.kind: str | None = None
        self.dayfirst = dayfirst
        self._f: Callable[[str], float] | None = None
        #: how the column-wise fast path may decode this column: "number" (times `scale`),
        #: "iso" / "isoz" (fixed-width ISO 8601 without zone / with Z), "clock" (hh:mm:ss)
        self.layout: str | None = None
        self.scale = 1.0

    def __call__(self, s: str) -> float:
        s = s.strip().strip('"').strip()
        if self._f is None:
            self._choose(s)
        assert self._f is not None
        return self._f(s)

    def _choose(self, s: str) -> None:
        if _RE_ISO.match(s):
            m = _RE_ISO.match(s)
            assert m is not None
            self.kind = "abs" if m.group(8) else "naive"
            self._f = self._iso
            if len(s) == 19 or (len(s) == 20 and s.endswith("Z")):
                self.layout = "isoz" if s.endswith("Z") else "iso"
        elif _RE_TIME_MON.match(s):
            self.kind, self._f = "naive", self._time_mon
        elif _RE_MON_TIME.match(s):
            self.kind, self._f = "naive", self._mon_time
        elif _RE_TIME_SLASH.match(s):
            self.kind, self._f = "naive", self._time_slash
        elif _RE_SLASH_TIME.match(s):
            self.kind, self._f = "naive", self._slash_time
        elif _RE_CLOCK.match(s):
            m = _RE_CLOCK.match(s)
            assert m is not None
            if m.group(3) is None and not m.group(5):
                self.kind, self._f = "elapsed", self._mmss
            else:
                self.kind, self._f = "clock", self._clock
                if len(s) == 8 and not m.group(5):
                    self.layout = "clock"
        elif _RE_NUM.match(s):
            v = float(s)
            self.layout = "number"
            if v >= 1e11:
                self.kind, self._f, self.scale = "abs", lambda x: float(x) / 1000.0, 0.001
            elif v >= 1e9:
                self.kind, self._f = "abs", float
            else:
                self.kind, self._f = "elapsed", float
        else:
            raise ValueError(f"unrecognised time stamp {s[:40]!r}")

    def _iso(self, s: str) -> float:
        m = _RE_ISO.match(s)
        if m is None:
            raise ValueError(f"bad ISO 8601 time {s[:40]!r}")
        y, mo, d, h, mi, sec, frac, zone = m.groups()
        v = day_seconds(int(y), int(mo), int(d))
        if h is not None:
            v += _hms(h, mi, sec, frac, None)
        if zone and zone != "Z":
            sign = -1 if zone[0] == "-" else 1
            z = zone[1:].replace(":", "")
            v -= sign * (int(z[:2]) * 3600 + int(z[2:]) * 60)
        if (self.kind == "abs") != bool(zone):
            raise ValueError("time stamps mix zoned and zone-less forms")
        return v

    def _time_mon(self, s: str) -> float:
        m = _RE_TIME_MON.match(s)
        if m is None:
            raise ValueError(f"bad time stamp {s[:40]!r}")
        h, mi, sec, frac, ap, mon, d, y = m.groups()
        return self._date(int(y), _month(mon), int(d)) + _hms(h, mi, sec, frac, ap)

    def _mon_time(self, s: str) -> float:
        m = _RE_MON_TIME.match(s)
        if m is None:
            raise ValueError(f"bad time stamp {s[:40]!r}")
        mon, d, y, h, mi, sec, frac, ap = m.groups()
        return self._date(int(y), _month(mon), int(d)) + _hms(h, mi, sec, frac, ap)

    def _time_slash(self, s: str) -> float:
        m = _RE_TIME_SLASH.match(s)
        if m is None:
            raise ValueError(f"bad time stamp {s[:40]!r}")
        h, mi, sec, frac, ap, a, b, y = m.groups()
        return self.slash_date(a, b, y) + _hms(h, mi, sec, frac, ap)

    def _slash_time(self, s: str) -> float:
        m = _RE_SLASH_TIME.match(s)
        if m is None:
            raise ValueError(f"bad time stamp {s[:40]!r}")
        a, b, y, h, mi, sec, frac, ap = m.groups()
        return self.slash_date(a, b, y) + _hms(h, mi, sec, frac, ap)

    def slash_date(self, a: str, b: str, y: str) -> float:
        x, z = int(a), int(b)
        if self.dayfirst is None:
            if x > 12:
                self.dayfirst = True
            elif z > 12:
                self.dayfirst = False
        d, mo = (x, z) if self.dayfirst in (True, None) else (z, x)
        return self._date(_year(y), mo, d)

    def _clock(self, s: str) -> float:
        m = _RE_CLOCK.match(s)
        if m is None:
            raise ValueError(f"bad clock time {s[:40]!r}")
        return _hms(*m.groups())

    def _mmss(self, s: str) -> float:
        m = _RE_CLOCK.match(s)
        if m is None or m.group(3) is not None:
            raise ValueError(f"bad elapsed time {s[:40]!r}")
        return int(m.group(1)) * 60 + int(m.group(2)) + (float(m.group(4) or 0))

    @staticmethod
    def _date(y: int, mo: int, d: int) -> float:
        return day_seconds(y, mo, d)


def _month(name: str) -> int:
    try:
        return MONTHS[name[:3].lower()]
    except KeyError:
        raise ValueError(f"unknown month {name!r}") from None


def parse_date(s: str, tp: TimeParser) -> float:
    """A date-only cell (`YYYY-MM-DD` or a slash date) → naive seconds of its midnight."""
    s = s.strip().strip('"').strip()
    m = _RE_ISO.match(s)
    if m and m.group(4) is None:
        return day_seconds(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _RE_SLASH.match(s)
    if m:
        return tp.slash_date(*m.groups())
    raise ValueError(f"unrecognised date {s[:40]!r}")


def naive_to_epoch(naive: float) -> float:
    """Naive local wall-clock seconds → epoch seconds, with this machine's zone."""
    whole = int(naive // 1)
    try:
        d = _dt.datetime(1970, 1, 1) + _dt.timedelta(seconds=whole)
        return d.timestamp() + (naive - whole)
    except (OverflowError, OSError, ValueError):
        return naive


# ------------------------------------------------------------------------------------------


class Columns:
    """Growable float columns for the rows of a text file."""

    def __init__(self, with_pi: bool = False) -> None:
        self.ts = array("d")
        self.spo2 = array("d")
        self.pulse = array("d")
        self.pi: array[float] | None = array("d") if with_pi else None

    def add(self, ts: float, spo2: float, pulse: float, pi: float = NAN) -> None:
        self.ts.append(ts)
        self.spo2.append(spo2)
        self.pulse.append(pulse)
        if self.pi is not None:
            self.pi.append(pi)

    def __len__(self) -> int:
        return len(self.ts)


def clean_vitals(spo2: np.ndarray, pulse: np.ndarray, pi: np.ndarray | None = None,
                 gap: Status = GAP) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sentinels and impossible values → NaN, and the status flag per sample.

    SpO2 outside 1–100 (0, 127, 255, −1 …) and pulse outside 1–254 (0, 255, 511, 65535, −1 …)
    are no reading. Both missing → `gap` (the format's reason for a sentinel, GAP when it
    gives none); one missing → PARTIAL (the other value still counts).
    Works in place on float64 arrays it is given (no copies of a long recording).
    """
    s = np.asarray(spo2, dtype=np.float64)
    p = np.asarray(pulse, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        sb = ~((s > 0) & (s <= 100))
        pb = ~((p > 0) & (p < 255))
    s[sb] = np.nan
    p[pb] = np.nan
    status = np.zeros(len(s), dtype=np.int32)
    status[sb | pb] = int(PARTIAL)
    status[sb & pb] = int(gap)
    return s, p, status


def mark_startup(status: np.ndarray, spo2: np.ndarray, pulse: np.ndarray,
                 reasons: Status = GAP) -> None:
    """In place: the samples before a recording's first value that carry one of `reasons`
    (the format's sentinel flag) become STARTUP. A device's first seconds hold no reading
    while it acquires the pulse (FORMATS: start-up; a Contec record in manual mode stores its
    first ~27 s as artefacts even with the finger in), which is not the finger coming out.
    A recording with no value at all is left as it is: nothing started up."""
    has = ~(np.isnan(spo2) & np.isnan(pulse))
    n0 = int(np.argmax(has)) if len(has) else 0
    if n0 == 0:
        return  # a value at once, or none at all
    head = status[:n0]
    hit = (head & int(reasons)) != 0
    head[hit] = (head[hit] & ~int(reasons)) | int(Status.STARTUP)


def typical_step(d: np.ndarray) -> float:
    """The most common positive step (to the millisecond); the smallest on a tie; 1 s if none."""
    if len(d) > 200_000:  # the typical step shows in any long stretch: look at a sample
        d = d[:: len(d) // 100_000]
    pos = np.sort(np.rint(d[d > 0] * 1000).astype(np.int64))
    if not len(pos):
        return 1.0
    first = np.flatnonzero(np.concatenate(([True], pos[1:] != pos[:-1])))  # each value's
    counts = np.diff(np.append(first, len(pos)))
    return float(pos[first[np.argmax(counts)]]) / 1000.0


def typical_interval(t: np.ndarray) -> float:
    """`typical_step` of the steps between sorted times, without making all of them (a
    long recording: only the sample it looks at)."""
    m = len(t) - 1
    if m <= 200_000:
        return typical_step(np.diff(t))
    i = np.arange(0, m, m // 100_000)
    return typical_step(t[i + 1] - t[i])


def _jumps(ts: np.ndarray, limit: float) -> np.ndarray:
    """The indices i where ts[i + 1] - ts[i] > limit, a stretch at a time (no array of all
    the steps)."""
    step, m = 1 << 20, len(ts) - 1
    found = [np.flatnonzero(ts[a + 1:b + 1] - ts[a:b] > limit) + a
             for a, b in ((a, min(a + step, m)) for a in range(0, m, step))]
    return np.concatenate(found) if found else np.zeros(0, dtype=np.intp)


def timeline(ts: np.ndarray, spo2: np.ndarray, pulse: np.ndarray, status: np.ndarray,
             pi: np.ndarray | None = None, interval: float | None = None,
             max_fill: int | None = None,
             long_gap: float | None = None) -> tuple[np.ndarray, ...]:
    """Evens out a timestamped series: a jump in time longer than 1.5 intervals is filled with
    gap samples (no values, GAP flag) so the timeline keeps its length and statistics see the
    hole. A jump of `long_gap` seconds or more (a new session in the same file) gets a single
    gap sample instead. Returns (t from 0, spo2, pulse, status, pi, interval, t0)."""
    n = len(ts)
    if n == 0:
        return (ts, spo2, pulse, status, pi, interval or 1.0, 0.0)
    if interval is None:
        interval = typical_interval(ts)
    big = _jumps(ts, 1.5 * interval)
    t0 = float(ts[0])
    if not len(big):
        t = ts.copy() if not ts.flags.writeable else ts
        t -= t0
        return (t, spo2, pulse, status, pi, interval, t0)
    k = np.zeros(n, dtype=np.int64)
    k[big] = np.rint((ts[big + 1] - ts[big]) / interval).astype(np.int64) - 1
    if long_gap is not None:
        k[big] = np.where(ts[big + 1] - ts[big] >= long_gap, 1, k[big])
    cap = max_fill if max_fill is not None else max(1_000_000, 4 * n)
    if int(k.sum()) > cap:  # an absurd jump (a wrong date): mark it, don't fill days of it
        k = np.minimum(k, 1)
    total = n + int(k.sum())
    pos_ = np.arange(n) + np.concatenate(([0], np.cumsum(k)[:-1]))
    reps = k + 1
    base = np.repeat(ts - t0, reps)
    j = np.arange(total) - np.repeat(pos_, reps)
    t = base + j * interval
    out_s = np.full(total, np.nan)
    out_p = np.full(total, np.nan)
    out_st = np.full(total, int(GAP), dtype=np.int32)
    out_s[pos_], out_p[pos_], out_st[pos_] = spo2, pulse, status
    out_pi = None
    if pi is not None:
        out_pi = np.full(total, np.nan)
        out_pi[pos_] = pi
    return (t, out_s, out_p, out_st, out_pi, interval, t0)


def split_row(line: str, delim: str) -> list[str]:
    """Splits a row on `delim`, honouring double quotes (`"11:20:29PM Jun 19, 2026",96`)."""
    if '"' not in line:
        return line.split(delim)
    try:  # the csv module's C parser: the same rules ("" inside quotes is a quote), faster
        return next(csv.reader((line,), delimiter=delim))
    except (csv.Error, StopIteration):  # a NUL or a stray line break: no row to split
        return [line]


def stamp_from_name(name: str) -> float | None:
    """A session start `YYYYMMDDHHMMSS` in a file name (`O2Ring S_20260619232029.csv`) → naive
    seconds, or None."""
    m = re.search(r"(?<!\d)(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?!\d)", name)
    if m is None:
        m = re.search(r"(\d{4})-(\d{2})-(\d{2})[ _T](\d{2})[:.-]?(\d{2})[:.-]?(\d{2})", name)
    if m is None:
        return None
    y, mo, d, h, mi, s = (int(g) for g in m.groups())
    try:
        return day_seconds(y, mo, d) + _hms(str(h), f"{mi:02d}", f"{s:02d}", None, None)
    except ValueError:
        return None


def finish(path: Path, fmt: str, cols: Columns, kind: str | None, *,
           interval: float | None = None, device: str = "", interrupted: bool = False,
           header: dict[str, object] | None = None, gap: Status = GAP,
           status: np.ndarray | None = None, notes: list[str] | None = None) -> Recording:
    """Columns of timestamped rows → a Recording on an even timeline (holes filled as gaps).

    `gap` is the flag of a row with neither value (the format's reason, GAP when it gives
    none); `status`, when the file has its own flags column, is OR-ed in (a flag that says
    why there is no value then replaces `gap`)."""
    if not len(cols):
        raise FormatError(path, "no samples in the file")
    # numpy views of the growable columns: no copy; cleaned and shifted in place
    ts = np.frombuffer(cols.ts, dtype=np.float64)
    s, p, st = clean_vitals(np.frombuffer(cols.spo2, dtype=np.float64),
                            np.frombuffer(cols.pulse, dtype=np.float64), gap=gap)
    if status is not None:
        given = np.asarray(status, dtype=np.int32)
        why = (given & int(INVALIDATING)) != 0  # the file names the reason: no guess needed
        st[why] &= ~int(gap)
        st |= given
    mark_startup(st, s, p, gap)
    pi = None
    if cols.pi is not None:
        pi_raw = np.frombuffer(cols.pi, dtype=np.float64)
        pi = np.where((pi_raw > 0) & (pi_raw <= 30), pi_raw, np.nan)
    t, s, p, st, pi, iv, t0 = timeline(ts, s, p, st, pi, interval)
    start: float | None
    hdr: dict[str, object] = dict(header or {})
    naive = False
    if kind == "abs":
        start = t0
    elif kind == "naive":
        start, naive = naive_to_epoch(t0), True
        hdr.setdefault("time_zone", "local wall clock of the device (no zone in the file)")
    else:
        ns = stamp_from_name(path.name)
        start = naive_to_epoch(ns) if ns is not None else None
        naive = ns is not None
        if kind == "clock" and ns is None:
            hdr.setdefault("note", "clock times without a date: start date unknown")
    filled = len(t) - len(ts)
    if filled:
        hdr["gap_samples_inserted"] = filled
    return Recording.from_arrays(path, fmt, t, s, p, st, pi, start_wall=start, interval=iv,
                                 device=device, source=path.name, header=hdr,
                                 interrupted=interrupted, start_naive=naive,
                                 notes=list(notes or ()))


def device_from_name(name: str) -> str:
    """`Checkme O2 Max _20260626001655.csv` → `Checkme O2 Max`."""
    stem = name.rsplit(".", 1)[0]
    if "_" in stem and stamp_from_name(stem.rsplit("_", 1)[1]) is not None:
        return stem.rsplit("_", 1)[0].strip(" _")
    return ""


# ------------------------------------------------------------------------------------------
# The fast path: a block of rows parsed column-wise. Splitting stays in Python (str.split is
# C code), but values go through one C-level `map(float, …)` per column and time stamps of a
# fixed layout are decoded with numpy from their code points, instead of a regex and a few
# int() calls per row. Anything unusual in a block returns None and the caller re-reads that
# block row by row, which also finds the exact line of a real error.

_REPL = {m: "nan" for m in MISSING} | {m.upper(): "nan" for m in MISSING} | {
    "NaN": "nan", " --": "nan", " - -": "nan", "-- ": "nan"}
_MONTH_KEYS = np.array(sorted((ord(m[0]) << 16) | (ord(m[1]) << 8) | ord(m[2]) for m in MONTHS))
_MONTH_OF_KEY = {(ord(m[0]) << 16) | (ord(m[1]) << 8) | ord(m[2]): i for m, i in MONTHS.items()}
_MONTH_NUM = np.array([_MONTH_OF_KEY[int(k)] for k in _MONTH_KEYS])


def floats(col: list[str]) -> np.ndarray:
    """A column of numeric cells; missing markers → NaN. ValueError for anything else."""
    return np.fromiter(map(float, map(_REPL.get, col, col)), dtype=np.float64, count=len(col))


def vec_stamps(strings: list[str], template: str) -> np.ndarray | None:
    """Naive seconds for time stamps that all follow `template` exactly, else None.

    Letters: h hour, m minute, s second, d day, o month number, y year, n month name
    (3 letters), a A/P of AM/PM, x any character; anything else must match literally. Without
    a date (no y) the result is seconds of the day.
    """
    n = len(strings)
    if n == 0:
        return None
    arr = np.array(strings)
    width = len(template)
    if arr.dtype.kind != "U" or arr.dtype.itemsize // 4 != width:
        return None
    return code_stamps(arr.view(np.uint32).reshape(n, width), template)


def code_stamps(cp: np.ndarray, template: str) -> np.ndarray | None:
    """`vec_stamps` on a matrix of character codes, one row per time stamp (code points of
    strings, or the bytes of an ASCII file)."""
    return column_stamps(lambda i: cp[:, i], template)


_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int32)


def column_stamps(col: Callable[[int], np.ndarray], template: str) -> np.ndarray | None:
    """`vec_stamps` from the codes at each character position (`col(i)`: one code per time
    stamp), for stamps of a fixed layout. Only the positions the template uses are read, and
    the date becomes a day number with integer arithmetic (days from the civil date)."""
    cache: dict[int, np.ndarray] = {}

    def at(i: int) -> np.ndarray:
        v = cache.get(i)
        if v is None:
            v = cache[i] = col(i)
        return v

    def number(letter: str) -> np.ndarray | None:
        pos = [i for i, c in enumerate(template) if c == letter]
        if not pos:
            return None
        out = None
        for i in pos:
            x = at(i).astype(np.int32) - 48
            if x.min() < 0 or x.max() > 9:
                raise ValueError("not a digit")
            out = x if out is None else out * 10 + x
        return out

    try:
        for i, ch in enumerate(template):
            if ch not in "hmsdoynax" and not np.all(at(i) == ord(ch)):
                return None
        h, mi, s = number("h"), number("m"), number("s")
        if h is None or mi is None:
            return None
        if s is None:
            s = np.zeros_like(h)
        if "a" in template:
            ap = at(template.index("a")) | 0x20
            if np.any((ap != ord("a")) & (ap != ord("p"))) or np.any((h < 1) | (h > 12)):
                return None
            h = h % 12 + np.where(ap == ord("p"), 12, 0)
        if h.max() > 23 or mi.max() > 59 or s.max() > 60:
            return None
        secs = (h * 3600 + mi * 60 + s).astype(np.float64)
        y = number("y")
        if y is None:
            return secs
        d = number("d")
        if d is None:
            return None
        if "n" in template:
            i0 = template.index("n")
            key = ((at(i0).astype(np.int32) | 0x20) << 16 | (at(i0 + 1).astype(np.int32) | 0x20)
                   << 8 | (at(i0 + 2).astype(np.int32) | 0x20))
            j = np.clip(np.searchsorted(_MONTH_KEYS, key), 0, 11)
            if np.any(_MONTH_KEYS[j] != key):
                return None
            mo = _MONTH_NUM[j].astype(np.int32)
        else:
            mo = number("o")
            if mo is None:
                return None
        if (mo.min() < 1 or mo.max() > 12 or d.min() < 1 or y.min() < 1900
                or y.max() > 2999):
            return None
        leap = (y % 4 == 0) & ((y % 100 != 0) | (y % 400 == 0))
        if np.any(d > _DAYS_IN_MONTH[mo] + ((mo == 2) & leap)):  # 31 June and the like
            return None
        # days since 1970-01-01 of the civil date (the proleptic Gregorian calendar)
        yy = y - (mo <= 2)
        era = yy // 400
        yoe = yy - era * 400
        doy = (153 * np.where(mo > 2, mo - 3, mo + 9) + 2) // 5 + d - 1
        days = era * 146097 + yoe * 365 + yoe // 4 - yoe // 100 + doy - 719468
        return days.astype(np.float64) * 86400.0 + secs
    except ValueError:
        return None


Fast = Callable[[list[str]], tuple[np.ndarray, list[np.ndarray]] | None]
Slow = Callable[[str], tuple[float, float, float, float]]


class Tail:
    """Rows that could not be read, held until the rest of the file shows what they are.

    A good row after them makes the first one an error (a damaged file, named by its line).
    At the very end, rows that are not shaped like data (fewer cells than a data row:
    "Collection Halted", "End of data") are a trailer: skipped, and counted in a note, so a
    footer does not throw away a whole recording; a data-shaped row that cannot be read is
    still an error. A last line with no line end is a half-written row (the writer was
    stopped): dropped, and the recording marked interrupted. With no good row at all, the
    first bad row is the error."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows: list[tuple[FormatError, str, bool]] = []
        self.good_rows = False

    def bad(self, err: FormatError, text: str, trailer_like: bool) -> None:
        self.rows.append((err, text.strip()[:60], trailer_like))

    def good(self) -> None:
        if self.rows:
            raise self.rows[0][0]
        self.good_rows = True

    @property
    def pending(self) -> bool:
        return bool(self.rows)

    def end(self, complete: bool) -> tuple[bool, list[str]]:
        """(interrupted, notes) once the file has been read to its end."""
        if not self.rows:
            return False, []
        if not self.good_rows:
            raise self.rows[0][0]
        rows = self.rows if complete else self.rows[:-1]  # the last: half-written
        for err, _text, trailer_like in rows:
            if not trailer_like:
                raise err
        notes = []
        if rows:
            err, text, _ = rows[0]
            n = len(rows)
            notes.append(f"skipped {n} row{'s' if n > 1 else ''} after the last reading "
                         f"(a trailer; from line {err.line}: {text!r})")
        return not complete, notes


@dataclass
class RowsRead:
    """How `read_rows` ended: a half-written last line dropped, trailer rows skipped."""

    interrupted: bool
    notes: list[str]


FastBytes = Callable[[bytes], tuple[np.ndarray, list[np.ndarray]] | None]


def read_rows(tl: TextLines, cols: Columns, header: Callable[[str], None] | None,
              slow: Slow, fast: Fast | None, cells: int = 3, delim: str = ",",
              fast_bytes: FastBytes | None = None) -> RowsRead:
    """Feeds every data row of `tl` into `cols`: block-wise from the raw bytes through
    `fast_bytes` when it can (see `_rows`), else from the decoded lines through `fast`, else
    row by row through `slow`. `header(line)` checks line 1 (raising FormatError).
    A data row has at least `cells` cells; rows that cannot be read are an error unless they
    end the file with fewer cells than that (a trailer, see `Tail`)."""
    path = tl.path
    prev = -np.inf
    tail = Tail(path)
    seen = False

    def take(ts: np.ndarray, vals: list[np.ndarray]) -> bool:
        nonlocal prev
        if not (ts[0] >= prev and (len(ts) < 2 or bool(np.all(ts[1:] >= ts[:-1])))):
            return False
        cols.ts.frombytes(ts.tobytes())
        cols.spo2.frombytes(vals[0].tobytes())
        cols.pulse.frombytes(vals[1].tobytes())
        if cols.pi is not None:
            pi = vals[2] if len(vals) > 2 else np.full(len(ts), np.nan)
            cols.pi.frombytes(pi.tobytes())
        prev = float(ts[-1])
        tail.good_rows = True
        return True

    for block in tl.blocks():
        first = block.first
        start = 0
        if not seen:
            seen = True
            if header is not None:
                lines = block.lines()
                if not lines:
                    continue
                header(lines[0])
                start = 1
        if fast_bytes is not None and block.data is not None and not tail.pending:
            data = block.data
            if start:
                cut = data.find(b"\n") + 1
                data = data[cut:] if cut else b""
            if data:
                res = fast_bytes(data)
                if res is not None and len(res[0]) and take(*res):
                    continue
        lines = block.lines()
        body = lines[start:] if start else lines
        if not tail.pending and fast is not None and body:
            res = fast(body)
            if res is not None and take(*res):
                continue
        for i, line in enumerate(body):
            if not line.strip():
                continue
            try:
                ts_, s, p, pi_ = slow(line)
            except (ValueError, IndexError) as e:
                tail.bad(FormatError(path, f"bad row: {e or 'missing field'}",
                                     line=first + start + i), line,
                         trailer_like=len(split_row(line, delim)) < cells)
                continue
            tail.good()
            if ts_ < prev:  # a readable row out of order: the file is damaged, not trailed
                raise FormatError(path, "bad row: time goes backwards", line=first + start + i)
            cols.add(ts_, s, p, pi_)
            prev = ts_
    if not seen:
        raise FormatError(path, "empty file")
    interrupted, notes = tail.end(tl.complete)
    return RowsRead(interrupted, notes)
