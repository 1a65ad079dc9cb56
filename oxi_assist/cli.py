"""The `oxi-assist` command. Each subcommand lives in its own module under `oxi_assist.commands`
(a `register(subparsers)` function), so features add commands without touching this file.

Every error a user can cause ends as one line on stderr and exit code 2: never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import importlib.util
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from drivers.errors import OxiError
from drivers.printable import printable
from drivers.safe_files import os_reason
from oxi_assist import __version__, commands

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is a single line naming the problem."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"{self.prog}: error: {printable(message)} (see --help)\n")


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The parser with every subcommand, or with only `only` when a module of that name
    exists: a command imports what it needs and no more (start-up time is most of a short
    command's run)."""
    parser = _Parser(
        prog="oxi-assist",
        description="Pulse oximeter overdose-response assistant. A training and support tool, "
                    "not a medical device: it never replaces calling 911, breathing for the "
                    "person or naloxone.",
    )
    parser.add_argument("--version", action="version", version=f"oxi-assist {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    wanted = only.replace("-", "_") if only else None
    if wanted and not wanted.startswith("_") and wanted.isidentifier() and \
            importlib.util.find_spec(f"{commands.__name__}.{wanted}") is not None:
        names = [wanted]  # (listing the package would import pkgutil and inspect)
    else:
        import pkgutil

        names = sorted(m.name for m in pkgutil.iter_modules(commands.__path__)
                       if not m.name.startswith("_"))
    for name in names:
        mod = importlib.import_module(f"{commands.__name__}.{name}")
        register = getattr(mod, "register", None)
        if register is not None:
            register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    command = next((a for a in args_in if not a.startswith("-")), None)
    parser = build_parser(command)
    args = parser.parse_args(args_in)
    func = getattr(args, "func", None)
    if func is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(func(args) or 0)
    except OxiError as e:
        return _fail(str(e))
    except OSError as e:  # a file-system answer no command turned into words of its own
        if isinstance(e, BrokenPipeError):
            return _quiet_broken_pipe()
        name = e.filename if e.filename is not None else ""
        return _fail(f"{name}: {os_reason(e)}" if name else os_reason(e))
    except RecursionError:
        return _fail("the input is nested too deeply to read")
    except KeyboardInterrupt:
        print("oxi-assist: interrupted", file=sys.stderr)
        return 130


def _fail(message: str) -> int:
    """One line on stderr, whatever the message holds (escape codes and line breaks from file
    names or contents are shown, not obeyed)."""
    print(f"oxi-assist: error: {printable(message)}", file=sys.stderr)
    return EXIT_USAGE


def _quiet_broken_pipe() -> int:
    """The reader of our output went away (`… | head`): not an error of the input. Python would
    complain once more when it flushes stdout at exit, so stdout is pointed at nothing."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
