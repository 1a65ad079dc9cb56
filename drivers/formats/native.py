"""The native session format: JSON Lines, append-only, readable while being written.

Line 1 is a header (`format`, `version`, `source`, `device`, `start_wall`); then one JSON object
a line, `k` saying what it is: `r` reading, `link` link event, `alarm`, `event` (responder
actions and guide steps), and `end` when the writer closed cleanly. A crash leaves no `end`
(the session shows as interrupted) and possibly a half-written last line, which the reader
tolerates. The writer flushes at least once a second, so a kill loses at most the last second.
Documented for users in docs/FORMATS-native.md.
"""

from __future__ import annotations

import contextlib
import enum
import io
import json
import math
import os
from collections import deque
from itertools import repeat
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from drivers.errors import FormatError
from drivers.formats._base import FormatInfo, ReadingArrays, Recording
from drivers.reading import LinkEvent, LinkState, Reading, Status
from drivers.safe_files import open_input, open_private, os_reason

if TYPE_CHECKING:  # the clock module starts asyncio: only a writer of live sessions needs it
    from drivers.clock import Clock

MAGIC = "oxi-assist-session"
VERSION = 1
BLOCK = 65536  # readings formatted at a time when writing a whole recording
#: The longest line a session file may hold (a reading with a second of 1 kHz pleth is a few
#: kilobytes); a longer one is refused instead of being read into memory whole.
MAX_LINE = 1 << 20
#: The writer writes whenever this many records are waiting, whatever `flush_every` says.
FLUSH_LINES = 512
#: How many of the last records on disk the writer can give up to make room for an end record
#: after a failed write.
CUT_LINES = 64
#: How an `end` record written after a failed write starts its reason.
WRITE_FAILED = "write failed"


def _num(x: float | None, nd: int = 2) -> float | None:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return None
    r = round(float(x), nd)
    return int(r) if r == int(r) else r


def reading_to_obj(r: Reading) -> dict[str, Any]:
    o: dict[str, Any] = {"k": "r", "t": round(r.t, 4)}
    if r.spo2 is not None:
        o["spo2"] = _num(r.spo2, 1)
    if r.pulse is not None:
        o["pulse"] = _num(r.pulse, 1)
    if r.pi is not None:
        o["pi"] = _num(r.pi, 2)
    if r.status:
        o["st"] = r.status.names
    if r.pleth:
        o["pl"] = [_num(v, 1) for v in r.pleth]
        if r.pleth_rate:
            o["pr"] = _num(r.pleth_rate, 2)
    if r.wave_only:
        o["w"] = 1
    return o


def obj_to_reading(o: dict[str, Any]) -> Reading:
    def opt(key: str) -> float | None:
        v = o.get(key)
        if v is None:
            return None
        if not isinstance(v, int | float) or isinstance(v, bool):
            raise ValueError(f"{key} must be a number")
        return float(v)

    t = o.get("t")
    if not isinstance(t, int | float) or isinstance(t, bool) or not math.isfinite(t):
        raise ValueError("reading without a numeric time 't'")
    pl = o.get("pl") or ()
    if not isinstance(pl, list | tuple):
        raise ValueError("pl must be a list")
    status = Status.from_names(o.get("st") or ())
    spo2, pulse = opt("spo2"), opt("pulse")
    # an impossible number (a damaged or hand-edited file) is no reading, never a value
    if spo2 is not None and not 0 < spo2 <= 100:
        spo2, status = None, status | Status.POOR_SIGNAL
    if pulse is not None and not 0 < pulse <= 300:
        pulse, status = None, status | Status.POOR_SIGNAL
    return Reading(
        t=float(t), spo2=spo2, pulse=pulse, pi=opt("pi"),
        pleth=tuple(float(v) for v in pl), pleth_rate=opt("pr"),
        status=status, wave_only=bool(o.get("w", 0)),
    )


class Start(enum.Enum):
    """`start_wall=Start.NOW` (the default): the session starts now, by the writer's clock.
    Pass a time to say when it started, or None when nobody knows (a converted table with no
    dates): the header then says null rather than the moment of writing."""

    NOW = "now"


class SessionWriter:
    """Writes a session as it happens. File mode 0600: recordings are personal health data.

    Records are buffered and written whole at least every `flush_every` seconds (and whenever
    FLUSH_LINES are waiting), so the file on disk always ends at a record boundary
    (`self.written` bytes). When a write fails (a full disk), the file is cut back to a
    record boundary and, if the disk takes those few bytes, ended with an `end` record whose
    reason says so ("write failed: …"): the listing and the debrief then say the recording was
    cut by a write failure, not by a crash. The error is raised again so the session can tell
    the responder; `failed` keeps the reason."""

    def __init__(self, path: str | os.PathLike[str], *, source: str, device: str = "",
                 start_wall: float | Start | None = Start.NOW, clock: Clock | None = None,
                 flush_every: float = 1.0, extra: dict[str, Any] | None = None,
                 exclusive: bool = False) -> None:
        """`exclusive`: only create a new file (FileExistsError if `path` exists)."""
        self.path = Path(path)
        if clock is None:
            from drivers.clock import RealClock

            clock = RealClock()
        self._clock = clock
        self._flush_every = flush_every
        self._file = open_private(self.path, exclusive=exclusive)
        self._fd = self._file.fileno()
        self._pending: list[str] = []
        self.written = 0  # bytes on disk, all of them whole records
        self._starts: deque[int] = deque(maxlen=CUT_LINES)  # where the last records begin
        self.failed = ""
        self.closed = False
        self._last: dict[str, Any] = {}
        header: dict[str, Any] = {
            "format": MAGIC, "version": VERSION, "source": source, "device": device,
            "start_wall": self._clock.wall() if start_wall is Start.NOW else start_wall,
        }
        if extra:
            header.update(extra)
        self._write(header)
        self._flush()
        self._last_flush = self._clock.now()

    def _write(self, obj: dict[str, Any]) -> None:
        self._pending.append(json.dumps(obj, separators=(",", ":"), allow_nan=False))
        self._last = obj

    def _flush(self) -> None:
        if not self._pending:
            return
        lines, self._pending = self._pending, []
        data = ("\n".join(lines) + "\n").encode()
        try:
            write_all(self._fd, data)
        except OSError as e:
            self._cut(e)
            raise
        if self.written:  # where the last records begin (the header is never given up)
            tail = lines[-CUT_LINES:]
            pos = self.written + len(data) - sum(len(x.encode()) + 1 for x in tail)
            for line in tail:
                self._starts.append(pos)
                pos += len(line.encode()) + 1
        self.written += len(data)

    def _cut(self, e: OSError) -> None:
        """After a failed write: back to a whole record, far enough back that the end record
        saying why fits in the space that frees (the last second or so of records on disk is
        given up for it; the session still holds them), then closed."""
        self.failed = os_reason(e)
        t = self._last.get("t")
        t = float(t) if isinstance(t, int | float) and not isinstance(t, bool) else 0.0
        end = (json.dumps({"k": "end", "t": round(t, 4),
                           "reason": f"{WRITE_FAILED}: {self.failed}"},
                          separators=(",", ":")) + "\n").encode()
        cut = self.written
        for start in reversed(self._starts):
            cut = start
            if self.written - start >= len(end):
                break
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, cut)
            os.lseek(self._fd, cut, os.SEEK_SET)
            write_all(self._fd, end)
        self.closed = True
        with contextlib.suppress(OSError):
            self._file.close()

    def _record(self, obj: dict[str, Any]) -> None:
        if self.closed:
            return
        self._write(obj)
        now = self._clock.now()
        if now - self._last_flush >= self._flush_every or len(self._pending) >= FLUSH_LINES:
            self._flush()
            self._last_flush = now

    def reading(self, r: Reading) -> None:
        self._record(reading_to_obj(r))

    def lines(self, text: str) -> None:
        """Records already formatted as JSON lines (`reading_lines`): a whole recording's
        readings are written in blocks instead of one `json.dumps` each."""
        if self.closed or not text:
            return
        self._pending.extend(text.rstrip("\n").split("\n"))
        self._flush()
        self._last_flush = self._clock.now()

    def link(self, e: LinkEvent) -> None:
        o: dict[str, Any] = {"k": "link", "t": round(e.t, 4), "state": e.state.value}
        if e.reason:
            o["reason"] = e.reason
        if e.device:
            o["device"] = e.device
        self._record(o)

    def alarm(self, t: float, kind: str, priority: str, state: str, message: str = "",
              **data: Any) -> None:
        """`state` is what happened to the alarm: raised, cleared, acknowledged, paused."""
        self._record({"k": "alarm", "t": round(t, 4), "kind": kind, "priority": priority,
                      "state": state, "message": message, **data})

    def event(self, t: float, name: str, **data: Any) -> None:
        self._record({"k": "event", "t": round(t, 4), "name": name, **data})

    def flush(self) -> None:
        if not self.closed:
            self._flush()
            self._last_flush = self._clock.now()

    def close(self, t: float | None = None, reason: str = "") -> None:
        if self.closed:
            return
        end: dict[str, Any] = {"k": "end"}
        if t is not None:
            end["t"] = round(t, 4)
        if reason:
            end["reason"] = reason
        self._write(end)
        self._flush()
        self._file.close()
        self.closed = True

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def write_all(fd: int, data: bytes) -> None:
    """Writes all of `data` to `fd` (the one place recording bytes reach the disk)."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def sniff(head: bytes, name: str) -> int:
    h = head.lstrip(b"\xef\xbb\xbf").lstrip()
    if h.startswith(b"{") and MAGIC.encode() in h[:400]:
        return 100
    return 0


class _Readings:
    """The readings of a file as it is read: columns while they are plain vitals (a
    converted recording, a session without waveform), Reading objects once one carries a
    waveform or is waveform-only (a replay needs those as they were)."""

    def __init__(self) -> None:
        from array import array

        self.cols: tuple[Any, ...] | None = (array("d"), array("d"), array("d"), array("d"),
                                             array("i"))
        self.items: list[Reading] = []

    def add(self, o: dict[str, Any]) -> None:
        r = obj_to_reading(o)
        if self.cols is not None and not r.pleth and not r.wave_only:
            t, s, p, pi, st = self.cols
            nan = math.nan
            t.append(r.t)
            s.append(nan if r.spo2 is None else r.spo2)
            p.append(nan if r.pulse is None else r.pulse)
            pi.append(nan if r.pi is None else r.pi)
            st.append(int(r.status))
            return
        if self.cols is not None:  # from here on: objects, with the columns read so far
            self.items = list(self.columns())
            self.cols = None
        self.items.append(r)

    def columns(self) -> ReadingArrays:
        assert self.cols is not None
        t, s, p, pi = (np.frombuffer(a, dtype=np.float64) for a in self.cols[:4])
        st = np.asarray(self.cols[4], dtype=np.int32)
        return ReadingArrays(t, s, p, st, None if np.all(np.isnan(pi)) else pi)

    def result(self) -> Any:
        return self.columns() if self.cols is not None else self.items


def read(path: Path | str) -> Recording:
    """Reads a native session. A half-written last line (a crash mid-write) is dropped."""
    path = Path(path)
    rec = Recording(path=str(path), format="native")
    readings = _Readings()
    # a regular file only (a FIFO would never end), read a bounded line at a time
    f = io.TextIOWrapper(open_input(path, what="recording"), encoding="utf-8", newline="")
    with f:
        lineno = 0
        pending_error: FormatError | None = None
        try:
            while raw := f.readline(MAX_LINE + 1):
                lineno += 1
                if pending_error is not None:  # a bad line that was not the last one
                    raise pending_error
                if len(raw) > MAX_LINE:
                    raise FormatError(path, f"line longer than {MAX_LINE >> 20} MB: not a "
                                            "session record", line=lineno)
                line = raw.strip()
                if not line:
                    continue
                try:
                    obj = json.loads(line)
                    if not isinstance(obj, dict):
                        raise ValueError("not a JSON object")
                    if lineno == 1:
                        _header(rec, obj, path)
                    elif obj.get("k") == "r":
                        readings.add(obj)
                    else:
                        _apply(rec, obj)
                except FormatError:
                    raise
                except RecursionError:
                    if lineno == 1:
                        raise FormatError(path, "not an oxi-assist session file (no header "
                                                "line)", line=1) from None
                    raise FormatError(path, "bad record: nested too deeply",
                                      line=lineno) from None
                except (ValueError, TypeError) as e:
                    if lineno == 1:
                        raise FormatError(path, "not an oxi-assist session file "
                                                "(no header line)", line=1) from None
                    err = FormatError(path, f"bad record: {e}", line=lineno)
                    if raw.endswith("\n"):
                        raise err from None
                    pending_error = err  # tolerated if it turns out to be the last line
        except UnicodeDecodeError as e:
            raise FormatError(path, f"not UTF-8 text ({e.reason})", line=lineno + 1) from None
        if lineno == 0:
            raise FormatError(path, "empty file")
        if pending_error is not None:
            rec.interrupted = True
    rec.readings = readings.result()
    return rec


def _header(rec: Recording, obj: dict[str, Any], path: Path) -> None:
    if obj.get("format") != MAGIC:
        raise FormatError(path, "not an oxi-assist session file (no header line)", line=1)
    v = obj.get("version")
    if not isinstance(v, int) or v > VERSION:
        raise FormatError(path, f"unsupported session format version {v!r}", line=1)
    rec.header = obj
    rec.source = str(obj.get("source", ""))
    rec.device = str(obj.get("device", ""))
    sw = obj.get("start_wall")
    rec.start_wall = float(sw) if isinstance(sw, int | float) else None
    rec.start_naive = obj.get("start_naive") is True
    iv = obj.get("interval")
    rec.interval = float(iv) if isinstance(iv, int | float) else None
    rec.interrupted = True  # until an "end" record says otherwise


def _apply(rec: Recording, o: dict[str, Any]) -> None:
    k = o.get("k")
    if k == "r":
        rec.readings.append(obj_to_reading(o))
    elif k == "link":
        rec.links.append(LinkEvent(t=float(o["t"]), state=LinkState(o["state"]),
                                   reason=str(o.get("reason", "")),
                                   device=str(o.get("device", ""))))
    elif k == "alarm":
        rec.alarms.append(o)
    elif k == "event":
        rec.events.append(o)
    elif k == "end":
        why = str(o.get("reason", ""))
        rec.interrupted = why.startswith(WRITE_FAILED)  # cut short, though it says why
        if rec.interrupted:
            rec.header["cut"] = why
    else:
        raise ValueError(f"unknown record kind {k!r}")


_INT_TEXT = [str(i) for i in range(1001)]  # whole values as JSON writes them


def _value_texts(v: np.ndarray, key: str, nd: int) -> list[str]:
    """`,"key":value` per sample (JSON, as `reading_to_obj` writes it), "" where NaN."""
    have = ~np.isnan(v)
    if not have.any():
        return [""] * len(v)
    vals = v[have]
    pre = f',"{key}":'
    out = np.full(len(v), "", dtype=object)
    if np.all(vals == np.floor(vals)) and vals.min() >= 0 and vals.max() <= 1000:
        table = np.array([pre + x for x in _INT_TEXT], dtype=object)  # no call per value
        out[have] = table[vals.astype(np.int64)]
    else:
        out[have] = [pre + json.dumps(_num(x, nd)) for x in vals.tolist()]
    return out.tolist()


def _status_texts(st: np.ndarray) -> list[str]:
    """`,"st":[names]` per sample, "" for none; each combination spelled once."""
    texts: dict[int, str] = {0: ""}
    out = []
    for x in st.tolist():
        text = texts.get(x)
        if text is None:
            text = texts[x] = ',"st":' + json.dumps(Status(x).names, separators=(",", ":"))
        out.append(text)
    return out


def reading_lines(c: ReadingArrays, lo: int, hi: int) -> str:
    """The reading records of columns `lo:hi`, byte for byte what `SessionWriter.reading`
    writes for each (checked by a test), formatted a column at a time."""
    t = c.t[lo:hi]
    whole = np.all(t == np.floor(t)) and np.all(np.abs(t) < 1e15) and not np.any(
        np.signbit(t) & (t == 0))  # (JSON writes -0.0 with its sign)
    if whole:  # whole seconds: "12.0"
        t_text = [x + ".0" for x in map(str, t.astype(np.int64).tolist())]
    else:
        t_text = list(map(repr, map(round, t.tolist(), repeat(4))))  # JSON's float text
    spo2 = _value_texts(c.spo2[lo:hi], "spo2", 1)
    pulse = _value_texts(c.pulse[lo:hi], "pulse", 1)
    pi = _value_texts(c.pi[lo:hi], "pi", 2) if c.pi is not None else repeat("")
    return "".join(map("".join, zip(repeat('{"k":"r","t":'), t_text, spo2, pulse, pi,
                                    _status_texts(c.status[lo:hi]), repeat("}\n"))))


def write(recording: Recording, path: Path) -> None:
    """Writes a whole Recording (from any format) as a native session file."""
    extra: dict[str, Any] = {}
    if recording.interval:
        extra["interval"] = recording.interval
    if recording.start_naive:
        extra["start_naive"] = True  # a wall-clock time with no zone in the original file
    w = SessionWriter(path, source=recording.source or recording.format,
                      device=recording.device, start_wall=recording.start_wall,
                      flush_every=float("inf"), extra=extra or None)
    if isinstance(recording.readings, ReadingArrays):
        c = recording.readings
        # each link after the readings of its time, as the sorted list of items puts it
        links = sorted(recording.links, key=lambda e: e.t)
        at = np.searchsorted(c.t, [e.t for e in links], side="right").tolist()
        lo = 0
        for bound, e in [*zip(at, links, strict=True), (len(c), None)]:
            for a in range(lo, bound, BLOCK):
                w.lines(reading_lines(c, a, min(bound, a + BLOCK)))
            lo = max(lo, bound)
            if e is not None:
                w.link(e)
    else:
        items: list[tuple[float, int, Any]] = []
        items += [(r.t, 0, r) for r in recording.readings]
        items += [(e.t, 1, e) for e in recording.links]
        for _t, _, x in sorted(items, key=lambda i: (i[0], i[1])):
            if isinstance(x, Reading):
                w.reading(x)
            else:
                w.link(x)
    for a in recording.alarms:
        w._record(dict(a))
    for e in recording.events:
        w._record(dict(e))
    w.close(reason="converted")


FORMAT = FormatInfo(
    name="native", description="oxi-assist session (JSON Lines)",
    extensions=(".jsonl", ".oxi"), sniff=sniff, read=read, write=write,
)
