"""BLE outages that last: the peripheral goes out of range (stops advertising, refuses
connects) for seconds to minutes and comes back, played into a live recording session through
bleak's real API and the virtual peripheral on a virtual clock, and judged from the recording
file as the other fault rows are.

Held to: `link_lost` within 1 s of each drop; exactly one LOST record (one gap) per outage;
the transport never gives up or crashes (it reconnects after every outage, and the run ends
with no error out of the source and no `internal_error` in the file); the first reading after
the device is back within the transport's first back-off step (`BACKOFF[0]`, 0.5 s, the pause
after a lost link before it starts listening) plus one frame (1 s). Listening for the
device's advertisement runs throughout the outage, so the return is seen within one
advertising interval (0.1 s) whatever the outage's length.

    from benchmarks.reliability_ble_outages import ble_outages
    ble_outages(9)     # quick: 3 outages each of 5, 30 and 120 s
    ble_outages(100)   # full
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.reliability_faults_ble import ble_session, finish_run, steady
from benchmarks.reliability_verdicts import (
    LINK_BOUND,
    first_after,
    internal_errors,
    lat_check,
    raised,
    row,
)
from drivers.ble_transport import BACKOFF

FRAME_S = 1.0  # the virtual peripheral sends one reading a second
RESUME_BOUND = BACKOFF[0] + FRAME_S


def ble_outages(n: int, durations: tuple[float, ...] = (5.0, 30.0, 120.0),
                every: float = 30.0) -> list[dict[str, Any]]:
    """`n` outages, their lengths taken from `durations` in turn, each after `every` s of
    connected readings. Returns the fault-matrix rows (see `reliability_verdicts.row`)."""
    from drivers.protocols import plx

    if n < 1 or not durations or min(durations) <= 0 or every <= 0:
        raise ValueError("ble_outages: n ≥ 1, positive durations and a positive `every`")
    plan = [durations[i % len(durations)] for i in range(n)]
    total = n * every + sum(plan) + every

    with tempfile.TemporaryDirectory() as d:
        async def go() -> tuple[Any, list[tuple[float, float]], Any, BaseException | None]:
            clock, p, s, task, runner = await ble_session(
                Path(d), steady(int(total + 60)))
            outages = []
            for down in plan:
                await clock.run_for(every)
                t0 = s.elapsed()
                p.drop_link(down_for=down)
                outages.append((t0, t0 + down))
                await clock.run_for(down)
            await clock.run_for(every)
            error: BaseException | None = None
            try:
                rec = await finish_run(s, task, runner)
            except Exception as e:  # a crash is a result here, not a reason to stop
                error, rec = e, None
            return p, outages, rec, error

        p, outages, rec, error = asyncio.run(go())
    if rec is None:
        msg = f"run crashed: {type(error).__name__}: {error}"
        return [row("link out of range", "BLE", n, 0, None, f"link_lost ≤ {LINK_BOUND:g} s",
                    False, msg)]

    sent = sum(1 for x in p.sent if x[1] == plx.CONTINUOUS)
    links = rec["link"]
    lost = [x["t"] for x in links if x["state"] == "lost"]
    conn = [x["t"] for x in links if x["state"] == "connected"]
    retries = [x["t"] for x in links if x["state"] == "reconnecting"]
    rts = [x["t"] for x in rec["r"]]
    crash = internal_errors(rec)
    drops = [t0 for t0, _ in outages]
    det, worst = lat_check(drops, raised(rec, "link_lost"), LINK_BOUND)

    one_gap = 0
    resumed, res_worst = 0, 0.0
    inside = 0  # readings recorded while the device was out of range (must be none)
    for k, (t0, back) in enumerate(outages):
        end = outages[k + 1][0] if k + 1 < len(outages) else float("inf")
        one_gap += sum(1 for t in lost if t0 - 1e-6 <= t < end) == 1
        inside += sum(1 for t in rts if t0 + 1e-6 < t < back - 1e-6)
        c = first_after(conn, back)
        r = first_after(rts, back)
        if c is not None and c < end and r is not None and r < end:
            resumed += 1
            res_worst = max(res_worst, r - back)
    spread = ", ".join(f"{plan.count(x)}×{x:g} s" for x in dict.fromkeys(plan))
    return [
        row("link out of range", "BLE", n, det, worst, f"link_lost ≤ {LINK_BOUND:g} s",
            det == n and crash == 0,
            f"outages {spread}; {every:g} s connected between"),
        row("out of range: gap recorded", "BLE", n, one_gap, None,
            "one LOST record per outage", one_gap == n and len(lost) == n,
            f"LOST records {len(lost)}; readings inside outages {inside}"),
        row("out of range: readings resume", "BLE", n, resumed, res_worst,
            f"back-off step {BACKOFF[0]:g} s + 1 frame (1 s) after the device is back",
            resumed == n and res_worst <= RESUME_BOUND + 1e-6 and inside == 0
            and sent == len(rts) and crash == 0,
            f"kept retrying: {len(retries)} RECONNECTING records, {len(conn) - 1} "
            f"reconnections; sent {sent}, recorded {len(rts)}"),
    ]


if __name__ == "__main__":
    import sys

    full = "--full" in sys.argv
    w0 = time.perf_counter()
    for r in ble_outages(100 if full else 9):
        print(r)
    print(f"wall {time.perf_counter() - w0:.1f} s")
