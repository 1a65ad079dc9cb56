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
from oxi_assist.commands._input import add_input_options, load_recording, progress_for


def register(sub: Any) -> None:
    p = sub.add_parser(
        "analyze", help="alarms, desaturations and time below thresholds of a recording",
        description="Applies the live Monitor's smoothing, alarm and desaturation rules to a "
                    "recorded file (the same rules, vectorized) and summarises the result.")
    p.add_argument("file", metavar="FILE", help="a recording (native session, CSV, ...)")
    p.add_argument("--json", action="store_true", help="print the full result as JSON")
    add_input_options(p)
    p.add_argument("--config", metavar="FILE", default=None,
                   help="alarm limits (TOML) overriding the defaults in "
                        "oxi_assist/monitor/alarms.toml")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from oxi_assist.analysis import analyze
    from oxi_assist.monitor.alarm_config import load_config

    cfg = load_config(args.config)
    prog = progress_for(args.file)
    try:
        rec = load_recording(args.file, args.fmt, args.columns, progress=prog)
        if not len(rec.vitals()):
            raise FormatError(args.file, "no vitals readings in this recording")
        if prog is not None:
            prog.stage(f"analysing {len(rec.vitals()):,} samples…")
        result = analyze(rec, cfg)
    finally:
        if prog is not None:
            prog.end()
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
    """Plain text a responder or trainer can read; labels say where each threshold is from.
    The numbers are the device's own readings; ours smoothed as on screen sit beside them."""
    dev, sm = d["device"], d["smoothed"]
    su = d["startup_excluded_s"]

    def two(k: str, unit: str = "%", nd: int = 1) -> str:
        return f"{_num(dev[k], unit, nd)} (on screen {_num(sm[k], unit, nd)})"

    rule = d["desaturation_rule"]
    lines = [
        f"{path} ({fmt})",
        f"  duration {_dur(d['duration_s'])}, {d['samples']} samples, "
        f"valid {d['valid_fraction'] * 100:.1f}% ({_dur(d['valid_time_s'])})",
        "  device values (what the oximeter showed); on screen = ours, "
        f"{sm['smoothing']}",
        f"  SpO2 min {two('min_spo2')}, mean {two('mean_spo2')}; "
        f"pulse {_num(dev['pulse_min'], '', 0)}–{_num(dev['pulse_max'], ' bpm', 0)} "
        f"(on screen {_num(sm['pulse_min'], '', 0)}–{_num(sm['pulse_max'], ' bpm', 0)})",
        f"  (min, mean and pulse leave out the first {su['device']:g} s of each stretch of "
        f"readings, {su['smoothed']:g} s on screen: start-up)",
        "  time below " + ", ".join(
            f"{k}%{_LABELS.get(k, ' (app-defined)')} {_dur(v)} "
            f"(on screen {_dur(sm['time_below'][k])})"
            for k, v in dev["time_below"].items()),
    ]
    des = d["desaturations"]
    n3 = sum(1 for x in des if x["level"] == 3.0 and x["counted"])
    n4 = sum(1 for x in des if x["level"] == 4.0 and x["counted"])
    lines.append(f"  desaturations: {n3} of ≥3%, {n4} of ≥4% "
                 f"(ODI3 {_num(d['odi3_per_h'], '/h')}, ODI4 {_num(d['odi4_per_h'], '/h')} "
                 f"per valid hour; rule {rule['version']}: {rule['min_duration_s']:g}–"
                 f"{rule['max_duration_s']:g} s below a {rule['baseline_window_s']:g} s "
                 "pre-event baseline; sleep-medicine measures, not BC action thresholds)")
    for x in [x for x in des if x["level"] == des[0]["level"]][:10] if des else []:
        note = "" if x["counted"] else f", not counted ({x['ended'] or 'open at the end'})"
        lines.append(f"    at {_dur(x['start_s'])}: {x['baseline']:.1f} → {x['nadir']:.1f}% "
                     f"(−{x['depth']:.1f}), {_dur(x['duration_s'])}{note}")
    al = d["alarms"]
    kinds = ", ".join(f"{k.replace('_', ' ')} ×{v}" for k, v in d["alarms_by_kind"].items())
    lines.append(f"  alarms: {d['alarms_raised']} raised" + (f" ({kinds})" if kinds else ""))
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
