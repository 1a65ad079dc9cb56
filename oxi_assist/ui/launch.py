"""Starting the UI from the command line: check every input first, then open the screen.

A bad URI, an unknown scenario, a missing file or a broken guidance file is an `OxiError`
raised here, before Textual takes over the terminal, so the CLI prints one line and exits 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from drivers.clock import Clock, RealClock
from drivers.errors import OxiError, SourceError
from oxi_assist.uris import open_source, parse_uri


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
        p.add_argument("--seed", type=int, default=None,
                       help="random seed for the simulation (same seed, same run)")


def options_from(args: argparse.Namespace) -> LiveOptions:
    return LiveOptions(guidance=getattr(args, "guidance", None),
                       record=not getattr(args, "no_record", False),
                       seed=getattr(args, "seed", None))


def load_guide_factory(guidance: str | None) -> Callable[[Clock], Any]:
    """Loads and validates the guidance now (a bad file fails before the UI) and returns a
    function that makes a fresh Guide for each session."""
    from oxi_assist import guide as guide_mod
    from oxi_assist.guidance_schema import load

    protocol = load(guidance)
    guide_cls = getattr(guide_mod, "Guide", None)
    if guide_cls is None:
        raise OxiError("the guidance engine is not available in this build")

    def make(clock: Clock) -> Any:
        return guide_cls(protocol, clock=clock)

    return make


def make_monitor(clock: Clock) -> Any:
    from oxi_assist.signal import Monitor

    return Monitor()


def session_maker(opts: LiveOptions) -> Callable[[Clock, str, Any], Any]:
    """The function the App calls to start a session on a source (or on none: uri "")."""
    from oxi_assist.recordings import try_open_writer
    from oxi_assist.session import Session

    new_guide = load_guide_factory(opts.guidance)

    def make(clock: Clock, uri: str, source: Any) -> Any:
        writer, why = (try_open_writer(uri, clock, base=opts.sessions_dir) if opts.record
                       else (None, ""))  # a recording that cannot start never blocks the response
        ctl = source if callable(getattr(source, "inject", None)) else None
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
              overlay: str | None = None, **app_kw: Any) -> Any:
    """Validates everything and returns the App, ready to run. Raises OxiError on bad input.
    `overlay`: a real oximeter's URI whose state the scenario `uri` plays on."""
    from oxi_assist.ui.app import OxiApp

    clock = clock or RealClock()
    make_session = session_maker(opts)
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


def run_app(uri: str, opts: LiveOptions, *, overlay: str | None = None) -> int:
    app = build_app(uri, opts, overlay=overlay)
    result = app.run()
    return int(result or 0)
