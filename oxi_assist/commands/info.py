"""`oxi-assist info FILE`: what a recording holds — format, device, start, duration, interval,
samples and how much of it is valid — as text or `--json`."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
from typing import Any

import numpy as np

from drivers.errors import OxiError
from drivers.formats import format_modules
from drivers.printable import printable
from drivers.reading import INVALIDATING
from oxi_assist.commands._input import add_input_options, load_recording


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("info", help="describe a recording: format, device, start, duration, "
                                    "interval, samples, valid fraction")
    p.add_argument("file", metavar="FILE", nargs="?", help="recording to describe")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    add_input_options(p)
    p.add_argument("--formats", action="store_true", help="list the formats that can be read")
    p.set_defaults(func=run)


def _runs(mask: np.ndarray) -> int:
    if not len(mask):
        return 0
    m = mask.astype(np.int8)
    return int(m[0]) + int(np.count_nonzero(np.diff(m) == 1))


def start_text(start_wall: float | None, naive: bool) -> str | None:
    """The start as ISO 8601: with the UTC offset when the time is absolute, without one when
    the file gave a wall-clock time and no zone (an offset would be invented)."""
    if start_wall is None or not math.isfinite(start_wall):
        return None
    when = dt.datetime.fromtimestamp(start_wall)
    return (when if naive else when.astimezone()).isoformat(timespec="seconds")


def describe(rec: Any) -> dict[str, Any]:
    """The recording's facts. Valid samples, SpO2 and pulse are the device's own values under
    the same rules as `analyze` and `debrief` (oxi_assist.analysis.device_values): flagged and
    implausible readings left out, and the start-up of each stretch of readings left out of
    minimum, maximum, mean and pulse range."""
    from oxi_assist.analysis import Trace, device_values
    from oxi_assist.monitor.alarm_config import AlarmConfig

    tr = Trace.from_recording(rec)
    dev, n_valid, valid_time = device_values(tr)
    c = rec.columns()  # the reader's own columns: a mask for the gaps, no copies
    n = len(c)
    valid = ((c.status & int(INVALIDATING)) == 0) & ~np.isnan(c.spo2)
    out: dict[str, Any] = {
        "file": rec.path, "format": rec.format, "device": rec.device or None,
        "start": start_text(rec.start_wall, rec.start_naive),
        "duration_s": round(rec.duration, 3), "interval_s": rec.interval, "samples": n,
        "valid_spo2_samples": n_valid,
        "valid_fraction": round(n_valid / n, 4) if n else 0.0,
        "valid_time_s": round(valid_time, 3),
        "gaps": _runs(~valid), "interrupted": bool(rec.interrupted),
    }
    if dev.min_spo2 is not None:
        out["spo2_min"] = dev.min_spo2
        out["spo2_max"] = dev.max_spo2
        out["spo2_mean"] = dev.mean_spo2
    if dev.pulse_min is not None:
        out["pulse_min"] = dev.pulse_min
        out["pulse_max"] = dev.pulse_max
    out["startup_excluded_s"] = AlarmConfig.default().acquisition_s
    for k in ("dialect", "note", "time_zone", "base_datetime", "below_range_note",
              "deduplicated", "gap_samples_inserted"):
        if k in rec.header:
            out[k] = rec.header[k]
    if rec.notes:
        out["notes"] = list(rec.notes)
    return out


def _hms(s: float) -> str:
    n = round(s)
    return f"{n // 3600}:{n % 3600 // 60:02d}:{n % 60:02d}"


def run(args: argparse.Namespace) -> int:
    if args.formats:
        for name, m in sorted(format_modules().items()):
            w = " (read, write)" if m.FORMAT.write else ""
            print(f"{name:14s} {m.FORMAT.description}{w}")
        return 0
    if not args.file:
        raise OxiError("info: give a FILE to describe (or --formats)")
    rec = load_recording(args.file, args.fmt, args.columns)
    d = describe(rec)
    if args.json:
        print(json.dumps(d, indent=2))
        return 0
    label = {"valid_fraction": "valid SpO2", "duration_s": "duration",
             "interval_s": "interval", "valid_time_s": "valid time",
             "startup_excluded_s": "start-up"}
    for k, v in d.items():
        if v is None or k == "valid_spo2_samples":
            continue
        if k == "duration_s":
            v = f"{_hms(v)} ({v:g} s)"
        elif k == "interval_s":
            v = f"{v:g} s"
        elif k == "valid_time_s":
            v = f"{_hms(v)} (each value holds until the next reading)"
        elif k == "startup_excluded_s":
            v = (f"first {v:g} s of each stretch of readings left out of min, max, mean and "
                 "pulse (device values)")
        elif k == "valid_fraction":
            v = f"{v * 100:.1f} % ({d['valid_spo2_samples']} of {d['samples']} samples)"
        elif k == "notes":
            v = "; ".join(v)
        print(f"{label.get(k, k.replace('_', ' ')):16s} {printable(v)}")  # file text, escaped
    return 0
