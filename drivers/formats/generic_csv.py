"""Any CSV / TSV / semicolon table with an SpO2 column, from any logger or spreadsheet.

The header row is found even after a preamble by its column names (SpO2, Oxygen Level, SaO2,
Pulse, PR, HR, Pulse Rate, PI, Time, Date, …, units in brackets ignored). Time stamps may be
clock times (a `Date` column completes them; past midnight they roll over), elapsed `mm:ss` or
seconds, ISO 8601 or epoch seconds / milliseconds. A jump in time becomes a run of gap samples.
A file without a usable header is read with an explicit mapping:
`spo2=2,pulse=3,interval=1s` (1-based columns; also `time=`, `date=`, `pi=`, `skip=` lines
to skip, `delimiter=tab|comma|semicolon|space`).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from drivers.errors import FormatError
from drivers.formats._base import FormatInfo, Recording
from drivers.formats._text import (
    Columns,
    Progress,
    TextLines,
    TimeParser,
    finish,
    floats,
    head_lines,
    number,
    parse_date,
    split_row,
    vec_stamps,
)

NAME = "generic-csv"
HEADER_SCAN = 200
ALIASES: dict[str, tuple[str, ...]] = {
    "spo2": ("spo2", "sp02", "spo2%", "oxygenlevel", "sao2", "o2sat", "oxygensaturation",
             "saturation", "spo2pct", "pctspo2", "spo", "sat"),
    "pulse": ("pulse", "pr", "hr", "pulserate", "heartrate", "bpm", "prbpm", "pulsebpm",
              "rate"),
    "pi": ("pi", "perfusionindex", "perfusion"),
    "time": ("time", "timestamp", "datetime", "dateandtime", "datetimestamp", "clock",
             "elapsed", "elapsedtime", "seconds", "sec", "t", "times", "epoch", "unixtime"),
    "date": ("date", "day"),
}
_DELIMS = {"tab": "\t", "comma": ",", "semicolon": ";", "space": " ", "\\t": "\t",
           ",": ",", ";": ";"}


_UNITS = re.compile(r"[(\[][^)\]]*[)\]]")  # units: "SpO2 (%)", "Time [s]"
_NOT_NAME = re.compile(r"[^a-z0-9]")
_SPO2_NAMES = frozenset(ALIASES["spo2"])


def _norm(cell: str) -> str:
    return _NOT_NAME.sub("", _UNITS.sub("", cell.strip().strip('"').lower()))


def _delim(line: str) -> str:
    counts = {d: line.count(d) for d in ("\t", ";", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else " "


def _split(line: str, d: str) -> list[str]:
    return line.split() if d == " " else split_row(line, d)


def _header_map(line: str) -> tuple[dict[str, int], str] | None:
    d = _delim(line)
    cells = [_norm(c) for c in _split(line, d)]
    if _SPO2_NAMES.isdisjoint(cells):  # most lines of most files: no header here
        return None
    found: dict[str, int] = {}
    for role, names in ALIASES.items():
        for name in names:  # the earlier alias wins: PULSE over HR
            j = next((j for j, c in enumerate(cells) if c == name and j not in found.values()),
                     None)
            if j is not None:
                found[role] = j
                break
    return (found, d) if "spo2" in found else None


def sniff(head: bytes, name: str) -> int:
    for line in head_lines(head, 60):
        if _header_map(line):
            return 30
    return 0


class Mapping:
    """An explicit `--columns` mapping."""

    def __init__(self, text: str, path: Path) -> None:
        self.cols: dict[str, int] = {}
        self.interval: float | None = None
        self.skip = 0
        self.delim: str | None = None
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, val = part.partition("=")
            key, val = key.strip().lower(), val.strip()
            try:
                if not sep:
                    raise ValueError("expected KEY=VALUE")
                if key in ("spo2", "pulse", "pi", "time", "date"):
                    n = int(val)
                    if n < 1:
                        raise ValueError("columns are counted from 1")
                    self.cols[key] = n - 1
                elif key == "interval":
                    self.interval = _seconds(val)
                elif key == "skip":
                    self.skip = int(val)
                elif key in ("delimiter", "delim", "sep"):
                    if val.lower() not in _DELIMS:
                        raise ValueError("use tab, comma, semicolon or space")
                    self.delim = _DELIMS[val.lower()]
                else:
                    raise ValueError("unknown key (spo2, pulse, pi, time, date, interval, "
                                     "skip, delimiter)")
            except ValueError as e:
                raise FormatError(path, f"bad --columns entry {part!r}: {e}") from None
        if "spo2" not in self.cols:
            raise FormatError(path, "--columns needs spo2=N (the 1-based SpO2 column)")


def _seconds(v: str) -> float:
    m = re.fullmatch(r"([\d.]+)\s*(ms|s|sec|min|m|hz)?", v.lower())
    if not m:
        raise ValueError(f"bad interval {v!r} (e.g. 1s, 500ms, 1min)")
    x = float(m.group(1))
    unit = m.group(2) or "s"
    x = {"ms": x / 1000, "s": x, "sec": x, "min": x * 60, "m": x * 60,
         "hz": 1 / x if x else 0.0}[unit]
    if not (x > 0 and math.isfinite(x)):
        raise ValueError("interval must be positive")
    return x


def read(path: Path, progress: Progress = None, columns: str | None = None) -> Recording:
    path = Path(path)
    mapping = Mapping(columns, path) if columns is not None else None
    tl = TextLines(path, progress)
    tp = TimeParser(dayfirst=None)
    dp = tp  # the date column shares the DD/MM decision
    cols: Columns | None = None
    roles: dict[str, int] = {}
    d = ","
    index = 0
    prev = -math.inf
    day_offset = 0.0
    dec_comma = False
    bad: FormatError | None = None
    header_line = 0
    for first, lines in tl:
        fast_ok = cols is not None and bad is None and not dec_comma
        for i, line in enumerate(lines):
            ln = first + i
            if bad is not None:
                raise bad
            if cols is None:
                if mapping is not None:
                    if ln <= mapping.skip or not line.strip():
                        continue
                    d = mapping.delim or _delim(line)
                    roles = dict(mapping.cols)
                    cells = _split(line, d)
                    cols = Columns(with_pi="pi" in roles)
                    dec_comma = d != "," and "," in line
                    j = roles["spo2"]
                    if j < len(cells) and _is_text(cells[j]):
                        header_line = ln
                        continue  # a header row the mapping overrides
                else:
                    if ln > HEADER_SCAN:
                        continue
                    hm = _header_map(line)
                    if hm is None:
                        continue
                    roles, d = hm
                    header_line = ln
                    cols = Columns(with_pi="pi" in roles)
                    continue
            if fast_ok and i == 0 and len(lines) > 1:
                res = _fast(lines, d, roles, tp, index, prev, day_offset)
                if res is not None:
                    ts_arr, vals, day_offset = res
                    cols.ts.frombytes(ts_arr.tobytes())  # type: ignore[union-attr]
                    cols.spo2.frombytes(vals[0].tobytes())  # type: ignore[union-attr]
                    cols.pulse.frombytes(vals[1].tobytes())  # type: ignore[union-attr]
                    if cols.pi is not None:  # type: ignore[union-attr]
                        cols.pi.frombytes(vals[2].tobytes())  # type: ignore[union-attr]
                    index += len(ts_arr)
                    prev = float(ts_arr[-1])
                    break
            if not line.strip():
                continue
            f = _split(line, d)
            try:
                if dec_comma or (d != "," and "," in line):
                    dec_comma = True
                    f = [c.replace(",", ".") for c in f]
                s = _cell(f, roles["spo2"])
                p = _cell(f, roles.get("pulse"))
                pi = _cell(f, roles.get("pi"))
                if "time" in roles:
                    j = roles["time"]
                    if j >= len(f):
                        raise ValueError("row has no time cell")
                    ts = tp(f[j])
                    if "date" in roles and tp.kind == "clock":
                        ts += parse_date(f[roles["date"]], dp)
                    elif tp.kind == "clock":
                        ts += day_offset
                        if ts < prev - 43200:  # clock time past midnight
                            day_offset += 86400.0
                            ts += 86400.0
                    if ts < prev:
                        raise ValueError("time goes backwards")
                    prev = ts
                else:
                    ts = float(index)
                cols.add(ts, s, p, pi)  # type: ignore[union-attr]
                index += 1
            except ValueError as e:
                bad = FormatError(path, f"bad row: {e}", line=ln)
        if cols is None and mapping is None and first + len(lines) > HEADER_SCAN:
            break  # no header within the scan window
    interrupted = False
    if bad is not None:
        if tl.complete:
            raise bad
        interrupted = True
    if cols is None:
        if mapping is not None:
            raise FormatError(path, "empty file")
        raise FormatError(path, f"no header row with an SpO2 column in the first {HEADER_SCAN} "
                                "lines (name the columns: --columns spo2=N,pulse=M,interval=1s)")
    hdr: dict[str, object] = {"columns": {k: v + 1 for k, v in roles.items()},
                              "header_line": header_line or None}
    interval = mapping.interval if mapping else None
    kind = tp.kind if "time" in roles else "elapsed"
    if kind == "clock" and "date" in roles:
        kind = "naive"
    if "time" not in roles:
        interval = interval or 1.0
        if not (mapping and mapping.interval):
            hdr["note"] = "no time column: one sample a second assumed"
        np.frombuffer(cols.ts, dtype=np.float64)[:] *= interval
    if tp.dayfirst is None and kind == "naive":
        hdr["date_order"] = "DD/MM assumed (no day above 12 to tell)"
    return finish(path, NAME, cols, kind, interval=interval, interrupted=interrupted,
                  header=hdr)


def _fast(lines: list[str], d: str, roles: dict[str, int], tp: TimeParser, index: int,
          prev: float, day_offset: float) -> tuple[np.ndarray, list[np.ndarray], float] | None:
    """A whole block column-wise, for the common plain layouts; None → row by row."""
    try:
        if any('"' in ln or not ln.strip() for ln in lines):
            return None
        fields = [ln.split() for ln in lines] if d == " " else [ln.split(d) for ln in lines]
        width = max(roles.values()) + 1
        if min(map(len, fields)) < width:
            return None

        def col(role: str) -> np.ndarray:
            j = roles.get(role)
            if j is None:
                return np.full(len(fields), np.nan)
            return floats([f[j] for f in fields])

        vals = [col("spo2"), col("pulse"), col("pi")]
        if "time" not in roles:
            return np.arange(index, index + len(fields), dtype=np.float64), vals, day_offset
        times = [f[roles["time"]].strip() for f in fields]
        if tp.layout == "number":
            ts = floats(times) * tp.scale
            if np.any(np.isnan(ts)):
                return None
        elif tp.layout in ("iso", "isoz"):
            tpl = "yyyy-oo-ddxhh:mm:ss" + ("Z" if tp.layout == "isoz" else "")
            ts = vec_stamps(times, tpl)
        elif tp.layout == "clock":
            ts = vec_stamps(times, "hh:mm:ss")
            if ts is not None and "date" in roles:
                dates = [f[roles["date"]].strip() for f in fields]
                day = vec_stamps([x + " 00:00:00" for x in dates], "yyyy-oo-dd hh:mm:ss")
                if day is None and tp.dayfirst is not None:
                    tpl = "dd/oo/yyyy hh:mm:ss" if tp.dayfirst else "oo/dd/yyyy hh:mm:ss"
                    day = vec_stamps([x + " 00:00:00" for x in dates], tpl)
                ts = None if day is None else ts + day
            elif ts is not None:  # clock times only: roll over at midnight
                ts = ts + day_offset
                steps = np.diff(np.concatenate(([prev if prev > -np.inf else ts[0]], ts)))
                wraps = np.cumsum(steps < -43200) * 86400.0
                ts = ts + wraps
                day_offset += float(wraps[-1])
        else:
            return None
        if ts is None or ts[0] < prev or (len(ts) > 1 and np.any(np.diff(ts) < 0)):
            return None
        return ts, vals, day_offset
    except (ValueError, IndexError):
        return None


def _cell(f: list[str], j: int | None) -> float:
    if j is None or j >= len(f):
        return math.nan
    return number(f[j])


def _is_text(cell: str) -> bool:
    try:
        number(cell)
        return False
    except ValueError:
        return True


FORMAT = FormatInfo(
    name=NAME, description="any CSV/TSV table with an SpO2 column (header found by name, or "
                           "--columns)",
    extensions=(".csv", ".tsv", ".txt"), sniff=sniff, read=read,
    options=("progress", "columns"),
)
