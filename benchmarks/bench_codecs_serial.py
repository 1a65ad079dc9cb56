"""Contec codecs (V7.0, legacy 5-byte, USB-HID 0xEB): decode throughput against a naive
byte-at-a-time parser measured in the same run, and the end-to-end latency from a byte written
by the virtual device on a pty to the Reading delivered by the serial Source.

Throughput is also given as a multiple of real time (seconds of device signal decoded per
second of CPU), which is what matters for replaying long captures.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

from drivers.protocols.cms50_legacy import CMS50LegacyCodec
from drivers.protocols.cms50_v7 import CMS50V7Codec
from drivers.protocols.contec_hid import ContecHidCodec, pack_reports
from drivers.reading import Reading, Status

# --- naive baselines: one byte at a time, a list per frame, a Reading per frame ------------


def naive_v7(data: bytes) -> list[Reading]:
    out: list[Reading] = []
    frame: list[int] = []
    for b in data:
        if not b & 0x80:
            frame = [b]
            continue
        if not frame:
            continue
        frame.append(b)
        if frame[0] == 1 and len(frame) == 9:
            hb = frame[1]
            real = [(frame[k] & 0x7F) | (((hb >> (k - 2)) & 1) << 7) for k in range(2, 9)]
            st = Status.BEAT if real[0] & 0x40 else Status.NONE
            pr, sp = real[3], real[4]
            out.append(Reading(t=len(out) / 60, spo2=float(sp) if 0 < sp <= 100 else None,
                               pulse=float(pr) if 0 < pr < 255 else None,
                               pleth=((real[1] & 0x7F) * 100 / 127,), status=st))
            frame = []
    return out


def naive_legacy(data: bytes) -> list[Reading]:
    out: list[Reading] = []
    frame: list[int] = []
    for b in data:
        if b & 0x80:
            frame = [b]
            continue
        if not frame:
            continue
        frame.append(b)
        if len(frame) == 5:
            pr = ((frame[2] & 0x40) << 1) | frame[3]
            sp = frame[4]
            out.append(Reading(t=len(out) / 60, spo2=float(sp) if 0 < sp <= 100 else None,
                               pulse=float(pr) if 0 < pr < 255 else None,
                               pleth=(frame[1] * 100 / 127,)))
            frame = []
    return out


def naive_hid(data: bytes) -> list[Reading]:
    out: list[Reading] = []
    msg: list[int] = []
    for b in data:
        if b == 0xEB:
            msg = [b]
            continue
        if not msg:
            continue
        msg.append(b)
        if len(msg) >= 2:
            want = {0x00: 6, 0x01: 8}.get(msg[1], 0)
            if not want:
                msg = []
            elif len(msg) == want:
                if sum(msg[:-1]) & 0x7F == msg[-1]:
                    if msg[1] == 0:
                        out.append(Reading(t=len(out) / 60, pleth=(msg[3] * 100 / 127,),
                                           wave_only=True))
                    else:
                        pr = msg[3] | (0x80 if msg[2] & 2 else 0)
                        out.append(Reading(t=len(out) / 60, spo2=float(msg[4]),
                                           pulse=float(pr)))
                msg = []
    return out


# --- streams -------------------------------------------------------------------------------


def _patient(seconds: int) -> list[Reading]:
    from simulators.virtual_serial import frames, steady_patient

    return [replace_pleth(r, p) for r, p in frames(steady_patient(pulse=140, seconds=seconds))]


def replace_pleth(r: Reading, p: float | None) -> Reading:
    from dataclasses import replace

    return replace(r, pleth=(p,) if p is not None else ())


def streams(seconds: int) -> dict[str, tuple[list[bytes], Callable[[], Any],
                                             Callable[[bytes], list[Reading]]]]:
    rs = _patient(seconds)
    v7 = b"".join(CMS50V7Codec.encode(r) for r in rs)
    legacy = b"".join(CMS50LegacyCodec.encode(r) for r in rs)
    hid_msgs = [ContecHidCodec.encode(r, vitals=(k % 60 == 59)) for k, r in enumerate(rs)]
    return {
        "cms50-v7": ([v7[i:i + 256] for i in range(0, len(v7), 256)], CMS50V7Codec, naive_v7),
        "cms50-legacy": ([legacy[i:i + 256] for i in range(0, len(legacy), 256)],
                         CMS50LegacyCodec, naive_legacy),
        "contec-hid": (pack_reports(hid_msgs), ContecHidCodec, naive_hid),
    }


def _best(fn: Callable[[], int], repeat: int) -> tuple[float, int]:
    best = float("inf")
    n = 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        n = fn()
        best = min(best, time.perf_counter() - t0)
    return best, n


def throughput_rows(seconds: int, repeat: int) -> list[dict[str, Any]]:
    rows = []
    for name, (chunks, make, naive) in streams(seconds).items():
        total = sum(len(c) for c in chunks)
        joined = b"".join(chunks)

        def ours(chunks: list[bytes] = chunks, make: Callable[[], Any] = make) -> int:
            codec = make()
            return sum(len(codec.feed(c)) for c in chunks)

        def base(joined: bytes = joined, naive: Callable[[bytes], list] = naive) -> int:
            return len(naive(joined))

        t_ours, n_ours = _best(ours, repeat)
        t_base, n_base = _best(base, repeat)
        if n_base > n_ours or n_ours == 0:
            raise RuntimeError(f"{name}: baseline decoded {n_base} frames, codec {n_ours}")
        mbs, mbs_base = total / t_ours / 1e6, total / t_base / 1e6
        rows.append({"benchmark": f"{name} decode throughput", "value": round(mbs, 2),
                     "unit": "MB/s", "baseline": round(mbs_base, 2),
                     "ratio": round(mbs / mbs_base, 2), "target": None})
        rows.append({"benchmark": f"{name} decode vs real time", "value": round(seconds / t_ours),
                     "unit": "x real time", "baseline": round(seconds / t_base),
                     "ratio": round(t_base / t_ours, 2), "target": "> 100x"})
    return rows


# --- end-to-end latency through a pty ------------------------------------------------------


async def _latency(frames_wanted: int) -> list[float]:
    from drivers.clock import RealClock
    from drivers.serial_transport import open_serial
    from simulators.virtual_serial import VirtualSerialOximeter, steady_patient

    sent: list[float] = []

    class Timed(VirtualSerialOximeter):
        def _send(self, data: bytes) -> None:
            super()._send(data)
            # a slow tick sends several frames in one write: each is stamped, so every
            # Reading is paired with its own frame
            if len(data) % 9 == 0 and all(data[i] == 1 for i in range(0, len(data), 9)):
                now = time.monotonic()
                sent.extend(now for _ in range(len(data) // 9))

    got: list[float] = []
    dev = Timed("cms50-v7", steady_patient(pulse=140))
    dev.start()
    try:
        src = open_serial(dev.path, {"protocol": "cms50-v7"}, RealClock())
        async for item in src:
            if isinstance(item, Reading):
                got.append(time.monotonic())
                if len(got) >= frames_wanted:
                    break
        await src.close()
    finally:
        dev.stop()
    if dev.frames_dropped:
        raise RuntimeError("frames were dropped; latency pairs would not match")
    return [(g - s) * 1000 for s, g in zip(sent, got, strict=False)]


def latency_rows(frames_wanted: int) -> list[dict[str, Any]]:
    lat = sorted(asyncio.run(_latency(frames_wanted)))
    p50 = statistics.median(lat)
    p99 = lat[min(len(lat) - 1, round(0.99 * (len(lat) - 1)))]
    return [
        {"benchmark": "serial pty: byte written -> Reading, p50", "value": round(p50, 3),
         "unit": "ms", "baseline": None, "ratio": None, "target": "< 50 ms"},
        {"benchmark": "serial pty: byte written -> Reading, p99", "value": round(p99, 3),
         "unit": "ms", "baseline": None, "ratio": None, "target": "< 100 ms"},
    ]


def run(quick: bool = False) -> list[dict[str, Any]]:
    seconds, repeat, frames_wanted = (60, 3, 180) if quick else (600, 5, 600)
    return throughput_rows(seconds, repeat) + latency_rows(frames_wanted)


if __name__ == "__main__":
    import sys

    for row in run(quick="--full" not in sys.argv):
        print(row)
