"""Bluetooth LE codecs and transport: decode throughput per codec against a naive parser measured
in the same run, latency from a virtual peripheral's notification to the Reading delivered by
the BLE Source (against the bare bleak callback as the floor), and time to reconnect after a
drop.

The naive parsers do the same work the obvious way: an immutable `bytes` buffer re-sliced per
byte, a bit-by-bit CRC, and the same Reading construction (same range checks) per frame.
Latency and reconnect run on the real clock through bleak's API and bleak-retry-connector
against the in-process virtual peripheral, so they measure this code and the libraries, not a
radio.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

from drivers.protocols import codec_for, o2ring, pc60f
from drivers.protocols._blecodec import vitals_reading, wave_reading
from drivers.reading import LinkEvent, LinkState, Reading, Status

CHUNK = 20

# --- naive baselines ---------------------------------------------------------------------------


def _crc_bits(data: bytes, poly: int, reflected: bool) -> int:
    crc = 0
    for b in data:
        if reflected:
            crc ^= b
            for _ in range(8):
                crc = (crc >> 1) ^ poly if crc & 1 else crc >> 1
        else:
            crc ^= b
            for _ in range(8):
                crc = ((crc << 1) ^ poly) & 0xFF if crc & 0x80 else (crc << 1) & 0xFF
    return crc


def naive_pc60f(chunks: list[bytes]) -> list[Reading]:
    buf, out = b"", []
    for c in chunks:
        buf += c
        while len(buf) >= 4:
            if buf[0] != 0xAA or buf[1] != 0x55:
                buf = buf[1:]
                continue
            n = 4 + buf[3]
            if len(buf) < n:
                break
            fr, buf = buf[:n], buf[n:]
            if _crc_bits(fr, 0x8C, True) != 0:
                continue
            if fr[4] == 1:
                sp, pr = fr[5], fr[6] | fr[7] << 8
                st = Status.FINGER_OUT if sp == 0 and pr == 0 else Status.NONE
                out.append(vitals_reading(0.0, sp, pr, fr[8] / 10 or None, st))
            elif fr[4] == 2:
                out.append(wave_reading(0.0, [(b & 0x7F) * 100 / 127 for b in fr[5:-1]], 50,
                                        any(b & 0x80 for b in fr[5:-1])))
    return out


def naive_o2ring(chunks: list[bytes]) -> list[Reading]:
    buf, out = b"", []
    for c in chunks:
        buf += c
        while len(buf) >= 8:
            if buf[0] != 0x55:
                buf = buf[1:]
                continue
            n = 8 + (buf[5] | buf[6] << 8)
            if len(buf) < n:
                break
            fr, buf = buf[:n], buf[n:]
            if _crc_bits(fr[:-1], 0x07, False) == fr[-1]:
                p = fr[7:-1]
                st = Status.NONE if p[11] & 1 else Status.FINGER_OUT
                out.append(vitals_reading(0.0, p[0], p[1] | p[2] << 8, p[10] / 10 or None, st))
    return out


def naive_sync5(chunks: list[bytes]) -> list[Reading]:
    """BerryMed: byte at a time into a list; one Reading per notification."""
    out: list[Reading] = []
    frame: list[int] = []
    for c in chunks:
        pleth: list[float] = []
        last: list[int] = []
        for b in c:
            if b & 0x80:
                frame = [b]
            elif frame:
                frame.append(b)
                if len(frame) == 5:
                    pleth.append(float(frame[1]))
                    last, frame = frame, []
        if last:
            pr = ((last[2] & 0x40) << 1) | last[3]
            st = Status.FINGER_OUT if last[2] & 0x10 else Status.NONE
            out.append(vitals_reading(0.0, None if last[4] == 127 else last[4],
                                      None if pr == 255 else pr, None, st,
                                      pleth=tuple(pleth), pleth_rate=100.0))
    return out


def naive_nonin(chunks: list[bytes]) -> list[Reading]:
    out = []
    for fr in chunks:
        if len(fr) == 10 and fr[0] == 10:
            st = Status.NONE if fr[1] & 0x10 else Status.FINGER_OUT
            pr = fr[8] << 8 | fr[9]
            out.append(vitals_reading(0.0, None if fr[7] == 127 else fr[7],
                                      None if pr == 511 else pr, (fr[3] << 8 | fr[4]) / 100, st))
    return out


def naive_jumper(chunks: list[bytes]) -> list[Reading]:
    buf, out = b"", []
    for c in chunks:
        buf += c
        while len(buf) >= 4:
            if buf[0] != 0x81:
                buf = buf[1:]
                continue
            fr, buf = buf[:4], buf[4:]
            bad = fr[1] == 255 or fr[2] == 127
            out.append(vitals_reading(0.0, fr[2], fr[1], None,
                                      Status.FINGER_OUT if bad else Status.NONE))
    return out


def naive_fs20f(chunks: list[bytes]) -> list[Reading]:
    buf, out = b"", []
    for c in chunks:
        buf += c
        while len(buf) >= 3:
            if buf[0] != 0xFE:
                buf = buf[1:]
                continue
            n = buf[1]
            if n not in (8, 10):
                buf = buf[1:]
                continue
            if len(buf) < n:
                break
            fr, buf = buf[:n], buf[n:]
            if n == 8:
                out.append(wave_reading(0.0, [float(fr[3])], 50, False))
            else:
                bad = fr[4] == 255 or fr[5] == 127
                out.append(vitals_reading(0.0, fr[5], fr[4], (fr[6] << 8 | fr[7]) / 1000,
                                          Status.FINGER_OUT if bad else Status.NONE))
    return out


def _sfloat(lo: int, hi: int) -> float | None:
    raw = lo | hi << 8
    if raw in (0x07FF, 0x0800, 0x07FE, 0x0802, 0x0801):
        return None
    m = raw & 0xFFF
    e = raw >> 12
    return (m - 4096 if m >= 2048 else m) * 10.0 ** (e - 16 if e >= 8 else e)


def naive_plx(chunks: list[bytes]) -> list[Reading]:
    """Normal SpO2/PR only: ignores the status words and PAI the real codec decodes."""
    return [vitals_reading(0.0, _sfloat(c[1], c[2]), _sfloat(c[3], c[4]), None, Status.NONE)
            for c in chunks if len(c) >= 5]


NAIVE: dict[str, Callable[[list[bytes]], list[Any]]] = {
    "plx": naive_plx, "nonin": naive_nonin, "berrymed": naive_sync5,
    "pc60f": naive_pc60f, "o2ring": naive_o2ring, "jumper": naive_jumper,
    "fs20f": naive_fs20f,
}
#: Codecs whose notifications are whole frames (not a byte stream split at 20 bytes).
WHOLE = {"plx", "nonin"}


def workload(name: str, seconds: int) -> list[bytes]:
    """`seconds` of a device's notifications, as they arrive: per frame or 20-byte chunks."""
    codec: Any = codec_for(name)
    out: list[bytes] = []
    for i in range(seconds):
        r = Reading(t=float(i), spo2=90 + i % 10, pulse=60 + i % 50, pi=2.0,
                    pleth=tuple(float(20 + (7 * k + i) % 70) for k in range(50)),
                    status=Status.BEAT if i % 3 else Status.NONE)
        frame = o2ring.O2RingCodec.encode_sensors(r) if name == "o2ring" else codec.encode(r)
        if name in WHOLE:
            out.append(frame)
        else:
            out += [frame[k:k + CHUNK] for k in range(0, len(frame), CHUNK)]
    return out


def _best(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def throughput_rows(quick: bool) -> list[dict[str, Any]]:
    rows = []
    seconds = 300 if quick else 3000
    for name, naive in NAIVE.items():
        chunks = workload(name, seconds)

        def ours(chunks: list[bytes] = chunks, name: str = name) -> None:
            c = codec_for(name)
            for ch in chunks:
                c.feed(ch)

        t_ours = _best(ours, 3)
        t_naive = _best(lambda chunks=chunks, naive=naive: naive(chunks), 3)
        rows.append({"benchmark": f"ble decode {name} ({len(chunks) // seconds} notif/s)",
                     "value": seconds / t_ours, "unit": "x", "baseline": seconds / t_naive,
                     "ratio": t_naive / t_ours, "target": ">= 100x real time"})
    return rows


# --- latency and reconnect through bleak ---------------------------------------------------


async def _latency(n: int) -> tuple[list[float], list[float]]:
    """Notify → Reading out of the BLE Source, and notify → bare bleak callback (the floor)."""
    from bleak import BleakClient

    from drivers.ble_transport import open_ble
    from drivers.clock import RealClock
    from simulators.ble.bleak_backend import VirtualAir
    from simulators.ble.peripheral import VirtualPeripheral

    clock = RealClock()
    readings = [Reading(t=float(i), spo2=95, pulse=70, pi=2.0) for i in range(n + 20)]
    air = VirtualAir(clock)
    dev = air.add(VirtualPeripheral("pc60f", readings, clock=clock, interval=0.004))
    src = open_ble("auto", {"scan": "0.5"}, clock, scanner_backend=air.scanner_backend(),
                   client_backend=air.client_backend())
    lat: list[float] = []

    async def consume() -> None:
        async for item in src:
            if isinstance(item, Reading) and not item.wave_only and dev.sent:
                lat.append(time.monotonic() - dev.sent[-1][0])
                if len(lat) >= n:
                    return

    runner = None
    consumer = asyncio.create_task(consume())
    while src.connections == 0:
        await asyncio.sleep(0.005)
    runner = asyncio.create_task(dev.run())
    await asyncio.wait_for(consumer, 30)
    runner.cancel()
    await src.close()

    air2 = VirtualAir(clock)
    dev2 = air2.add(VirtualPeripheral("pc60f", readings, clock=clock, interval=0.004))
    floor: list[float] = []

    def cb(_c: object, _d: bytearray) -> None:
        floor.append(time.monotonic() - dev2.sent[-1][0])

    async with BleakClient(dev2.address, backend=air2.client_backend()) as client:
        await client.start_notify(pc60f.NOTIFY, cb)
        runner = asyncio.create_task(dev2.run())
        while len(floor) < n:
            await asyncio.sleep(0.01)
        runner.cancel()
    return lat, floor


async def _reconnect(drops: int) -> list[float]:
    from drivers.ble_transport import open_ble
    from drivers.clock import RealClock
    from simulators.ble.bleak_backend import VirtualAir
    from simulators.ble.peripheral import VirtualPeripheral

    clock = RealClock()
    air = VirtualAir(clock)
    dev = air.add(VirtualPeripheral("nonin", [Reading(t=0, spo2=95, pulse=70)] * 10_000,
                                    clock=clock, interval=0.05))
    src = open_ble("auto", {"scan": "0.5"}, clock, scanner_backend=air.scanner_backend(),
                   client_backend=air.client_backend())
    connected: list[float] = []

    async def consume() -> None:
        async for item in src:
            if isinstance(item, LinkEvent) and item.state is LinkState.CONNECTED:
                connected.append(time.monotonic())

    consumer = asyncio.create_task(consume())
    runner = asyncio.create_task(dev.run())
    out = []
    while not connected:
        await asyncio.sleep(0.01)
    for _ in range(drops):
        n = len(connected)
        t0 = time.monotonic()
        dev.drop_link()
        while len(connected) == n:
            await asyncio.sleep(0.005)
        out.append(connected[-1] - t0)
    runner.cancel()
    await src.close()
    await consumer
    return out


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def run(quick: bool = False) -> list[dict[str, Any]]:
    rows = throughput_rows(quick)
    lat, floor = asyncio.run(_latency(200 if quick else 2000))
    for q, label in ((0.5, "p50"), (0.99, "p99")):
        ours, base = _pct(lat, q) * 1000, _pct(floor, q) * 1000
        rows.append({"benchmark": f"ble notify -> Reading latency {label}", "value": ours,
                     "unit": "ms", "baseline": base, "ratio": ours / base if base else None,
                     "target": "<= 50 ms (ours)"})
    rc = asyncio.run(_reconnect(3 if quick else 10))
    rows.append({"benchmark": "ble reconnect after a drop (median)",
                 "value": statistics.median(rc), "unit": "s", "baseline": None, "ratio": None,
                 "target": "<= 2 s when the device is back (ours; 0.5 s of it is back-off)"})
    return rows


if __name__ == "__main__":
    for row in run(quick=True):
        print(row)
