"""`oxi-assist analyze FILE`: the live alarm and event rules applied to a whole recording.

Prints a readable summary, or the full result as JSON with `--json`. Bad input (a missing,
empty, binary or unrecognised file, a bad `--config`) is one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from drivers.errors import FormatError
from drivers.printable import printable


def register(sub: Any) -> None:
    p = sub.add_parser(
        "analyze", help="alarms, desaturations and time below thresholds of a recording",
        description="Applies the live Monitor's smoothing, alarm and desaturation rules to a "
                    "recorded file (the same rules, vectorized) and summarises the result.")
    p.add_argument("file", metavar="FILE", help="a recording (native session, CSV, ...)")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    p.add_argument("--format", metavar="NAME", default=None,
                   help="force the file format instead of detecting it")
    p.add_argument("--config", metavar="FILE", default=None,
                   help="alarm limits (TOML) overriding the defaults in oxi_assist/alarms.toml")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from drivers.formats import load
    from oxi_assist.alarm_config import load_config
    from oxi_assist.analysis import analyze

    cfg = load_config(args.config)
    rec = load(args.file, args.format)
    if not rec.vitals():
        raise FormatError(args.file, "no vitals readings in this recording")
    result = analyze(rec, cfg)
    if args.json:
        print(result.to_json())
    else:
        sys.stdout.write(printable(summary(result.to_dict(), args.file, rec.format), keep="\n"))
    return 0


_LABELS = {"90": " (BC)", "85": " (Ontario paramedics)", "80": " (clinical ref)"}


def _num(x: float | None, unit: str = "", nd: int = 1) -> str:
    return "–" if x is None else f"{x:.{nd}f}{unit}"


def _dur(s: float | None) -> str:
    if s is None:
        return "ongoing"
    s = float(s)
    if s < 60:
        return f"{s:.0f} s"
    h, rem = divmod(round(s), 3600)
    m, sec = divmod(rem, 60)
    return f"{h}h{m:02d}m{sec:02d}s" if h else f"{m}m{sec:02d}s"


def summary(d: dict[str, Any], path: str, fmt: str) -> str:
    """Plain text a responder or trainer can read; labels say where each threshold is from."""
    lines = [
        f"{path} ({fmt})",
        f"  duration {_dur(d['duration_s'])}, {d['samples']} samples, "
        f"valid {d['valid_fraction'] * 100:.1f}% ({_dur(d['valid_time_s'])})",
        f"  SpO2 min {_num(d['min_spo2'], '%')}, mean {_num(d['mean_spo2'], '%')}; "
        f"pulse {_num(d['pulse_min'], '', 0)}–{_num(d['pulse_max'], ' bpm', 0)}",
        "  time below " + ", ".join(
            f"{k}%{_LABELS.get(k, ' (app-defined)')} {_dur(v)}"
            for k, v in d["time_below"].items()),
    ]
    des = d["desaturations"]
    n3 = sum(1 for x in des if x["level"] == 3.0)
    n4 = sum(1 for x in des if x["level"] == 4.0)
    lines.append(f"  desaturations: {n3} of ≥3%, {n4} of ≥4% "
                 f"(ODI3 {_num(d['odi3_per_h'], '/h')}, ODI4 {_num(d['odi4_per_h'], '/h')}; "
                 "sleep-medicine measures, not BC action thresholds)")
    for x in [x for x in des if x["level"] == des[0]["level"]][:10] if des else []:
        lines.append(f"    at {_dur(x['start_s'])}: {x['baseline']:.1f} → {x['nadir']:.1f}% "
                     f"(−{x['depth']:.1f}), {_dur(x['duration_s'])}")
    al = d["alarms"]
    lines.append(f"  alarms: {len(al)}")
    for a in al[:30]:
        kind = a["kind"] + (" (equipment)" if a["technical"] else "")
        end = "still active at the end" if a["end_s"] is None else \
            f"for {_dur(a['end_s'] - a['start_s'])}"
        lines.append(f"    {_dur(a['start_s']):>10}  {a['priority']:<6} {kind}, {end}")
    if len(al) > 30:
        lines.append(f"    … {len(al) - 30} more (use --json)")
    if d.get("dropped_out_of_order"):
        lines.append(f"  {d['dropped_out_of_order']} readings out of time order were ignored")
    lines.append("  Thresholds: below 90% is BC guidance; 85% and 80% are not (labelled above).")
    return "\n".join(lines) + "\n"
