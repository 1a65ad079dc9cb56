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
from oxi_assist.commands.convert import load_with_progress


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("info", help="describe a recording: format, device, start, duration, "
                                    "interval, samples, valid fraction")
    p.add_argument("file", metavar="FILE", nargs="?", help="recording to describe")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--format", dest="fmt", metavar="NAME", help="force the input format")
    p.add_argument("--columns", metavar="MAP", help="column mapping for a headerless table")
    p.add_argument("--formats", action="store_true", help="list the formats that can be read")
    p.set_defaults(func=run)


def _runs(mask: np.ndarray) -> int:
    if not len(mask):
        return 0
    m = mask.astype(np.int8)
    return int(m[0]) + int(np.count_nonzero(np.diff(m) == 1))


def describe(rec: Any) -> dict[str, Any]:
    c = rec.columns()
    n = len(c)
    _t, spo2, pulse = rec.arrays()
    valid = ~np.isnan(spo2)
    start = None
    if rec.start_wall is not None and math.isfinite(rec.start_wall):
        start = dt.datetime.fromtimestamp(rec.start_wall).astimezone().isoformat(
            timespec="seconds")
    out: dict[str, Any] = {
        "file": rec.path, "format": rec.format, "device": rec.device or None, "start": start,
        "duration_s": round(rec.duration, 3), "interval_s": rec.interval, "samples": n,
        "valid_spo2_samples": int(valid.sum()),
        "valid_fraction": round(float(valid.mean()), 4) if n else 0.0,
        "gaps": _runs(~valid), "interrupted": bool(rec.interrupted),
    }
    if valid.any():
        out["spo2_min"] = float(np.min(spo2[valid]))
        out["spo2_max"] = float(np.max(spo2[valid]))
        out["spo2_mean"] = round(float(np.mean(spo2[valid])), 1)
    pv = ~np.isnan(pulse)
    if pv.any():
        out["pulse_min"] = float(np.min(pulse[pv]))
        out["pulse_max"] = float(np.max(pulse[pv]))
    for k in ("dialect", "note", "time_zone", "base_datetime", "below_range_note",
              "deduplicated", "gap_samples_inserted"):
        if k in rec.header:
            out[k] = rec.header[k]
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
    rec = load_with_progress(args.file, args.fmt, args.columns)
    d = describe(rec)
    if args.json:
        print(json.dumps(d, indent=2))
        return 0
    label = {"valid_fraction": "valid SpO2", "duration_s": "duration",
             "interval_s": "interval"}
    for k, v in d.items():
        if v is None or k == "valid_spo2_samples":
            continue
        if k == "duration_s":
            v = f"{_hms(v)} ({v:g} s)"
        elif k == "interval_s":
            v = f"{v:g} s"
        elif k == "valid_fraction":
            v = f"{v * 100:.1f} % ({d['valid_spo2_samples']} of {d['samples']} samples)"
        print(f"{label.get(k, k.replace('_', ' ')):16s} {printable(v)}")  # file text, escaped
    return 0
