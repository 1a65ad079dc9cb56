"""Any CSV / TSV / semicolon table with an SpO2 column, from any logger or spreadsheet.

The header row is found even after a preamble by its column names (SpO2, Oxygen Level, SaO2,
Pulse, PR, HR, Pulse Rate, PI, Time, Date, …; units in brackets, a unit word such as
`spo2_percent` and a numbered suffix such as `SpO2 3` are allowed). Time stamps may be clock
times (a `Date` column completes them; past midnight they roll over), elapsed `mm:ss` or
seconds, ISO 8601 or epoch seconds / milliseconds. A jump in time becomes a run of gap samples.

Several SpO2 columns (a study file with five oximeters: `SpO2 1` … `SpO2 5`): the first one
is read, with the pulse and PI columns of the same number when there are any, and a note
says which and lists the others (`--columns spo2=N` picks another). Rows that cannot be read
at the end of the file are a trailer (skipped and counted). A `flags` column of Status names
(what `oxi-assist decode` writes) keeps each row's reason, and rows marked `wave` = 1 (decode's
waveform-only packets) are not vitals.

A file without a usable header is read with an explicit mapping:
`spo2=2,pulse=3,interval=1s` (1-based columns; also `time=`, `date=`, `pi=`, `skip=` lines
to skip, `delimiter=tab|comma|semicolon|space`). A table no reader recognises gets an error
that lists its columns and the `--columns` line that would read it.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from drivers.errors import FormatError
from drivers.formats._base import FormatInfo, Recording
from drivers.formats._cells import floats, number, split_row
from drivers.formats._text_lines import Progress, TextLines, head_lines
from drivers.formats._text_rows import Columns, Tail, finish
from drivers.formats._timestamps import TimeParser, parse_date, vec_stamps
from drivers.reading import Status

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
_INDEX = re.compile(r"[\s_#.-]+(\d{1,3})$")  # "SpO2 3", "spo2_2", "HR #1"
#: unit words written into a column's name ("spo2_percent", "pulse_bpm", "SpO2 pct")
_UNIT_WORDS = ("percent", "pct", "perc", "bpm", "perminute", "permin")
_SPO2_NAMES = frozenset(ALIASES["spo2"])
#: columns `oxi-assist decode` writes besides the vitals
FLAGS_NAME, WAVE_NAME = "flags", "wave"


def _norm(cell: str) -> str:
    return _NOT_NAME.sub("", _UNITS.sub("", cell.strip().strip('"').lower()))


def column_name(cell: str) -> tuple[str, int | None]:
    """A header cell → (its alias-comparable name, its number or None): `SpO2 (%)` →
    ("spo2", None), `SpO2 3` → ("spo2", 3), `spo2_percent` → ("spo2", None)."""
    raw = _UNITS.sub("", cell.strip().strip('"')).strip()
    idx = None
    m = _INDEX.search(raw)
    if m and _norm(raw[:m.start()]):
        raw, idx = raw[:m.start()], int(m.group(1))
    name = _norm(raw)
    if name not in _ALL_NAMES:
        for unit in _UNIT_WORDS:
            if name.endswith(unit) and name[:-len(unit)] in _ALL_NAMES:
                return name[:-len(unit)], idx
    return name, idx


_ALL_NAMES = frozenset(n for names in ALIASES.values() for n in names)


def _delim(line: str) -> str:
    counts = {d: line.count(d) for d in ("\t", ";", ",")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else " "


def _split(line: str, d: str) -> list[str]:
    return line.split() if d == " " else split_row(line, d)


def _role_of(name: str) -> tuple[str, int] | None:
    """(role, rank of the alias: lower is preferred) of a column name."""
    for role, names in ALIASES.items():
        if name in names:
            return role, names.index(name)
    return None


class HeaderMap:
    """The columns a header row names: role → 0-based column, the delimiter, and what was
    chosen among several SpO2 columns (for the note)."""

    def __init__(self, roles: dict[str, int], delim: str, cells: list[str],
                 choice: str = "") -> None:
        self.roles, self.delim, self.cells, self.choice = roles, delim, cells, choice


def _header_map(line: str) -> HeaderMap | None:
    d = _delim(line)
    raw = _split(line, d)
    names = [column_name(c) for c in raw]
    if _SPO2_NAMES.isdisjoint(n for n, _ in names):  # most lines of most files: no header
        return None
    # every column that names a role, with its number: [(role, rank, idx, column)]
    cand: dict[str, list[tuple[int, int | None, int]]] = {}
    for j, (name, idx) in enumerate(names):
        r = _role_of(name)
        if r is not None:
            cand.setdefault(r[0], []).append((r[1], idx, j))
    spo2 = cand["spo2"]
    found: dict[str, int] = {}
    choice = ""
    first = min(spo2, key=lambda c: c[2])  # the leftmost SpO2 column
    found["spo2"] = first[2]
    if len(spo2) > 1:
        others = ", ".join(f"{j + 1} {raw[j].strip()!r}" for _r, _i, j in spo2
                           if j != first[2])
        choice = (f"{len(spo2)} SpO2 columns: reading column {first[2] + 1} "
                  f"{raw[first[2]].strip()!r} (the first; the others are {others}; choose "
                  "one with --columns spo2=N,…)")
    for role in ("pulse", "pi", "time", "date"):
        options = cand.get(role, [])
        if not options:
            continue
        if first[1] is not None:  # a numbered SpO2: its own number, or an unnumbered column
            options = ([c for c in options if c[1] == first[1]]
                       or [c for c in options if c[1] is None])
            if not options:
                continue  # only other oximeters' columns: none of them is this one's
        best = min(options, key=lambda c: (c[0], c[2]))  # PULSE over HR, then leftmost
        if best[2] not in found.values():
            found[role] = best[2]
    norm = [n for n, _ in names]
    for role in (FLAGS_NAME, WAVE_NAME):
        if role in norm:
            found[role] = norm.index(role)
    return HeaderMap(found, d, raw, choice)


def sniff(head: bytes, name: str) -> int:
    for line in head_lines(head, 60):
        if _header_map(line):
            return 30
    return 0


def unclaimed(head: bytes, name: str) -> str | None:
    """For a text table no reader recognises: the columns it has and a `--columns` line that
    would read it (guessed from the values of the first rows), or None when it is not a
    table at all."""
    lines = [ln for ln in head_lines(head, 40) if ln.strip()]
    if len(lines) < 2 or lines[0].lstrip().startswith(("{", "[", "<")):
        return None  # too short, or JSON / XML: not a table
    d = _delim(lines[1])
    first = _split(lines[0], d)
    if len(first) < 2:
        return None
    rows = [_split(ln, d) for ln in lines[1:21]]
    titled = any(c.strip() and not _data_like(c) for c in first)
    data = rows if titled else [first, *rows]
    width = len(first)
    guess: dict[str, int] = {}
    for j in range(width):
        vals = [r[j].strip() for r in data if j < len(r) and r[j].strip()]
        if not vals:
            continue
        nums = []
        for v in vals:
            try:
                nums.append(number(v))
            except ValueError:
                break
        if len(nums) < len(vals):
            if "time" not in guess:
                try:
                    tp = TimeParser(dayfirst=None)
                    for v in vals:
                        tp(v)
                    guess["time"] = j + 1
                except ValueError:
                    pass
            continue
        ok = [x for x in nums if x == x]
        if not ok:
            continue
        if "spo2" not in guess and all(50 <= x <= 100 for x in ok) and max(ok) > 80:
            guess["spo2"] = j + 1
        elif "pulse" not in guess and all(20 <= x <= 300 for x in ok):
            guess["pulse"] = j + 1
    shown = ", ".join(f"{j + 1} {c.strip()!r}" for j, c in enumerate(first)) if titled \
        else f"{width} unnamed"
    if "spo2" in guess:
        line = ",".join(f"{k}={guess[k]}" for k in ("spo2", "pulse", "time") if k in guess)
        if "time" not in guess:
            line += ",interval=1s"
    else:
        line = "spo2=N,pulse=M,time=T"
    return (f"no reader recognises this table (columns: {shown}); name the columns: "
            f"--columns {line}")


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
    tail = Tail(path)
    header_line = 0
    notes: list[str] = []
    flags: list[int] = []  # per row, when the file has a flags column
    flag_cache: dict[str, int] = {"": 0}
    head_text = b""
    for first, lines in tl:
        if first == 1 and lines:
            head_text = "".join(ln + "\n" for ln in lines[:40]).encode("utf-8", "replace")
        plain = cols is not None and FLAGS_NAME not in roles and WAVE_NAME not in roles
        fast_ok = plain and not tail.pending and not dec_comma
        for i, line in enumerate(lines):
            ln = first + i
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
                    roles, d = hm.roles, hm.delim
                    if hm.choice:
                        notes.append(hm.choice)
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
                    tail.good_rows = True
                    break
            if not line.strip():
                continue
            f = _split(line, d)
            try:
                if dec_comma or (d != "," and "," in line):
                    dec_comma = True
                    f = [c.replace(",", ".") for c in f]
                if WAVE_NAME in roles and _cell_text(f, roles[WAVE_NAME]) == "1":
                    continue  # a waveform-only packet: not a vitals row
                s = _cell(f, roles["spo2"])
                p = _cell(f, roles.get("pulse"))
                pi = _cell(f, roles.get("pi"))
                st = 0
                if FLAGS_NAME in roles:
                    txt = _cell_text(f, roles[FLAGS_NAME])
                    st = flag_cache.get(txt, -1)
                    if st < 0:
                        st = flag_cache[txt] = int(Status.from_names(txt.split("|")))
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
                            ts += 86400.0
                            day_offset += 86400.0
                else:
                    ts = float(index)
            except ValueError as e:
                tail.bad(FormatError(path, f"bad row: {e}", line=ln), line,
                         trailer_like=len(f) <= roles["spo2"])
                continue
            tail.good()
            if ts < prev:
                raise FormatError(path, "bad row: time goes backwards", line=ln)
            prev = ts
            cols.add(ts, s, p, pi)  # type: ignore[union-attr]
            if FLAGS_NAME in roles:
                flags.append(st)
            index += 1
        if cols is None and mapping is None and first + len(lines) > HEADER_SCAN:
            break  # no header within the scan window
    if cols is None:
        if mapping is not None:
            raise FormatError(path, "empty file")
        hint = unclaimed(head_text, path.name)
        if hint is None:
            hint = "no header row with an SpO2 column (name the columns: --columns " \
                   "spo2=N,pulse=M,interval=1s)"
        raise FormatError(path, hint)
    interrupted, tail_notes = tail.end(tl.complete)
    notes += tail_notes
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
    status = np.asarray(flags, dtype=np.int32) if FLAGS_NAME in roles else None
    return finish(path, NAME, cols, kind, interval=interval, interrupted=interrupted,
                  header=hdr, status=status, notes=notes)


def _cell_text(f: list[str], j: int) -> str:
    return f[j].strip().strip('"').strip() if j < len(f) else ""


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


def _data_like(cell: str) -> bool:
    """A cell that reads as a number or a time stamp (so its row is data, not names)."""
    if not _is_text(cell):
        return True
    try:
        TimeParser(dayfirst=None)(cell)
        return True
    except ValueError:
        return False


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
