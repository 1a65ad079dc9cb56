"""`oxi-assist debrief FILE`: the summary, timeline and ROSE prompt of a recorded session, with
text and SVG exports for a team debrief.

On a terminal, with no export asked for, it opens the debrief screen; otherwise (piped, `--text`
or an export) it prints text, so scripts and CI get plain output.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from drivers.errors import OxiError
from drivers.printable import printable
from drivers.safe_files import check_output, same_file
from oxi_assist.commands._input import add_input_options, load_recording, progress_for
from oxi_assist.debrief import debrief_text, summarize, write_output
from oxi_assist.recordings import list_sessions, sessions_dir
from oxi_assist.timeline_svg import write_svg


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "debrief", help="summary, timeline and debrief prompt of a recorded session",
        description="Summarises a recorded session (time to 911, breaths, naloxone, doses, "
                    "lowest SpO2, time below 90 %, alarms), prints its timeline and the ROSE "
                    "debrief prompt, and exports them.")
    p.add_argument("file", metavar="FILE",
                   help="a recorded session or oximeter file; `last` = the newest recorded "
                        "session (see `oxi-assist sessions`)")
    add_input_options(p)
    p.add_argument("--export-text", metavar="OUT", help="write the debrief as text to OUT")
    p.add_argument("--export-svg", metavar="OUT", help="write the timeline chart (SVG) to OUT")
    p.add_argument("--force", action="store_true",
                   help="replace an existing export file (never the recording itself)")
    p.add_argument("--text", action="store_true",
                   help="print the debrief as text even on a terminal (no screen)")
    p.add_argument("--quiet", "-q", action="store_true",
                   help="do not print the debrief (only write the exports)")
    p.set_defaults(func=run)


def _wants_screen(args: argparse.Namespace) -> bool:
    if (args.text or args.quiet or args.export_text or args.export_svg or args.fmt
            or args.columns):
        return False
    return sys.stdin.isatty() and sys.stdout.isatty()


def resolve(name: str) -> str:
    """`last` means the newest recorded session, unless a file of that name exists here."""
    if name != "last" or Path(name).exists():
        return name
    infos = [i for i in list_sessions() if not i.error]
    if not infos:
        raise OxiError(f"no recorded sessions in {sessions_dir()} to debrief")
    return str(infos[0].path)


def run(args: argparse.Namespace) -> int:
    args.file = resolve(args.file)
    outs = [o for o in (args.export_text, args.export_svg) if o]
    if len(outs) == 2 and same_file_or_name(*outs):
        raise OxiError("--export-text and --export-svg name the same file")
    for o in outs:  # before the recording is read: a refusal costs nothing
        check_output(o, force=args.force, inputs=[args.file])
    if _wants_screen(args):
        try:
            from oxi_assist.ui.app import run_debrief
        except ImportError:  # a build without the terminal UI: text it is
            pass
        else:
            return run_debrief(args.file)
    prog = progress_for(args.file)
    try:
        rec = load_recording(args.file, args.fmt, args.columns, progress=prog)
        if prog is not None:
            prog.stage(f"summarising {len(rec.vitals()):,} samples…")
        summary = summarize(rec)
    finally:
        if prog is not None:
            prog.end()
    text = debrief_text(rec, summary)
    if args.export_text:
        p = write_output(args.export_text, text, force=args.force, inputs=[args.file])
        print(f"wrote {printable(p)}", file=sys.stderr)
    if args.export_svg:
        p = write_svg(rec, args.export_svg, summary, force=args.force, inputs=[args.file])
        print(f"wrote {printable(p)}", file=sys.stderr)
    if not args.quiet:
        sys.stdout.write(printable(text, keep="\n"))
    return 0


def same_file_or_name(a: str, b: str) -> bool:
    return Path(a).absolute() == Path(b).absolute() or same_file(a, b)
