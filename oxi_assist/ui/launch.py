"""Starting the UI from the command line: check every input first, then open the screen.

A bad URI, an unknown scenario, a missing file or a broken guidance file is an `OxiError`
raised here, before Textual takes over the terminal, so the CLI prints one line and exits 2.
So is the lack of a terminal: the full screen never starts into a pipe.

How it ends: the screen's own end (q) exits 0; SIGTERM and SIGHUP close the recording with
the reason "terminated" / "hang-up" and exit 128 + the signal; a failure of ours is recorded as
"failed: …" and exits 1. Afterwards each recording's path is printed on stderr.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from drivers.clock import Clock, RealClock
from drivers.errors import OxiError, SourceError
from drivers.printable import printable
from drivers.reading import Controllable, Source
from oxi_assist.uris import open_source, parse_uri

if TYPE_CHECKING:
    from oxi_assist.guide.engine import Guide
    from oxi_assist.monitor.monitor import Monitor
    from oxi_assist.session import Session

#: Exit code when the screen itself failed (its recording says "failed: …").
EXIT_FAILED = 1
NO_TERMINAL = ("the live screen needs a terminal (standard input, output and error are not "
               "all one); run it in a terminal, or use `oxi-assist simulate` or `oxi-assist "
               "walkthrough` for a run without a screen")


@dataclass
class LiveOptions:
    guidance: str | None = None
    record: bool = True
    seed: int | None = None
    sessions_dir: str | None = None


def add_common_options(p: argparse.ArgumentParser, *, seed: bool = False) -> None:
    p.add_argument("--guidance", metavar="FILE",
                   help="guidance protocol (a TOML file or a built-in name; default bc-save-me)")
    p.add_argument("--no-record", action="store_true",
                   help="do not record this session (recordings are personal health data)")
    if seed:
        from oxi_assist.commands._numbers import seed as seed_type

        p.add_argument("--seed", type=seed_type, default=None,
                       help="random seed for the simulation (same seed, same run)")


def options_from(args: argparse.Namespace) -> LiveOptions:
    return LiveOptions(guidance=getattr(args, "guidance", None),
                       record=not getattr(args, "no_record", False),
                       seed=getattr(args, "seed", None))


def load_guide_factory(guidance: str | None) -> Callable[[Clock], Guide]:
    """Loads and validates the guidance now (a bad file fails before the UI) and returns a
    function that makes a fresh Guide for each session."""
    from oxi_assist.guide.engine import Guide
    from oxi_assist.guide.schema import load

    protocol = load(guidance)

    def make(clock: Clock) -> Guide:
        return Guide(protocol, clock=clock)

    return make


def make_monitor(clock: Clock) -> Monitor:
    from oxi_assist.monitor.monitor import Monitor

    return Monitor()


def session_maker(opts: LiveOptions, recorded: list[Path] | None = None
                  ) -> Callable[[Clock, str, Source | None], Session]:
    """The function the App calls to start a session on a source (or on none: uri ""). The
    path of each recording started is added to `recorded`, when given."""
    from oxi_assist.recordings import try_open_writer
    from oxi_assist.session import Session

    new_guide = load_guide_factory(opts.guidance)

    def make(clock: Clock, uri: str, source: Source | None) -> Session:
        writer, why = (try_open_writer(uri, clock, base=opts.sessions_dir) if opts.record
                       else (None, ""))  # a recording that cannot start never blocks the response
        if writer is not None and recorded is not None:
            recorded.append(writer.path)
        # a simulator (or a scenario on a real oximeter) takes the responder's interventions
        ctl = source if isinstance(source, Controllable) else None
        return Session(clock=clock, monitor=make_monitor(clock) if uri else None,
                       guide=new_guide(clock), writer=writer, source_label=uri,
                       controllable=ctl, record_error=why)

    return make


def scenario_names() -> list[str]:
    """Built-in scenarios, for the trainer's list."""
    from simulators.scenario import builtin_names

    return sorted(builtin_names())


def with_params(uri: str, **params: object) -> str:
    extra = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
    if not extra:
        return uri
    return uri + ("&" if "?" in uri else "?") + extra


#: The status line of a scenario played on a real oximeter.
OVERLAY_MARK = "TRAINING / VALUES SIMULATED on a real oximeter"


def build_app(uri: str, opts: LiveOptions, *, clock: Clock | None = None,
              overlay: str | None = None, recorded: list[Path] | None = None,
              **app_kw: Any) -> Any:
    """Validates everything and returns the App, ready to run. Raises OxiError on bad input.
    `overlay`: a real oximeter's URI whose state the scenario `uri` plays on; `recorded`
    gathers the paths of the recordings the app's sessions write."""
    from oxi_assist.ui.app import OxiApp

    clock = clock or RealClock()
    make_session = session_maker(opts, recorded)
    source = None
    simulated = replay = False

    def reopen(new_uri: str, c: Clock) -> Any:
        if overlay:
            from oxi_assist.overlay import open_overlay

            return open_overlay(new_uri, overlay, c)
        return open_source(new_uri, c)

    if uri:
        u = parse_uri(uri)
        simulated, replay = u.scheme == "sim", u.scheme == "replay"
        source = reopen(uri, clock)
        if source is None:
            raise SourceError(f"{uri}: nothing to read")
    if overlay:
        app_kw.setdefault("mark", OVERLAY_MARK)

    def scenario_uri(name: str) -> str:
        return with_params(f"sim:{name}", seed=opts.seed)

    return OxiApp(make_session=make_session, uri=uri, source=source, clock=clock,
                  open_source=reopen, simulated=simulated, replay=replay,
                  scenarios=scenario_names() if simulated else (),
                  scenario_uri=scenario_uri, **app_kw)


def has_terminal() -> bool:
    """Keys come from stdin and Textual draws on stderr; stdout must not be a pipe either
    (`demo | cat` would otherwise fill a pipe with a screen nobody sees)."""
    try:
        return all(f.isatty() for f in (sys.stdin, sys.stdout, sys.stderr))
    except (AttributeError, ValueError):
        return False


def run_app(uri: str, opts: LiveOptions, *, overlay: str | None = None) -> int:
    recorded: list[Path] = []
    app = build_app(uri, opts, overlay=overlay, recorded=recorded,
                    handle_signals=True)  # bad input fails here
    if not has_terminal():
        raise OxiError(NO_TERMINAL)
    app.run()
    for p in recorded:
        print(f"oxi-assist: session recorded in {printable(p)}", file=sys.stderr)
    code = app.return_code or 0
    if code == EXIT_FAILED:
        print("oxi-assist: the screen stopped on an error of ours (above); the recording "
              "says so", file=sys.stderr)
    return int(code)
