"""Time stamps in recordings: one cell at a time (`TimeParser`, which works out a column's
form from its first value), a whole column of a fixed layout at once (`vec_stamps`,
`column_stamps`: numpy on the character codes, no regex per row), and the session start that a
file's name carries.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable
from functools import lru_cache

import numpy as np

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


def device_from_name(name: str) -> str:
    """`Checkme O2 Max _20260626001655.csv` → `Checkme O2 Max`."""
    stem = name.rsplit(".", 1)[0]
    if "_" in stem and stamp_from_name(stem.rsplit("_", 1)[1]) is not None:
        return stem.rsplit("_", 1)[0].strip(" _")
    return ""

# ------------------------------------------------------------------------------------------
# Column-wise: time stamps of a fixed layout are decoded with numpy from their code points,
# instead of a regex and a few int() calls per row. Anything unusual returns None and the
# caller reads those rows one at a time, which also finds the exact line of a real error.


_MONTH_KEYS = np.array(sorted((ord(m[0]) << 16) | (ord(m[1]) << 8) | ord(m[2]) for m in MONTHS))
_MONTH_OF_KEY = {(ord(m[0]) << 16) | (ord(m[1]) << 8) | ord(m[2]): i for m, i in MONTHS.items()}
_MONTH_NUM = np.array([_MONTH_OF_KEY[int(k)] for k in _MONTH_KEYS])


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
