"""Recorded-trace import: speed (samples/s) for a CSV, a binary and an EDF file of a night, and
peak memory while importing a large CSV, each against a naive import measured in the same run.

The naive baselines do what a straightforward importer does: the csv module row by row with
`strptime` and `float()` per field (or a Python loop over the bytes), building one `Reading`
per sample. Memory is measured in a fresh subprocess with tracemalloc (peak bytes allocated,
numpy included), and the time in another without it, so one measurement cannot inflate another.
Quick mode (`python -m benchmarks`) uses a 2 h night and a 4 MB CSV; `--full` a 24 h night
and a 100 MB CSV (the naive baseline then runs on a 4 MB file and is compared per sample: its
import of 100 MB under tracemalloc takes far too long). Memory ratios are baseline / ours
(how many times less memory); speed ratios ours / baseline.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from drivers.formats import edf, load  # noqa: E402
from drivers.formats._base import Recording  # noqa: E402
from drivers.reading import Reading, Status  # noqa: E402

START = dt.datetime(2024, 1, 14, 22, 0, 0)


def _night(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """A plausible 1 Hz night: SpO2 drifting 88–99 with dips, pulse 50–90, 2 % finger-out."""
    rng = np.random.default_rng(seed)
    spo2 = np.clip(np.rint(95 + np.cumsum(rng.normal(0, 0.05, n)) % 4
                           - 6 * (rng.random(n) < 0.01)), 80, 100)
    pulse = np.clip(np.rint(65 + 10 * np.sin(np.arange(n) / 900) + rng.normal(0, 2, n)), 40, 150)
    gap = rng.random(n) < 0.02
    spo2[gap] = -1
    pulse[gap] = -1
    return spo2.astype(int), pulse.astype(int)


def write_vihealth_csv(path: Path, n: int) -> int:
    """A ViHealth 4-column export (`HH:MM:SS DD/MM/YYYY`, `--` for no reading)."""
    spo2, pulse = _night(min(n, 86400))
    tod = [f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}" for s in range(86400)]
    off = START.hour * 3600
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("Time,Oxygen Level,Pulse Rate,Motion\n")
        i = 0
        while i < n:
            day = (START + dt.timedelta(seconds=i)).date()
            ds = day.strftime("%d/%m/%Y")
            k0 = (off + i) % 86400
            m = min(n - i, 86400 - k0)
            rows = []
            for j in range(m):
                s, p = spo2[(i + j) % len(spo2)], pulse[(i + j) % len(pulse)]
                vals = "--,--" if s < 0 else f"{s},{p}"
                rows.append(f"{tod[k0 + j]} {ds},{vals},0\n")
            f.write("".join(rows))
            i += m
    return n


def write_contec_spo2(path: Path, n: int) -> int:
    spo2, pulse = _night(n)
    recs = np.empty((n, 2), dtype=np.uint8)
    recs[:, 0] = np.where(spo2 < 0, 127, spo2)
    recs[:, 1] = np.where(pulse < 0, 255, pulse)
    h = 856
    head = struct.pack("<H", h) + bytes(h - 2) + b"\x01" + bytes(199)
    head += struct.pack("<7I", START.year, START.month, START.day, START.hour, START.minute,
                        START.second, n)
    path.write_bytes(head + recs.tobytes())
    return n


def write_edf(path: Path, n: int) -> int:
    spo2, pulse = _night(n)
    rec = Recording.from_arrays(path, "bench", np.arange(n, dtype=float),
                                np.where(spo2 < 0, np.nan, spo2).astype(float),
                                np.where(pulse < 0, np.nan, pulse).astype(float),
                                start_wall=START.timestamp(), interval=1.0)
    edf.write(rec, path)
    return n


# ---- naive baselines ---------------------------------------------------------------------

def naive_csv(path: Path) -> list[Reading]:
    out: list[Reading] = []
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = csv.reader(f)
        next(rows)
        t0 = None
        for row in rows:
            ts = dt.datetime.strptime(row[0], "%H:%M:%S %d/%m/%Y").timestamp()
            t0 = ts if t0 is None else t0
            s = None if row[1].strip() in ("--", "- -") else float(row[1])
            p = None if row[2].strip() in ("--", "- -") else float(row[2])
            out.append(Reading(t=ts - t0, spo2=s, pulse=p,
                               status=Status.FINGER_OUT if s is None else Status.NONE))
    return out


def naive_contec(path: Path) -> list[Reading]:
    data = path.read_bytes()
    h = struct.unpack_from("<H", data, 0)[0]
    n = struct.unpack_from("<I", data, h + 224)[0]
    out: list[Reading] = []
    for i in range(n):
        s, p = data[h + 228 + 2 * i], data[h + 229 + 2 * i]
        bad = s == 127 or p == 255
        out.append(Reading(t=float(i), spo2=None if bad else float(s),
                           pulse=None if bad else float(p),
                           status=Status.FINGER_OUT if bad else Status.NONE))
    return out


def naive_edf(path: Path) -> list[Reading]:
    """Straight EDF parsing in Python: header fields, then every 16-bit sample unpacked."""
    data = path.read_bytes()
    ns = int(data[252:256])
    nrec = int(data[236:244])
    off = 256

    def field(width: int) -> list[bytes]:
        nonlocal off
        vals = [data[off + i * width: off + (i + 1) * width] for i in range(ns)]
        off += width * ns
        return vals

    labels = [x.strip().decode() for x in field(16)]
    field(80)
    field(8)
    pmin = [float(x) for x in field(8)]
    pmax = [float(x) for x in field(8)]
    dmin = [int(x) for x in field(8)]
    dmax = [int(x) for x in field(8)]
    field(80)
    spr = [int(x) for x in field(8)]
    start = 256 * (ns + 1)
    per_rec = sum(spr)
    cols: dict[str, list[float | None]] = {lab: [] for lab in labels}
    for r in range(nrec):
        pos = start + r * per_rec * 2
        for k in range(ns):
            for _ in range(spr[k]):
                d = struct.unpack_from("<h", data, pos)[0]
                pos += 2
                g = (pmax[k] - pmin[k]) / (dmax[k] - dmin[k])
                cols[labels[k]].append(None if d == -1 else (d - dmin[k]) * g + pmin[k])
    return [Reading(t=float(i), spo2=s, pulse=p,
                    status=Status.FINGER_OUT if s is None else Status.NONE)
            for i, (s, p) in enumerate(zip(cols["SpO2"], cols["Pulse"], strict=False))]


# ---- measurement -------------------------------------------------------------------------

def _rate(fn: Callable[[Path], object], path: Path, n: int, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = fn(path)
        dt_ = time.perf_counter() - t0
        best = min(best, dt_)
        got = len(res.readings) if hasattr(res, "readings") else len(res)
        if got != n:
            raise RuntimeError(f"{fn.__name__} read {got} samples of {n}")
    return n / best


_MEM_CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[3])
from benchmarks.bench_formats import naive_csv
from drivers.formats import load
def peak():
    try:
        import resource
        r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return r * (1 if sys.platform == "darwin" else 1024)
    except ImportError:
        return None
mode, path = sys.argv[1], sys.argv[2]
import tracemalloc
use_tm = sys.argv[4] == "tm"
before = None if use_tm else peak()
use_tm = use_tm or before is None
if use_tm:
    tracemalloc.start()
t0 = time.perf_counter()
if mode == "ours":
    rec = load(path)
    n = len(rec.readings)
else:
    n = len(naive_csv(path))
el = time.perf_counter() - t0
grow = tracemalloc.get_traced_memory()[1] if use_tm else peak() - before
print(json.dumps({"bytes": grow, "n": n, "seconds": el}))
"""


def _child(mode: str, path: Path, how: str) -> dict[str, float]:
    r = subprocess.run([sys.executable, "-c", _MEM_CHILD, mode, str(path), str(ROOT), how],
                       capture_output=True, text=True, timeout=900, cwd=ROOT)
    if r.returncode:
        raise RuntimeError(f"memory child ({mode}) failed: {r.stderr.strip()[-300:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def _mem(mode: str, path: Path) -> dict[str, float]:
    """Peak bytes allocated (tracemalloc, which numpy reports to, so a small import is never
    hidden under the interpreter's earlier peak RSS) and the import time, from separate runs
    so the tracing does not slow the timed one."""
    traced = _child(mode, path, "tm")
    timed = _child(mode, path, "rss")
    return {"bytes": traced["bytes"], "n": traced["n"], "seconds": timed["seconds"]}


def run(quick: bool = False) -> list[dict]:
    hours = 2 if quick else 24
    n = hours * 3600
    big_mb = 4 if quick else 100
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="oxi-bench-") as tmp:
        d = Path(tmp)

        def row(name: str, value: float, unit: str, base: float | None, target: str | None,
                lower_is_better: bool = False) -> None:
            ratio = None
            if base:
                ratio = base / value if lower_is_better else value / base
            rows.append({"benchmark": name, "value": value, "unit": unit, "baseline": base,
                         "ratio": ratio, "target": target})

        p = d / "night.csv"
        write_vihealth_csv(p, n)
        row(f"import ViHealth CSV ({hours} h, 1 Hz)", _rate(load, p, n), "samples/s",
            _rate(naive_csv, p, n, repeat=1), "> baseline")
        p = d / "night.SpO2"
        write_contec_spo2(p, n)
        row(f"import Contec .SpO2 binary ({hours} h)", _rate(load, p, n), "samples/s",
            _rate(naive_contec, p, n, repeat=1), "> baseline")
        p = d / "night.edf"
        write_edf(p, n)
        row(f"import EDF+ SpO2/pulse ({hours} h)", _rate(load, p, n), "samples/s",
            _rate(naive_edf, p, n, repeat=1), "> baseline")

        big = d / "big.csv"
        write_vihealth_csv(big, int(big_mb * 1024 * 1024 / 30))  # ~30 bytes a row
        size_mb = big.stat().st_size / 1e6
        ours = _mem("ours", big)
        # the naive import of 100 MB under tracemalloc takes far too long to wait for, so the
        # baseline runs on (at most) a 4 MB file of the same dialect and compares per sample
        small = big
        if big_mb > 4:
            small = d / "small.csv"
            write_vihealth_csv(small, int(4 * 1024 * 1024 / 30))
        base = _mem("naive", small)
        base_mb = small.stat().st_size / 1e6
        rows.append({"benchmark": f"peak memory importing a {size_mb:.0f} MB CSV",
                     "value": ours["bytes"] / 1e6, "unit": "MB", "baseline": None,
                     "ratio": None, "target": "bounded by the samples kept"})
        rows.append({"benchmark": f"bytes per sample importing the {size_mb:.0f} MB CSV "
                                  f"(baseline on {base_mb:.0f} MB)",
                     "value": ours["bytes"] / ours["n"], "unit": "B/sample",
                     "baseline": base["bytes"] / base["n"],
                     "ratio": (base["bytes"] / base["n"]) / (ours["bytes"] / ours["n"]),
                     "target": "less than baseline"})
        row(f"import speed on the {size_mb:.0f} MB CSV (baseline on {base_mb:.0f} MB)",
            ours["n"] / ours["seconds"], "samples/s", base["n"] / base["seconds"], "> baseline")
    return rows


if __name__ == "__main__":
    full = "--full" in sys.argv
    for r in run(quick=not full):
        print(r)
