"""`oxi-assist convert IN OUT`: any recording the readers understand → native JSONL, our CSV
layout or EDF+ (chosen by `--to` or OUT's extension). Shows progress on a terminal only."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from drivers.clock import RealClock
from drivers.errors import FormatError, OxiError
from drivers.formats import format_modules, load
from drivers.printable import printable
from drivers.safe_files import check_output, os_reason, output

BY_EXTENSION = {".jsonl": "native", ".oxi": "native", ".csv": "csv", ".edf": "edf"}


_REAL = RealClock()  # a progress line is redrawn in real time

class Progress:
    """A percentage on stderr, redrawn at most 10 times a second, only when stderr is a
    terminal: piped or redirected output stays clean."""

    def __init__(self, label: str, stream: object = None) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self._last = 0.0
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        now = _REAL.now()
        if total <= 0 or (now - self._last < 0.1 and done < total):
            return
        self._last = now
        self.shown = True
        self.stream.write(f"\r{self.label}: {min(100, done * 100 // total):3d}%")  # type: ignore[attr-defined]
        self.stream.flush()  # type: ignore[attr-defined]

    def end(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")  # type: ignore[attr-defined]
            self.stream.flush()  # type: ignore[attr-defined]


def progress_for(path: str) -> Progress | None:
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        tty = False
    return Progress(f"reading {Path(path).name}") if tty else None


def load_with_progress(path: str, fmt: str | None, columns: str | None) -> object:
    prog = progress_for(path)
    try:
        return load(path, fmt, columns=columns, progress=prog)
    finally:
        if prog is not None:
            prog.end()


def writers() -> dict[str, Callable[..., None]]:
    return {name: m.FORMAT.write for name, m in format_modules().items()
            if m.FORMAT.write is not None}


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("convert", help="convert a recording (any supported format) to native "
                                       "JSONL, CSV or EDF+",
                       description="Reads any supported recording (the format is detected "
                                   "from the content; --format forces one) and writes it as "
                                   "an oxi-assist session (.jsonl), our CSV layout (.csv) or "
                                   "EDF+ (.edf). Gaps stay gaps.")
    p.add_argument("input", metavar="IN", help="recording to read")
    p.add_argument("output", metavar="OUT", help="file to write")
    p.add_argument("--format", dest="fmt", metavar="NAME",
                   help="input format (default: detect); see `oxi-assist info --formats`")
    p.add_argument("--to", metavar="NAME", help="output format: native, csv or edf "
                                                "(default: from OUT's extension)")
    p.add_argument("--columns", metavar="MAP",
                   help="column mapping for a headerless table, e.g. spo2=2,pulse=3,interval=1s")
    p.add_argument("--force", action="store_true",
                   help="replace OUT if it exists (never the input itself)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out = Path(args.output)
    ws = writers()
    to = args.to or BY_EXTENSION.get(out.suffix.lower())
    if to is None:
        raise OxiError(f"{out}: cannot tell the output format from the extension "
                       f"(use --to {'|'.join(sorted(ws))})")
    if to not in ws:
        raise OxiError(f"cannot write {to!r} (writable: {', '.join(sorted(ws))})")
    src = Path(args.input)
    check_output(out, force=args.force, inputs=[src])  # before the input is read at all
    rec = load_with_progress(args.input, args.fmt, args.columns)
    try:
        with output(out, force=args.force, inputs=[src]) as tmp:
            try:
                ws[to](rec, tmp)
            except FormatError as e:  # named after the file the user asked for
                if e.path != str(tmp):
                    raise
                raise FormatError(out, e.reason) from None
    except OSError as e:
        raise FormatError(out, f"cannot write ({os_reason(e)})") from None
    c = rec.columns()  # type: ignore[attr-defined]
    gaps = int(np.count_nonzero(np.isnan(c.spo2)))
    print(f"wrote {printable(out)} ({to}): {len(c)} samples from "
          f"{rec.format}, {gaps} without SpO2")  # type: ignore[attr-defined]
    return 0
