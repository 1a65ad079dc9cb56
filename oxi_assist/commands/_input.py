"""What every command that reads a recording shares: `--format` and `--columns`, a progress
bar on a terminal (nothing when stderr is piped or redirected), and the reader's notes.

A reader's notes are the choices it made that the user should know about (which of several
SpO2 columns it read, trailer rows it skipped): printed on stderr, one line each, so stdout
stays the command's own output.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, TextIO

#: the width of the bar, in characters
BAR = 24


def add_input_options(p: argparse.ArgumentParser) -> None:
    """`--format NAME` and `--columns MAP`, the same on every command that reads a file."""
    p.add_argument("--format", dest="fmt", metavar="NAME",
                   help="input format (default: detect); see `oxi-assist info --formats`")
    p.add_argument("--columns", metavar="MAP",
                   help="column mapping for a table no reader recognises, e.g. "
                        "spo2=2,pulse=3,time=1 or spo2=2,pulse=3,interval=1s")


class Progress:
    """A bar with a percentage on stderr, redrawn at most 10 times a second, only when stderr
    is a terminal: piped or redirected output stays clean. Call it with (done, total); `stage`
    replaces the bar with a word for a step that has no measure (analysing)."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        from drivers.clock import RealClock  # only with a terminal: no cost when piped

        self.label = label
        self.stream: TextIO = stream if stream is not None else sys.stderr
        self._clock = RealClock()  # a bar is redrawn in real time
        self._last = -1.0
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        now = self._clock.now()
        if total <= 0 or (now - self._last < 0.1 and done < total):
            return
        self._last = now
        self.shown = True
        pct = min(100, done * 100 // total)
        fill = pct * BAR // 100
        self.stream.write(f"\r{self.label}: [{'#' * fill}{'.' * (BAR - fill)}] {pct:3d}%")
        self.stream.flush()

    def stage(self, text: str) -> None:
        self.shown = True
        self.stream.write(f"\r\033[K{text}")
        self.stream.flush()

    def end(self) -> None:
        if self.shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self.shown = False


def progress_for(path: str, verb: str = "reading") -> Progress | None:
    """A Progress for reading `path`, or None when stderr is not a terminal."""
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        tty = False
    return Progress(f"{verb} {Path(path).name}") if tty else None


def load_recording(path: str, fmt: str | None = None, columns: str | None = None,
                   progress: Progress | None = None) -> Any:
    """Reads any recording with a progress bar on a terminal and prints the reader's notes.
    `progress`: the caller's bar (it may show a later step with `stage`); else one of its own.
    The bar is cleared once the file is read, before any note is printed."""
    from drivers.formats import load

    prog = progress if progress is not None else progress_for(path)
    try:
        rec = load(path, fmt, columns=columns, progress=prog)
    finally:
        if prog is not None:
            prog.end()
    for note in rec.notes:
        print(f"oxi-assist: note: {Path(path).name}: {note}", file=sys.stderr)
    return rec
