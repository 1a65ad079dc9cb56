"""`oxi-assist convert IN OUT`: any recording the readers understand → native JSONL, our CSV
layout or EDF+ (chosen by `--to` or OUT's extension). Shows progress on a terminal only."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from drivers.errors import FormatError, OxiError
from drivers.formats import format_modules
from drivers.printable import printable
from drivers.safe_files import check_output, os_reason, output
from oxi_assist.commands._input import add_input_options, load_recording, progress_for

BY_EXTENSION = {".jsonl": "native", ".oxi": "native", ".csv": "csv", ".edf": "edf"}


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
    add_input_options(p)
    p.add_argument("--to", metavar="NAME", help="output format: native, csv or edf "
                                                "(default: from OUT's extension)")
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
    prog = progress_for(args.input)
    try:
        rec = load_recording(args.input, args.fmt, args.columns, progress=prog)
        if prog is not None:
            prog.stage(f"writing {out.name}…")
        with output(out, force=args.force, inputs=[src]) as tmp:
            try:
                ws[to](rec, tmp)
            except FormatError as e:  # named after the file the user asked for
                if e.path != str(tmp):
                    raise
                raise FormatError(out, e.reason) from None
    except OSError as e:
        raise FormatError(out, f"cannot write ({os_reason(e)})") from None
    finally:
        if prog is not None:
            prog.end()
    import numpy as np

    c = rec.columns()
    gaps = int(np.count_nonzero(np.isnan(c.spo2)))
    print(f"wrote {printable(out)} ({to}): {len(c)} samples from {rec.format}, "
          f"{gaps} without SpO2")
    return 0
