"""The virtual BLE oximeter on the command line (`oxi-assist virtual-device ble`): a loopback
through the real BLE driver over the bleak backend, or a bumble-driven Bluetooth controller that
other machines connect to, with cues (`drop`, `silent`, `quit`) read from stdin.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable
from typing import Any

from drivers.clock import Clock, RealClock
from drivers.reading import Reading
from simulators.ble.bleak_backend import VirtualAir
from simulators.ble.bumble_server import BumbleServer
from simulators.ble.peripheral import VirtualPeripheral


# -- loopback: the virtual device and the real BLE driver in one process ----------------------
def _line(item: Reading | Any) -> str:
    if isinstance(item, Reading):
        def num(v: float | None) -> str:
            return "--" if v is None else f"{v:g}"
        flags = ",".join(item.status.names) or "-"
        return (f"{item.t:8.1f}  SpO2 {num(item.spo2):>4}  PR {num(item.pulse):>4}  "
                f"PI {num(item.pi):>5}  {flags}")
    return f"{item.t:8.1f}  link {item.state.value}: {item.reason} [{item.device}]"


async def run_loopback(profile: str, readings: Iterable[Reading], *, clock: Clock | None = None,
                       duration: float | None = None, cues: asyncio.Queue[str] | None = None,
                       out: Callable[[str], None] = print) -> int:
    """Run a virtual `profile` oximeter and connect to it with the real BLE transport
    (`drivers.ble_transport`, over the virtual bleak backend), printing what arrives: a
    check of the whole driver path without a radio. Cues (`drop [S]`, `silent [S]`, `quit`)
    come from `cues`. Returns the number of vitals readings received."""
    from drivers.ble_transport import open_ble

    clock = clock or RealClock()
    air = VirtualAir(clock)
    dev = air.add(VirtualPeripheral(profile, readings, clock=clock))
    src = open_ble("auto", {"scan": "1"}, clock, scanner_backend=air.scanner_backend(),
                   client_backend=air.client_backend())
    count = 0
    last_print = -1.0

    async def consume() -> None:
        nonlocal count, last_print
        async for item in src:
            if isinstance(item, Reading):
                if item.wave_only:
                    continue
                count += 1
                if item.t - last_print < 0.99:
                    continue  # one line a second is enough to read
                last_print = item.t
            out(_line(item))

    async def cue_loop() -> None:
        while cues is not None:
            words = (await cues.get()).split()
            if not words:
                continue
            arg = float(words[1]) if len(words) > 1 else None
            if words[0] == "quit":
                return
            if words[0] == "drop":
                dev.drop_link(arg or 0.0)
            elif words[0] == "silent":
                dev.go_silent(arg or 8.0)
            else:
                out(f"unknown cue {words[0]!r} (drop [S], silent [S], quit)")
        await asyncio.Event().wait()

    tasks = [asyncio.create_task(consume()), asyncio.create_task(dev.run()),
             asyncio.create_task(cue_loop())]
    stop = [tasks[2], asyncio.create_task(dev.finished.wait())]
    if duration is not None:
        stop.append(asyncio.create_task(clock.sleep(duration)))
    try:
        await asyncio.wait([*stop, tasks[0]], return_when=asyncio.FIRST_COMPLETED)
    finally:
        await src.close()
        for t in tasks + stop:
            t.cancel()
        await asyncio.gather(*tasks, *stop, return_exceptions=True)
    return count


async def serve_bumble(profile: str, readings: Iterable[Reading], transport: str, *,
                       duration: float | None = None, cues: asyncio.Queue[str] | None = None,
                       out: Callable[[str], None] = print) -> int:
    """Be the oximeter on a real Bluetooth controller driven by bumble (`usb:0`,
    `hci-socket:0`, ...) until `duration` or a `quit` cue; `drop` disconnects the central,
    `silent [S]` stops notifications. Returns the number of connections seen."""
    from drivers.errors import SourceError

    clock = RealClock()
    dev = VirtualPeripheral(profile, readings, clock=clock)
    try:
        server, t = await BumbleServer.open(dev, transport)
    except ImportError as e:
        raise SourceError(f"virtual-device ble --hci needs the bumble package ({e.name} "
                          "missing; pip install bumble)") from None
    except Exception as e:
        raise SourceError(f"virtual-device ble: cannot open Bluetooth transport "
                          f"{transport!r}: {e}") from None
    try:
        await server.start()
        out(f"advertising as {dev.name!r} ({dev.profile.label}) on {transport}; "
            "connect with: oxi-assist monitor ble:auto")
        runner = asyncio.create_task(dev.run())
        waiters = [asyncio.create_task(dev.finished.wait())]
        if duration is not None:
            waiters.append(asyncio.create_task(asyncio.sleep(duration)))

        async def cue_loop() -> None:
            while cues is not None:
                words = (await cues.get()).split()
                if not words:
                    continue
                if words[0] == "quit":
                    return
                if words[0] == "drop":
                    await server.drop_link()
                elif words[0] == "silent":
                    dev.go_silent(float(words[1]) if len(words) > 1 else 8.0)
                else:
                    out(f"unknown cue {words[0]!r} (drop, silent [S], quit)")
            await asyncio.Event().wait()

        waiters.append(asyncio.create_task(cue_loop()))
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        for w in [runner, *waiters]:
            w.cancel()
    finally:
        await server.stop()
        with contextlib.suppress(Exception):
            await t.close()
    return dev.connections


def main(profile: str, readings: Iterable[Reading], duration: float | None = None,
         hci: str | None = None) -> int:
    """Blocking entry point for the command line, cues on stdin: loopback through the real
    driver on the real clock, or with `hci` a bumble-driven controller that other machines
    connect to."""
    import sys
    import threading

    async def go() -> int:
        loop = asyncio.get_running_loop()
        cues: asyncio.Queue[str] = asyncio.Queue()

        def read_stdin() -> None:
            try:
                for line in sys.stdin:
                    loop.call_soon_threadsafe(cues.put_nowait, line.strip().lower())
            except (OSError, ValueError, RuntimeError):
                return  # no usable stdin (closed, captured, loop gone): no cues
        threading.Thread(target=read_stdin, daemon=True).start()
        if hci:
            return await serve_bumble(profile, readings, hci, duration=duration, cues=cues,
                                      out=lambda s: print(s, flush=True))
        return await run_loopback(profile, readings, duration=duration, cues=cues,
                                  out=lambda s: print(s, flush=True))

    return asyncio.run(go())
