"""`oxi-assist class [SCENARIO]`: open a class, share its join code, run it, debrief it.

Without `--headless` it opens the trainer's console (`oxi_assist.ui.class_console`): the join
code, the address and a QR code of the web address (textual-serve serves the station screen to
browsers: `--web-port`, `--no-web`), the class board and the controls; with no SCENARIO it asks
for one first (or several, handed round the stations). `SCENARIO` may also name several,
separated by commas. The network (broker, web server) starts before the screen opens, so a
port in use or a bad option is one line and exit 2.

With `--headless` commands are typed as lines.

It starts the class's broker in this process (bound to 127.0.0.1, or to the address of the
interface named with `--lan IFACE`), or uses an external one (`--broker mqtt://HOST:PORT`,
`mqtts://` for TLS, the trainer's password from `--password-file`), and prints the join line
to share. Typed commands: `start`, `pause [STATION]`, `resume [STATION]`, `speed X [STATION]`,
`finger_out|motion|low_perfusion [SECONDS] [STATION]`, `board`, `end` (then the class debrief),
`quit`. `--mosquitto-files DIR --stations SPEC` writes the files an external mosquitto needs
and exits.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from pathlib import Path
from typing import Any

from drivers.errors import OxiError
from oxi_assist.commands._class_common import need_class_extra, say, stdin_lines

DEFAULT_SCENARIO = "opioid-overdose"
CUE_SECONDS = 30.0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("class", help="run a class of stations (training, trainer's side)",
                       description="Opens a class: each trainee joins with "
                                   "`oxi-assist join HOST CODE` and gets their own simulated "
                                   "patient, which you drive.")
    p.add_argument("scenario", nargs="?", default=None,
                   help="scenario for every station, or several separated by commas (handed "
                        "round the stations); without one the console asks (headless: "
                        f"{DEFAULT_SCENARIO})")
    p.add_argument("--headless", action="store_true",
                   help="no console: commands typed as lines, one line per event")
    p.add_argument("--seed", type=int, default=0, help="simulation seed (default 0)")
    p.add_argument("--vary-seed", action="store_true",
                   help="a different patient per station (seed from the station's id)")
    p.add_argument("--speed", type=float, default=1.0, help="simulation speed 1–20")
    p.add_argument("--port", type=int, default=1883, help="broker port (default 1883)")
    p.add_argument("--lan", metavar="IFACE",
                   help="let stations on the local network join, on this interface's address")
    p.add_argument("--broker", metavar="URI",
                   help="use an external broker, e.g. mqtts://trainer@broker.example:8883")
    p.add_argument("--password-file", help="file holding the trainer's broker password")
    p.add_argument("--cafile", help="CA certificate to check an mqtts:// broker with")
    p.add_argument("--code", help="join code to use (for an external broker's files)")
    p.add_argument("--guidance", metavar="FILE", help="guidance for every station")
    p.add_argument("--no-record", action="store_true", help="keep no class record")
    p.add_argument("--export-text", metavar="FILE", help="write the class debrief as text")
    p.add_argument("--export-csv", metavar="FILE", help="write the class debrief as CSV")
    p.add_argument("--export-svg", metavar="FILE",
                   help="write the class debrief chart as SVG (console: on key s)")
    p.add_argument("--web-port", type=int, default=8000,
                   help="port of the web page trainees open (default 8000)")
    p.add_argument("--no-web", action="store_true",
                   help="do not serve the station screen to browsers")
    p.add_argument("--force", action="store_true", help="replace existing output files")
    p.add_argument("--mosquitto-files", metavar="DIR",
                   help="write password, ACL and config files for mosquitto, then exit")
    p.add_argument("--stations", default="30",
                   help="with --mosquitto-files: a number, or names separated by commas")
    p.set_defaults(func=run)


def _check_out(path: str | None, force: bool) -> Path | None:
    if path is None:
        return None
    p = Path(path)
    if p.exists() and not force:
        raise OxiError(f"{p} exists; use --force to replace it")
    if p.is_dir():
        raise OxiError(f"{p}: is a directory")
    return p


def run(args: argparse.Namespace) -> int:
    need_class_extra()
    from oxi_assist.classroom.codes import new_code, normalize_code
    from simulators.scenario import load_scenario

    code = normalize_code(args.code) if args.code else new_code()
    if not 1 <= args.port <= 65535:
        raise OxiError(f"--port {args.port}: expected 1–65535")
    if args.mosquitto_files:
        from oxi_assist.classroom.mosquitto import station_names, write_files

        files = write_files(args.mosquitto_files, code=code,
                            stations=station_names(args.stations), port=args.port,
                            force=args.force)
        say(f"wrote {files.folder}/passwd, acl, mosquitto.conf and trainer.password (0600)")
        say(f"join code {code}; stations: {', '.join(files.stations)}")
        say(f"run the class with: oxi-assist class --headless --code {code} --broker "
            f"mqtt://trainer@HOST:{args.port} --password-file {files.trainer_password_file}")
        return 0
    if not 1.0 <= args.speed <= 20.0:
        raise OxiError(f"--speed {args.speed:g}: must be between 1 and 20")
    if args.seed < 0:
        raise OxiError(f"--seed {args.seed}: expected a whole number ≥ 0")
    if not 1 <= args.web_port <= 65535:
        raise OxiError(f"--web-port {args.web_port}: expected 1–65535")
    variants: tuple[str, ...] = ()
    if args.scenario is None and not args.headless:
        choice = _ask_setup()
        if choice is None:
            return 0
        names, args.seed, args.vary_seed = choice.scenarios, choice.seed, choice.vary_seed
    else:
        names = tuple(x.strip() for x in (args.scenario or DEFAULT_SCENARIO).split(",")
                      if x.strip())
    if not names:
        raise OxiError("no scenario named")
    for name in names:
        load_scenario(name)  # an unknown scenario fails before anything opens
    args.scenario = names[0]
    if len(names) > 1:
        from oxi_assist.classroom.messages import MAX_VARIANTS

        if len(names) > MAX_VARIANTS:
            raise OxiError(f"at most {MAX_VARIANTS} scenarios in one class")
        variants = names
    guidance_id = ""
    if args.guidance:
        from oxi_assist.guide.schema import load

        guidance_id = str(args.guidance)
        load(args.guidance)
    text_out = _check_out(args.export_text, args.force)
    csv_out = _check_out(args.export_csv, args.force)
    svg_out = _check_out(args.export_svg, args.force)
    host = "127.0.0.1"
    if args.lan:
        from oxi_assist.classroom.broker import lan_address

        host = lan_address(args.lan)
    external = password = tls = None
    if args.broker:
        from oxi_assist.classroom.link import BrokerAddress, tls_context

        external = BrokerAddress.parse(args.broker)
        if args.password_file:
            try:
                password = Path(args.password_file).read_text(encoding="utf-8").strip()
            except OSError as e:
                raise OxiError(f"{args.password_file}: {e.strerror or e}") from None
        tls = tls_context(args.cafile) if external.tls else None
    if not args.headless:
        return asyncio.run(_console(args, code, host, external, password, tls, guidance_id,
                                    variants))
    return asyncio.run(_headless(args, code, host, external, password, tls, guidance_id,
                                 text_out, csv_out, svg_out, variants))


def _ask_setup() -> object:
    from oxi_assist.ui.class_setup import SetupApp
    from oxi_assist.ui.launch import scenario_names

    return SetupApp(scenario_names(), DEFAULT_SCENARIO).run()


def _record(args: argparse.Namespace, code: str, clock: object) -> object:
    if args.no_record:
        return None
    from oxi_assist.classroom.codes import class_id
    from oxi_assist.classroom.record import ClassRecord

    wall = clock.wall()  # type: ignore[attr-defined]
    return ClassRecord.create({"class_id": class_id(code), "scenario": args.scenario,
                               "seed": args.seed, "vary_seed": args.vary_seed,
                               "speed": args.speed, "start_wall": wall}, start_wall=wall)


def _trainer_node(args: argparse.Namespace, code: str, host: str, external: object,
                  password: str | None, tls: object, guidance_id: str,
                  variants: tuple[str, ...], clock: object, **kw: Any) -> Any:
    """The trainer's node for the class the options describe (the console and the headless
    trainer differ only in how they show it)."""
    from oxi_assist.classroom.trainer import ClassSetup, TrainerNode

    setup = ClassSetup(args.scenario, args.seed, args.vary_seed, args.speed, guidance_id,
                       variants=variants)
    return TrainerNode(setup, clock, code=code, host=host, port=args.port,  # type: ignore[arg-type]
                       external=external, password=password, tls=tls,  # type: ignore[arg-type]
                       **kw)


async def _console(args: argparse.Namespace, code: str, host: str, external: object,
                   password: str | None, tls: object, guidance_id: str,
                   variants: tuple[str, ...]) -> int:
    from drivers.clock import RealClock
    from oxi_assist.classroom.messages import Phase
    from oxi_assist.ui.class_console import ConsoleApp, default_exports
    from oxi_assist.ui.launch import scenario_names

    clock = RealClock()
    record = _record(args, code, clock)
    node = _trainer_node(args, code, host, external, password, tls, guidance_id, variants,
                         clock, record=record)
    await node.start()
    broker = (f"{node.address.host}:{node.address.port}" if external is None
              else str(node.address))
    web = None
    if not args.no_web:
        from oxi_assist.classroom.web import StationWeb

        web = StationWeb(broker, host=host, port=args.web_port)
        try:
            await web.start()
        except OSError as e:
            await node.stop()
            raise OxiError(f"--web-port {args.web_port}: cannot serve the station page on "
                           f"{host} ({e.strerror or e}); choose another port or --no-web") \
                from None
    base = Path(record.path) if record is not None else Path.cwd() / "oxi-assist-class"  # type: ignore[attr-defined]
    exports = default_exports(base, svg=args.export_svg, text=args.export_text,
                              csv=args.export_csv, force=args.force)
    app = ConsoleApp(node, broker=broker, web_url=web.url if web else None,
                     scenarios=scenario_names(), exports=exports)
    try:
        await app.run_async()
    finally:
        if node.core.state.phase is not Phase.ENDED:
            node.core.end()
            await asyncio.sleep(1.0)  # network time for the stations to take it
        if web is not None:
            await web.stop()
        await node.stop()
    if record is not None:
        say(f"class record: {record.path}")  # type: ignore[attr-defined]
    return 0


async def _headless(args: argparse.Namespace, code: str, host: str, external: object,
                    password: str | None, tls: object, guidance_id: str,
                    text_out: Path | None, csv_out: Path | None, svg_out: Path | None,
                    variants: tuple[str, ...]) -> int:
    from drivers.clock import RealClock
    from oxi_assist.classroom.debrief import to_csv, to_text
    from oxi_assist.classroom.messages import CUES, CommandName, Phase

    clock = RealClock()
    record = _record(args, code, clock)
    node = _trainer_node(args, code, host, external, password, tls, guidance_id, variants,
                         clock, record=record, on_line=say)
    await node.start()
    where = f"{node.address.host}:{node.address.port}"
    say(f"class open: join with  oxi-assist join {where} {code} --name NAME")
    if record is not None:
        say(f"class record: {record.path}")
    core = node.core
    loop = asyncio.get_running_loop()
    done = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, done.set)
    lines = stdin_lines(loop)
    names = {c.value: c for c in CommandName}

    def station_arg(words: list[str]) -> str | None:
        return words[0] if words else None

    async def typed() -> None:
        while True:
            line = await lines.get()
            if line is None or line in ("quit", "q", "exit"):
                done.set()
                return
            words = line.split()
            if not words:
                continue
            verb, rest = words[0].lower(), words[1:]
            try:
                if verb == "board":
                    for r in core.board.ordered():
                        say(f"board {r.station} {r.connection.value} {r.phase.value} "
                            f"step={r.step or '-'} spo2="
                            f"{'--' if r.spo2 is None else f'{r.spo2:.0f}'} "
                            f"alarm={r.alarm or '-'} doses={r.doses} events={r.events}")
                elif verb in ("start", "end"):
                    core.start() if verb == "start" else core.end()
                elif verb in ("pause", "resume"):
                    (core.pause if verb == "pause" else core.resume)(station_arg(rest))
                elif verb == "speed":
                    if not rest:
                        raise OxiError("speed X [STATION]")
                    core.speed(float(rest[0]), station_arg(rest[1:]))
                elif verb in names and names[verb] in CUES:
                    secs = CUE_SECONDS
                    if rest and rest[0].replace(".", "", 1).isdigit():
                        secs, rest = float(rest[0]), rest[1:]
                    core.cue(names[verb], secs, station_arg(rest))
                else:
                    say(f"error: unknown command {verb!r} (start, pause, resume, speed, "
                        f"finger_out, motion, low_perfusion, board, end, quit)")
            except (OxiError, ValueError) as e:
                say(f"error: {e}")

    reader = asyncio.ensure_future(typed())
    try:
        await done.wait()
    finally:
        reader.cancel()
        if core.state.phase is not Phase.ENDED:
            core.end()
            await asyncio.sleep(1.0)  # network time for stations to take it and send events
        await node.stop()
    deb = core.debrief()
    text = to_text(deb)
    say(text.rstrip())
    from oxi_assist.classroom.exports import render_class_svg, write_new

    for out, body in ((text_out, text), (csv_out, to_csv(deb)),
                      (svg_out, render_class_svg(deb))):
        if out is not None:
            write_new(out, body, force=args.force)
    say(f"messages refused: {core.rejected.total}, duplicate events dropped: "
        f"{core.duplicates}")
    return 0
