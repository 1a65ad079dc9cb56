"""How a fault run is judged: the recording file read back (`records`), the alarms and
errors in it, the latency of each alarm against its bound, and one row of the fault matrix.
Every fault module and the BLE outage run judge alike through these."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

#: The bounds the rows are held to (seconds; see reliability_faults).
NO_DATA_S = 5.0
STALE_S = 10.0
LINK_BOUND = 1.0


def records(path: Path) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {"r": [], "link": [], "alarm": [], "event": []}
    with open(path, encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            k = o.get("k")
            if k in out and not o.get("w"):
                out[k].append(o)
    return out


def raised(rec: dict[str, list[dict[str, Any]]], kind: str) -> list[float]:
    return [a["t"] for a in rec["alarm"] if a["kind"] == kind and a["state"] == "raised"]


def internal_errors(rec: dict[str, list[dict[str, Any]]]) -> int:
    return sum(1 for e in rec["event"] if e.get("name") == "internal_error")


def out_of_range(rec: dict[str, list[dict[str, Any]]]) -> int:
    bad = 0
    for r in rec["r"]:
        sp, pr = r.get("spo2"), r.get("pulse")
        bad_sp = sp is not None and not (0 <= sp <= 100 and math.isfinite(sp))
        bad_pr = pr is not None and not (0 <= pr <= 300 and math.isfinite(pr))
        bad += bad_sp or bad_pr
    return bad


def first_after(ts: list[float], t: float, eps: float = 1e-6) -> float | None:
    for x in ts:
        if x >= t - eps:
            return x
    return None


def row(fault: str, transport: str, injected: int | str, detected: int | str,
        latency: float | None, bound: str, ok: bool, note: str = "") -> dict[str, Any]:
    return {"fault": fault, "transport": transport, "injected": injected,
            "detected": detected, "max_latency_s": latency, "bound": bound, "pass": ok,
            "note": note}


def lat_check(events: list[float], alarm_ts: list[float], bound: float
               ) -> tuple[int, float | None]:
    det, worst = 0, None
    for t in events:
        a = first_after(alarm_ts, t)
        if a is not None and a - t <= bound + 1e-6:
            det += 1
        if a is not None:
            worst = a - t if worst is None else max(worst, a - t)
    return det, worst
