"""`oxi-assist decode`: a raw device capture → CSV of what the codec makes of it.

For checking a logger's output or a new device against the codecs without the live stack. The
CSV goes to stdout, the frame counts to stderr, so the two can be piped separately.
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections.abc import Iterator
from typing import IO, Any

from drivers.errors import FormatError
from drivers.printable import printable
from drivers.protocols import codec_for, registry
from drivers.reading import Reading
from drivers.safe_files import open_input, os_reason

CHUNK = 65536
#: The longest hex line read (a capture's line is a frame or a burst of them).
MAX_LINE = 1 << 20
COLUMNS = ["t", "spo2", "pulse", "pi", "flags", "pleth", "wave"]


def register(sub: Any) -> None:
    p = sub.add_parser(
        "decode", help="decode a raw device capture into CSV",
        description="Decode a raw byte capture with one protocol codec and print CSV "
                    "(t,spo2,pulse,pi,flags,pleth,wave; invalid values empty). A summary of "
                    "good / bad frames and skipped bytes goes to stderr.")
    p.add_argument("--protocol", required=True, metavar="NAME",
                   help="codec name (known: " + ", ".join(sorted(registry())) + ")")
    p.add_argument("--hex", action="store_true",
                   help="the file is hex text, one chunk per line (or one long line)")
    p.add_argument("file", metavar="FILE", help="capture file, or - for stdin")
    p.set_defaults(func=run)


def _num(v: float | None, nd: int) -> str:
    if v is None:
        return ""
    r = round(v, nd)
    return str(int(r)) if r == int(r) else f"{r:.{nd}f}".rstrip("0")


def row(r: Reading) -> list[str]:
    return [f"{r.t:.4f}", _num(r.spo2, 1), _num(r.pulse, 1), _num(r.pi, 2),
            "|".join(r.status.names), ";".join(_num(p, 3) for p in r.pleth),
            "1" if r.wave_only else "0"]


def hex_chunks(f: IO[bytes], name: str) -> Iterator[bytes]:
    """Hex text → byte chunks, one per line; spaces, colons and a 0x prefix are tolerated.
    A line is read at most MAX_LINE bytes at a time: /dev/zero or a stray binary on stdin is
    refused at its first line instead of filling memory."""
    lineno = 0
    while raw := f.readline(MAX_LINE + 1):
        lineno += 1
        if len(raw) > MAX_LINE:
            raise FormatError(name, f"line longer than {MAX_LINE >> 20} MB: not hex text",
                              line=lineno)
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            raise FormatError(name, "not hex text (non-ASCII bytes)", line=lineno) from None
        text = text.strip().replace(" ", "").replace(":", "").replace("\t", "")
        if text[:2].lower() == "0x":
            text = text[2:]
        if not text:
            continue
        try:
            yield bytes.fromhex(text)
        except ValueError:
            odd = " (odd number of digits)" if len(text) % 2 else ""
            raise FormatError(name, f"bad hex{odd}", line=lineno) from None


def binary_chunks(f: IO[bytes]) -> Iterator[bytes]:
    while chunk := f.read(CHUNK):
        yield chunk


def _open(path: str) -> IO[bytes]:
    """The capture file (a regular file: a FIFO or a device is refused unopened; `-` is the
    way to read a pipe)."""
    try:
        return open_input(path, what="capture")
    except FormatError as e:
        if "not a capture" in e.reason:
            raise FormatError(path, f"{e.reason} (use - to read standard input)") from None
        raise


def run(args: argparse.Namespace) -> int:
    codec = codec_for(args.protocol)
    name = "<stdin>" if args.file == "-" else args.file
    f: IO[bytes] = sys.stdin.buffer if args.file == "-" else _open(args.file)
    out = csv.writer(sys.stdout, lineterminator="\n")
    out.writerow(COLUMNS)
    n = 0
    try:
        chunks = hex_chunks(f, name) if args.hex else binary_chunks(f)
        while True:
            try:  # only reading blames the input; a closed stdout is the reader's business
                chunk = next(chunks)
            except StopIteration:
                break
            except OSError as e:
                raise FormatError(name, os_reason(e)) from None
            for r in codec.feed(chunk):
                out.writerow(row(r))
                n += 1
    finally:
        if f is not sys.stdin.buffer:
            f.close()
    sys.stdout.flush()
    pending = len(getattr(codec, "pending", b"") or b"")
    tail = f"; {pending} bytes of an incomplete frame at the end" if pending else ""
    print(f"{printable(name)}: {n} readings; {codec.stats.summary()}{tail}", file=sys.stderr)
    return 0
