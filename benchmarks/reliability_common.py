"""Shared pieces of the reliability runs: memory readings, the session under test, and the
counting of what a recording holds (read back from the file itself, not from counters)."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drivers.clock import Clock
from drivers.reading import INVALIDATING, Controllable, Reading, Status

if TYPE_CHECKING:  # imported when called: the reliability run starts without the app loaded
    from oxi_assist.session import Session

_INVALID_NAMES = {f.name.lower() for f in Status if f & INVALIDATING and f.name}


def rss_mb() -> float:
    """Resident memory now, in MB: /proc/self/statm on Linux; elsewhere the peak from
    `resource` (an upper bound: growth measured with it can only be over-stated), or NaN."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1e6
    except (OSError, ValueError, IndexError, AttributeError):
        pass
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / 1e6 if sys.platform == "darwin" else peak / 1e3  # bytes vs KiB
    except (ImportError, OSError):
        return float("nan")


def rss_method() -> str:
    return "/proc/self/statm" if os.path.exists("/proc/self/statm") else "getrusage peak"


def make_session(clock: Clock, base: Path, label: str, *, monitor: bool = True,
                 guide: bool = True, controllable: Controllable | None = None) -> Session:
    """A Session wired as a live one is (`oxi_assist.play.wire_session`): Monitor, the default
    guidance, a recorder in `base`."""
    from oxi_assist.guide.schema import load as load_guidance
    from oxi_assist.play import wire_session
    from oxi_assist.recordings import open_writer

    w = open_writer(label, clock, base=base)
    return wire_session(clock, load_guidance(None) if guide else None, monitor=monitor,
                        writer=w, source_label=label, controllable=controllable)


def is_gap_reading(r: Reading) -> bool:
    return not r.wave_only and not r.valid


@dataclass
class FileCount:
    """What a native recording holds, counted line by line from the file."""

    readings: int = 0
    gaps: int = 0  # stretches of readings without a valid SpO2
    links: dict[str, int] | None = None
    alarms_raised: dict[str, int] | None = None
    ended: bool = False
    bad_lines: int = 0


def count_recording(path: Path) -> FileCount:
    out = FileCount(links={}, alarms_raised={})
    in_gap = False
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                o = json.loads(line)
            except ValueError:
                out.bad_lines += 1
                continue
            k = o.get("k")
            if k == "r":
                if o.get("w"):
                    continue
                out.readings += 1
                bad = "spo2" not in o or bool(_INVALID_NAMES & set(o.get("st") or ()))
                if bad and not in_gap:
                    out.gaps += 1
                in_gap = bad
            elif k == "link":
                st = str(o.get("state"))
                out.links[st] = out.links.get(st, 0) + 1
            elif k == "alarm" and o.get("state") == "raised":
                kind = str(o.get("kind"))
                out.alarms_raised[kind] = out.alarms_raised.get(kind, 0) + 1
            elif k == "end":
                out.ended = True
    return out


def count_gaps(readings: list[Reading] | Any) -> int:
    n, in_gap = 0, False
    for r in readings:
        if r.wave_only:
            continue
        bad = not r.valid
        if bad and not in_gap:
            n += 1
        in_gap = bad
    return n
