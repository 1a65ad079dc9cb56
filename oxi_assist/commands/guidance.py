"""`oxi-assist guidance check FILE`: validates a guidance file and lists every problem, so an
organisation adapting the guidance sees all of them at once, each as `FILE:LINE: message`:
its structure, every number, and whether any text could ever tell a responder something unsafe
(docs/GUIDANCE.md, docs/SAFETY.md). A path that is not a regular file, or a file too large,
gives one line on stderr; every case exits 2."""

from __future__ import annotations

import argparse
import sys

from drivers.errors import ConfigError
from oxi_assist.guide import schema as guidance_schema

EXIT_INVALID = 2


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("guidance", help="check or list guidance files (guidance/*.toml)")
    gsub = p.add_subparsers(dest="guidance_command", metavar="ACTION",
                            parser_class=type(p))
    c = gsub.add_parser("check", help="validate a guidance file; every problem as FILE:LINE")
    c.add_argument("file", help="a guidance TOML file, or a built-in name like bc-save-me")
    c.set_defaults(func=run_check)
    ls = gsub.add_parser("list", help="list the built-in guidance files")
    ls.set_defaults(func=run_list)
    p.set_defaults(func=lambda args: (p.print_help(), EXIT_INVALID)[1])


def run_check(args: argparse.Namespace) -> int:
    path = guidance_schema.resolve(args.file)
    try:
        data = guidance_schema.read_bounded(path)
    except ConfigError as e:
        print(e, file=sys.stderr)  # nothing was read: one line
        return EXIT_INVALID
    proto, problems = guidance_schema.check_bytes(data, path)
    if problems or proto is None:
        for line in problems:
            print(line)
        print(f"{len(problems)} problem(s) in {path}", file=sys.stderr)
        return EXIT_INVALID
    print(f"ok: {len(proto.steps)} steps ({proto.id}: {proto.title})")
    return 0


def run_list(args: argparse.Namespace) -> int:
    for f in sorted(guidance_schema.GUIDANCE_DIR.glob("*.toml")):
        proto, problems = guidance_schema.check_file(f)
        if proto is None:
            print(f"{f.stem:24} INVALID ({len(problems)} problem(s))")
        else:
            print(f"{f.stem:24} {proto.title} [{proto.jurisdiction}] {len(proto.steps)} steps")
    return 0
