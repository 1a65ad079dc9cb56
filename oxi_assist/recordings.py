"""Where sessions are recorded, and what is there.

Every live session is recorded in the native format under the user data directory
(`platformdirs.user_data_dir("oxi-assist")/sessions`; `OXI_ASSIST_DATA_DIR` overrides it, e.g.
for tests or a shared-kiosk setup). Recordings are personal health data: the folder is created
0700 and each file 0600 (on Windows these modes are ignored; the per-user data folder is private
by default there).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from drivers.clock import Clock
from drivers.errors import ConfigError, FormatError, OxiError
from drivers.formats._base import Recording
from drivers.formats.native import MAGIC, MAX_LINE, VERSION, WRITE_FAILED, SessionWriter
from drivers.formats.native import read as read_native
from drivers.reading import INVALIDATING
from drivers.safe_files import check_input, os_reason

ENV_DATA_DIR = "OXI_ASSIST_DATA_DIR"
#: A file without an end record that changed this recently is shown as still recording.
RECENT_S = 5.0
SUFFIX = ".jsonl"


def data_dir() -> Path:
    env = os.environ.get(ENV_DATA_DIR)
    if env:
        return Path(env).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("oxi-assist", appauthor=False))


def sessions_dir(base: str | os.PathLike[str] | None = None, *, create: bool = False) -> Path:
    """The sessions folder (`base` itself when given). `create` makes it, private (0700)."""
    d = Path(base) if base is not None else data_dir() / "sessions"
    if create:
        try:
            d.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as e:
            raise ConfigError(f"{d}: cannot create the sessions folder "
                              f"({e.strerror or e})") from None
        if not d.is_dir():
            raise ConfigError(f"{d}: not a folder")
        with contextlib.suppress(OSError):  # an existing folder with a wider mode is narrowed
            os.chmod(d, 0o700)
    return d


def source_kind(source_label: str | None) -> str:
    """A short file-name-safe word for the source: `sim`, `replay`, `serial`, … or `guide`."""
    if not source_label:
        return "guide"
    scheme = source_label.partition(":")[0].lower()
    kind = re.sub(r"[^a-z0-9]+", "-", scheme).strip("-")
    return kind or "source"


def session_filename(start_wall: float, kind: str) -> str:
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(start_wall))
    return f"{stamp}-{kind}{SUFFIX}"


def new_session_path(start_wall: float, kind: str,
                     base: str | os.PathLike[str] | None = None, n: int = 1) -> Path:
    """The `n`-th candidate file name for a session (`…-kind.jsonl`, then `…-kind-2.jsonl`, …)
    in the sessions folder."""
    d = sessions_dir(base, create=True)
    name = session_filename(start_wall, kind)
    return d / (name if n == 1 else name.replace(SUFFIX, f"-{n}{SUFFIX}"))


def open_writer(source_label: str, clock: Clock, *, device: str = "",
                base: str | os.PathLike[str] | None = None,
                extra: dict[str, object] | None = None) -> SessionWriter:
    """Starts a recording for a session on `source_label` ("" = guidance only, no device).
    The file is created new (never over an earlier session, even one started by another
    process in the same second)."""
    start = clock.wall()
    for n in range(1, 1000):
        path = new_session_path(start, source_kind(source_label), base, n)
        try:
            return SessionWriter(path, source=source_label or "none", device=device,
                                 start_wall=start, clock=clock, extra=extra, exclusive=True)
        except FileExistsError:
            continue
        except OSError as e:
            raise ConfigError(f"{path}: cannot record the session ({os_reason(e)})") from None
    raise ConfigError(f"{sessions_dir(base)}: cannot record the session (no free file name)")


def try_open_writer(source_label: str, clock: Clock, *, device: str = "",
                    base: str | os.PathLike[str] | None = None
                    ) -> tuple[SessionWriter | None, str]:
    """Like `open_writer`, but a recording that cannot start (a full disk, a read-only
    folder) gives (None, why) instead of an error: the response must start regardless, and
    the screen says that this session is not being recorded."""
    try:
        return open_writer(source_label, clock, device=device, base=base), ""
    except OxiError as e:
        return None, str(e)


@dataclass(frozen=True)
class SessionInfo:
    """One line of `oxi-assist sessions`."""

    path: Path
    start_wall: float | None
    duration: float  # seconds, from the first to the last record
    source: str
    device: str
    lowest_spo2: float | None
    alarms: int  # alarms raised
    actions: int  # responder actions recorded
    interrupted: bool
    error: str = ""  # the file could not be read (the listing still shows it)
    modified: float | None = None  # the file's mtime (epoch seconds)
    cut: str = ""  # why writing stopped early ("write failed: …"), when the file says so

    def recording_now(self, now: float, within: float = RECENT_S) -> bool:
        """No end record yet, but written within the last few seconds: most likely a session
        that is still running (a live recording is flushed every second)."""
        return (self.interrupted and not self.error and not self.cut
                and self.modified is not None and now - self.modified <= within)


def session_span(rec: Recording) -> float:
    """Seconds covered by everything recorded (readings, links, alarms, events)."""
    t = rec.arrays()[0]
    ts: list[float] = [float(t[0]), float(t[-1])] if len(t) else []
    ts += [e.t for e in rec.links]
    ts += [float(a["t"]) for a in rec.alarms if isinstance(a.get("t"), int | float)]
    ts += [float(e["t"]) for e in rec.events if isinstance(e.get("t"), int | float)]
    return (max(ts) - min(ts)) if ts else 0.0


def lowest_spo2(rec: Recording) -> float | None:
    _, spo2, _ = rec.arrays()
    if not np.isfinite(spo2).any():
        return None
    return float(np.nanmin(spo2))


def info_from_recording(rec: Recording, path: Path) -> SessionInfo:
    mtime: float | None = None
    with contextlib.suppress(OSError):
        mtime = path.stat().st_mtime
    return SessionInfo(
        path=path, start_wall=rec.start_wall, duration=session_span(rec),
        source=rec.source, device=rec.device or _first_device(rec),
        lowest_spo2=lowest_spo2(rec),
        alarms=sum(1 for a in rec.alarms if a.get("state") == "raised"),
        actions=sum(1 for e in rec.events if e.get("by") == "responder"),
        interrupted=rec.interrupted, modified=mtime, cut=str(rec.header.get("cut", "")),
    )


def _first_device(rec: Recording) -> str:
    for e in rec.links:
        if e.device:
            return e.device
    return ""


def scan(path: str | os.PathLike[str]) -> SessionInfo:
    """Summarises one recorded session; an unreadable file gives an `error`, never raises.

    A listing must stay quick with many long recordings (an 8-hour session with a waveform is
    hundreds of thousands of lines), so: a cleanly closed session is summarised from the
    `session_summary` event the session writes just before its end record (the file's last
    few kilobytes); any other file is scanned once without building readings; a file that
    does not look like what the writer writes is read by the full reader, which also names
    the line of any problem."""
    p = Path(path)
    try:
        check_input(p, what="recording")  # a FIFO or a folder named *.jsonl is never opened
        info = _from_tail(p) or _fast_scan(p)
        if info is not None:
            return info
        rec = read_native(p)
    except OxiError as e:
        return _broken(p, str(e))
    except RecursionError:
        return _broken(p, f"{p}: nested too deeply")
    except OSError as e:
        return _broken(p, f"{p}: {os_reason(e)}")
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, MemoryError) as e:
        return _broken(p, f"{p}: not a readable session ({type(e).__name__})")
    return info_from_recording(rec, p)


_RE_T = re.compile(r'"t":(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)[,}]')
_RE_SPO2 = re.compile(r'"spo2":(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)[,}]')
_RE_ST = re.compile(r'"st":\[([^\]]*)\]')
_INVALID_NAMES = tuple(f'"{n}"' for n in INVALIDATING.names)
SUMMARY_EVENT = "session_summary"


def _header(p: Path, f: IO[str]) -> dict[str, Any] | None:
    line = f.readline(MAX_LINE + 1)
    try:
        h = json.loads(line)
    except (ValueError, RecursionError):
        return None
    if not isinstance(h, dict) or h.get("format") != MAGIC:
        return None
    v = h.get("version")
    if not isinstance(v, int) or v > VERSION:
        return None
    return h


def _info(p: Path, h: dict[str, Any], **kw: Any) -> SessionInfo:
    sw = h.get("start_wall")
    mtime: float | None = None
    with contextlib.suppress(OSError):
        mtime = p.stat().st_mtime
    return SessionInfo(path=p, start_wall=float(sw) if isinstance(sw, int | float) else None,
                       source=str(h.get("source", "")), modified=mtime, **kw)


def _from_tail(p: Path) -> SessionInfo | None:
    with open(p, "rb") as fb:
        size = fb.seek(0, os.SEEK_END)
        fb.seek(max(0, size - 4096))
        tail = fb.read().decode("utf-8", errors="replace").splitlines()
    if len(tail) < 2:
        return None
    try:
        end, summ = json.loads(tail[-1]), json.loads(tail[-2])
    except (ValueError, RecursionError):
        return None
    if not (isinstance(end, dict) and end.get("k") == "end" and isinstance(summ, dict)
            and summ.get("k") == "event" and summ.get("name") == SUMMARY_EVENT):
        return None
    with open(p, encoding="utf-8", newline="") as f:
        h = _header(p, f)
    if h is None:
        return None
    low = summ.get("lowest_spo2")
    return _info(p, h, duration=float(summ.get("duration") or 0.0),
                 device=str(summ.get("device") or h.get("device") or ""),
                 lowest_spo2=float(low) if isinstance(low, int | float) else None,
                 alarms=int(summ.get("alarms") or 0), actions=int(summ.get("actions") or 0),
                 interrupted=False)


def _fast_scan(p: Path) -> SessionInfo | None:
    """One pass over the lines; reading lines are picked apart with patterns that match what
    the writer writes. None when something does not fit (the full reader then decides)."""
    tmin, tmax = math.inf, -math.inf
    low = math.inf
    alarms = actions = 0
    ended = False
    cut = ""
    device = ""
    with open(p, encoding="utf-8", newline="") as f:
        h = _header(p, f)
        if h is None:
            return None
        device = str(h.get("device") or "")
        while line := f.readline(MAX_LINE + 1):
            if len(line) > MAX_LINE:
                return None  # the reader names the line
            complete = line.endswith("\n")
            if complete and line.startswith('{"k":"r",'):
                m = _RE_T.search(line)
                if m is None:
                    return None
                t = float(m.group(1))
                tmin, tmax = min(tmin, t), max(tmax, t)
                if '"w":1' in line:
                    continue
                ms = _RE_SPO2.search(line)
                if ms is not None:
                    st = _RE_ST.search(line)
                    if st is None or not any(n in st.group(1) for n in _INVALID_NAMES):
                        low = min(low, float(ms.group(1)))
                continue
            if not line.strip():
                continue
            try:
                o = json.loads(line)
            except RecursionError:
                return None  # the reader names the line
            except ValueError:
                if complete:
                    return None  # a bad line inside the file: the reader names it
                break  # a half-written last line (a crash mid-write)
            if not isinstance(o, dict):
                return None
            k = o.get("k")
            if k == "end":
                why = str(o.get("reason", ""))
                if why.startswith(WRITE_FAILED):
                    cut = why
                else:
                    ended = True
                continue
            t = o.get("t")
            if isinstance(t, int | float) and not isinstance(t, bool):
                tmin, tmax = min(tmin, float(t)), max(tmax, float(t))
            if k == "r":  # a reading written some other way
                v = o.get("spo2")
                bad = any(n.strip('"') in (o.get("st") or ()) for n in _INVALID_NAMES)
                if isinstance(v, int | float) and not o.get("w") and not bad:
                    low = min(low, float(v))
            elif k == "alarm" and o.get("state") == "raised":
                alarms += 1
            elif k == "event" and o.get("by") == "responder":
                actions += 1
            elif k == "link" and not device and o.get("device"):
                device = str(o["device"])
            elif k not in ("alarm", "event", "link"):
                return None
    return _info(p, h, duration=(tmax - tmin) if tmax >= tmin else 0.0, device=device,
                 lowest_spo2=low if math.isfinite(low) else None, alarms=alarms,
                 actions=actions, interrupted=not ended, cut=cut)


def _broken(p: Path, msg: str) -> SessionInfo:
    with contextlib.suppress(OSError):
        mtime = p.stat().st_mtime
        return SessionInfo(p, mtime, 0.0, "", "", None, 0, 0, True, error=msg)
    return SessionInfo(p, None, 0.0, "", "", None, 0, 0, True, error=msg)


def list_sessions(base: str | os.PathLike[str] | None = None) -> list[SessionInfo]:
    """Every recorded session in the folder, newest first."""
    d = sessions_dir(base)
    if not d.exists():
        return []
    if not d.is_dir():
        raise FormatError(d, "not a folder")
    try:
        files = [p for p in d.iterdir() if p.suffix == SUFFIX and p.is_file()]
    except OSError as e:
        raise FormatError(d, e.strerror or str(e)) from None
    infos = [scan(p) for p in files]
    infos.sort(key=lambda i: (i.start_wall if i.start_wall is not None else -1.0, i.path.name),
               reverse=True)
    return infos
