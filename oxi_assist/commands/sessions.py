"""`oxi-assist sessions`: the recorded sessions, newest first."""

from __future__ import annotations

import argparse
import time

from drivers.clock import RealClock
from drivers.printable import printable
from oxi_assist.debrief import fmt_time
from oxi_assist.recordings import ENV_DATA_DIR, list_sessions, sessions_dir


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "sessions", help="list recorded sessions (newest first)",
        description="Lists the sessions recorded on this computer, newest first. Recordings are "
                    f"personal health data, kept in a private folder (set {ENV_DATA_DIR} to "
                    "use another one).")
    p.add_argument("--dir", metavar="FOLDER", help="list this folder instead")
    p.add_argument("--paths", action="store_true", help="print full file paths")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    d = sessions_dir(args.dir)
    infos = list_sessions(args.dir)
    if not infos:
        print(f"No recorded sessions yet in {printable(d)}.")
        return 0
    print(f"{len(infos)} session{'s' if len(infos) != 1 else ''} in {printable(d)}")
    now = RealClock().wall()  # only to tell a running recording from an interrupted one
    rows = [("started", "length", "source / device", "lowest SpO2", "alarms", "file")]
    for i in infos:
        when = (time.strftime("%Y-%m-%d %H:%M", time.localtime(i.start_wall))
                if i.start_wall is not None else "?")
        if i.error:
            rows.append((when, "—", "unreadable", "—", "—",
                         f"{i.path if args.paths else i.path.name}  ({i.error})"))
            continue
        src = i.source + (f" / {i.device}" if i.device else "")
        low = f"{i.lowest_spo2:.0f} %" if i.lowest_spo2 is not None else "no reading"
        name = str(i.path) if args.paths else i.path.name
        if i.recording_now(now):
            name += "  recording now"
        elif i.cut:
            name += f"  cut short ({i.cut})"
        elif i.interrupted:
            name += "  interrupted"
        rows.append((when, fmt_time(i.duration), src, low, str(i.alarms), name))
    rows = [tuple(printable(c) for c in r) for r in rows]  # names and metadata from files
    widths = [max(len(r[c]) for r in rows) for c in range(5)]
    for r in rows:
        print("  ".join(r[c].ljust(widths[c]) for c in range(5)) + "  " + r[5])
    print("Debrief one with: oxi-assist debrief FILE (or: oxi-assist debrief last)")
    return 0
