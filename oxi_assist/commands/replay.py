"""`oxi-assist replay FILE [--speed X]`: a recorded trace played back as a live source, with
the guidance, alarms and timers as they would have run."""

from __future__ import annotations

import argparse
from pathlib import Path

from drivers.errors import OxiError
from oxi_assist.commands._input import add_input_options
from oxi_assist.commands._numbers import number


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("replay", help="play a recorded file on the live screen",
                       description="Plays any supported recording as if it were live.")
    p.add_argument("file", metavar="FILE", help="a recorded session or oximeter file")
    p.add_argument("--speed", type=number(0.1, 1000.0), default=1.0, metavar="X",
                   help="playback speed (default 1; e.g. 10 for ten times faster); the "
                        "session still records the recording's own times")
    add_input_options(p)
    from oxi_assist.ui.launch import add_common_options

    add_common_options(p)
    p.set_defaults(func=run)


def replay_uri(path: str, speed: float, fmt: str | None = None,
               columns: str | None = None) -> str:
    from urllib.parse import quote

    from oxi_assist.ui.launch import with_params

    params = {"speed": f"{speed:g}"}
    if fmt:
        params["format"] = quote(fmt, safe="")
    if columns:
        params["columns"] = quote(columns, safe="=,")
    return with_params(f"replay:{path}", **params)


def run(args: argparse.Namespace) -> int:
    p = Path(args.file)
    if not p.exists():
        raise OxiError(f"{p}: no such file")
    if p.is_dir():
        raise OxiError(f"{p}: is a directory")
    from oxi_assist.ui.launch import options_from, run_app

    return run_app(replay_uri(args.file, args.speed, args.fmt, args.columns),
                   options_from(args))
