"""The timestamped rows of a text table into a `Recording`: rows are collected into
`array('d')` columns, never into per-row Python objects, so a 100 MB export costs a few bytes
per sample, not a few hundred; a damaged row is named by its line, a trailer is skipped.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from drivers.errors import FormatError
from drivers.formats._base import GAP, Recording
from drivers.formats._cells import NAN, split_row
from drivers.formats._text_lines import TextLines
from drivers.formats._timeline import clean_vitals, mark_startup, timeline
from drivers.formats._timestamps import naive_to_epoch, stamp_from_name
from drivers.reading import INVALIDATING, Status


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
