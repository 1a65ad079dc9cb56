"""`oxi-assist join HOST [CODE] [--name NAME]`: a station of a class.

The station runs its own simulated patient, driven by the trainer's commands and by its own
actions, on the same live screen as `oxi-assist demo` marked TRAINING / CLASS
(`oxi_assist.ui.station_app`); without a code or a name (a browser that opened the trainer's
page) that screen asks for them first. `--overlay URI` plays the patient on a real oximeter the
trainee wears (its link and finger state; the numbers stay the scenario's). `--headless` has no
screen: it prints one line per event and takes actions as lines on stdin (`911`, `breaths`,
`naloxone route=nasal`, `quit`). A wrong code, an unreachable class or a bad option is one line
and exit 2 (on the screen: a line, and the code is asked again).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal

from drivers.errors import OxiError
from oxi_assist.commands._class_common import need_class_extra, say, stdin_lines

CONNECT_TIMEOUT_S = 30.0
#: after the class ends, at most this long to get the last events acknowledged
END_GRACE_S = 5.0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("join", help="join a class as a station (training)",
                       description="Joins a trainer's class: your own simulated patient, "
                                   "driven by the trainer and by your actions.")
    p.add_argument("host", help="the class's address as the trainer shows it, e.g. "
                                "192.168.1.20:1883 (mqtts://HOST:PORT for TLS)")
    p.add_argument("code", nargs="?", default=None,
                   help="the 6-character join code (the screen asks when it is not given)")
    p.add_argument("--name", default=None,
                   help="your station's name (the screen asks; --headless: your user name)")
    p.add_argument("--overlay", metavar="URI",
                   help="wear a real oximeter (ble:auto, serial:PORT): its link and finger "
                        "state over the simulated values")
    p.add_argument("--headless", action="store_true",
                   help="no screen: one line per event; actions as lines on stdin")
    p.add_argument("--guidance", metavar="FILE", help="guidance protocol (default: the class's)")
    p.add_argument("--no-record", action="store_true", help="do not record this session")
    p.add_argument("--cafile", help="CA certificate to check an mqtts:// broker with")
    p.add_argument("--timeout", type=float, default=CONNECT_TIMEOUT_S,
                   help=f"seconds to reach the class before giving up "
                        f"(default {CONNECT_TIMEOUT_S:g})")
    # fault injection for the benchmark and tests: drop this share of messages in and out
    p.add_argument("--drop-rate", type=float, default=0.0, help=argparse.SUPPRESS)
    p.add_argument("--drop-seed", type=int, default=0, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def _default_name() -> str:
    for var in ("OXI_ASSIST_STATION", "USER", "USERNAME"):
        if os.environ.get(var):
            return os.environ[var]
    return "station"


def parse_action_line(line: str) -> tuple[object, dict[str, str]]:
    """`naloxone route=nasal` → (Action.NALOXONE, {"route": "nasal"})."""
    from oxi_assist.actions import parse_action

    name, *rest = line.split()
    params: dict[str, str] = {}
    for item in rest:
        k, eq, v = item.partition("=")
        if not eq or not k:
            raise OxiError(f"bad parameter {item!r}: expected NAME=VALUE")
        params[k] = v
    return parse_action(name), params


def run(args: argparse.Namespace) -> int:
    need_class_extra()
    from oxi_assist.classroom.codes import normalize_code, station_id
    from oxi_assist.classroom.link import BrokerAddress, LossyFilter, tls_context

    address = BrokerAddress.parse(args.host)
    if args.headless and args.code is None:
        raise OxiError("--headless needs the join code: oxi-assist join HOST CODE --headless")
    code = normalize_code(args.code) if args.code is not None else ""
    name = (args.name or (_default_name() if args.headless else "")).strip()[:40]
    if name:
        station_id(name)  # a name that gives no id fails here, before the network
    if args.overlay:
        from oxi_assist.uris import parse_uri

        if parse_uri(args.overlay).scheme in ("sim", "replay"):
            raise OxiError(f"--overlay {args.overlay}: expected a real oximeter "
                           f"(ble:auto, serial:PORT, hid:auto)")
    if not 0 < args.timeout <= 3600:
        raise OxiError(f"--timeout {args.timeout:g}: expected 0 to 3600 seconds")
    if args.guidance:
        from oxi_assist.guide.schema import load

        load(args.guidance)
    loss = LossyFilter(args.drop_rate, args.drop_seed) if args.drop_rate else None
    tls = tls_context(args.cafile) if address.tls else None
    if not args.headless:
        return _screen(address, code, name, args, loss, tls)
    return asyncio.run(_headless(address, code, name, args, loss, tls))


def _screen(address: object, code: str, name: str, args: argparse.Namespace, loss: object,
            tls: object) -> int:
    from drivers.clock import RealClock
    from oxi_assist.classroom.patient import SCREEN_PLETH
    from oxi_assist.classroom.station import StationClient, StationOptions
    from oxi_assist.ui.station_app import StationApp

    clock = RealClock()

    def client(name: str, code: str) -> StationClient:
        opts = StationOptions(name, guidance=args.guidance, record=not args.no_record,
                              pleth=SCREEN_PLETH, overlay=args.overlay)
        return StationClient(address, code, opts, clock, loss=loss,  # type: ignore[arg-type]
                             tls=tls)

    app = StationApp(address=str(address).removeprefix("mqtt://"), code=code, name=name,
                     client_factory=client, clock=clock)
    return int(app.run() or 0)


async def _headless(address: object, code: str, name: str, args: argparse.Namespace,
                    loss: object, tls: object) -> int:
    from drivers.clock import RealClock
    from oxi_assist.classroom.link import LinkRefused
    from oxi_assist.classroom.messages import Phase
    from oxi_assist.classroom.station import StationClient, StationOptions

    loop = asyncio.get_running_loop()
    client = StationClient(address, code,  # type: ignore[arg-type]
                           StationOptions(name, guidance=args.guidance,
                                          record=not args.no_record, overlay=args.overlay),
                           RealClock(), on_line=say, loss=loss, tls=tls)  # type: ignore[arg-type]
    done = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, done.set)
    task = asyncio.ensure_future(client.run())
    lines = stdin_lines(loop)

    async def typed() -> None:
        while True:
            line = await lines.get()
            if line is None:
                return  # end of input: keep going without a keyboard
            if not line:
                continue
            if line in ("quit", "q", "exit"):
                done.set()
                return
            try:
                action, params = parse_action_line(line)
            except OxiError as e:
                say(f"error: {e}")
                continue
            why = client.core.act(action, **params)  # type: ignore[arg-type]
            if why:
                say(f"not done: {why}")

    async def watch() -> None:
        waited = 0.0
        ended_for = 0.0
        while not done.is_set():
            await asyncio.sleep(0.25)
            waited += 0.25
            if client.core.phase is Phase.ENDED:
                ended_for += 0.25
                if ended_for >= END_GRACE_S:  # the class (and maybe its broker) has gone
                    done.set()
            if client.link.connects == 0 and waited >= args.timeout:
                say(f"error: cannot reach the class at {address}: "
                    f"{client.link.last_error or 'no answer'}")
                raise OxiError(f"cannot reach the class at {address}")
            if client.core.phase is Phase.ENDED and not client.core.outbox:
                done.set()

    reader = asyncio.ensure_future(typed())
    watcher = asyncio.ensure_future(watch())
    stopper = asyncio.ensure_future(done.wait())
    try:
        finished, _ = await asyncio.wait({task, watcher, stopper},
                                         return_when=asyncio.FIRST_COMPLETED)
        if task in finished:
            task.result()
        if watcher in finished:
            watcher.result()
        await client.leave(wait_acks=2.0 if client.link.connected else 0.0)
        await task
    except LinkRefused:
        raise OxiError("the class refused this join code (check it with the trainer)") \
            from None
    finally:
        for t in (reader, watcher, stopper, task):
            t.cancel()
    c = client.core.counters
    say(f"left: events {c.events_sent}, commands applied {c.commands_applied}, "
        f"messages refused {c.rejected.total}")
    return 0
