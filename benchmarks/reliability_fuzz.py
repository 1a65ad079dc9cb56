"""Fuzzing at scale with a seeded mutator: every codec in `drivers.protocols.registry()` and
every reader in `drivers.formats.format_modules()`.

Inputs are random bytes, truncations, bit flips, byte overwrites, duplications and splices of
valid frames or files (valid seeds come from each codec's own `encode`, the format writers, a
few synthesised binary files and, when present, the shared captured vectors). Each input is
judged on two counts:

- an exception other than the documented ones (`OxiError` and its subclasses: a codec's `feed`
  documents none, a reader documents `FormatError`) is a failure;
- a value reported as valid but out of range (SpO2 outside 0–100, pulse outside 0–300, or any
  NaN/inf in a value or a time) is a failure.
"""

from __future__ import annotations

import math
import os
import random
import struct
import tempfile
import time
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from drivers.errors import OxiError
from drivers.formats._base import ReadingArrays
from drivers.reading import Reading, Status

DETECT_SHARE = 0.2  # inputs loaded through detection, as `load` is used
SEED_HEAD = 65536  # bytes of each captured file used as a seed
VECTORS = Path(os.environ.get("OXI_VECTORS", Path(__file__).resolve().parents[2] / "shared"
                              / "vectors"))


def bad_value(r: Any) -> str:
    """Why a decoded Reading reports an impossible value as valid ("" when it does not)."""
    if not isinstance(r, Reading):
        return f"not a Reading: {type(r).__name__}"
    if not (isinstance(r.t, int | float) and math.isfinite(r.t)):
        return f"time {r.t!r}"
    for name, v, lo, hi in (("spo2", r.spo2, 0, 100), ("pulse", r.pulse, 0, 300)):
        if v is not None and not (math.isfinite(v) and lo <= v <= hi):
            return f"{name} {v!r}"
    if r.pi is not None and not math.isfinite(r.pi):
        return f"pi {r.pi!r}"
    if any(not math.isfinite(p) for p in r.pleth):
        return "non-finite pleth"
    return ""


def _sample_readings() -> list[Reading]:
    out = []
    for i in range(12):
        st = Status.FINGER_OUT if i == 7 else Status.BEAT if i % 2 else Status.NONE
        out.append(Reading(t=float(i), spo2=None if i == 7 else 90.0 + i % 9,
                           pulse=None if i == 7 else 55.0 + 11 * i, pi=1.0 + i / 10,
                           pleth=tuple(float(10 + 7 * k) for k in range(5)),
                           pleth_rate=50.0, status=st))
    return out


def codec_seeds(cls: type[Any]) -> list[bytes]:
    """Valid bytes for a codec from its own encode side (whatever its signature)."""
    seeds: list[bytes] = []
    enc = getattr(cls, "encode", None)
    if enc is None:
        return seeds
    for r in _sample_readings():
        for call in (lambda r=r: enc(r), lambda r=r: cls().encode(r)):
            try:
                b = call()
            except Exception:
                continue
            if isinstance(b, bytes | bytearray) and b:
                seeds.append(bytes(b))
                break
    return seeds


def mutate(rng: random.Random, seeds: list[bytes]) -> bytes:
    """One fuzz input from the seeds: a mix of the usual mutations."""
    op = rng.randrange(7)
    if not seeds or op == 0:
        return rng.randbytes(rng.randrange(0, 96))
    s = bytearray(rng.choice(seeds))
    if op == 1 and s:  # truncation (either end)
        a, b = sorted((rng.randrange(len(s) + 1), rng.randrange(len(s) + 1)))
        return bytes(s[a:b] if rng.random() < 0.5 else s[:b])
    if op == 2:  # bit flips
        for _ in range(rng.randint(1, 8)):
            if s:
                i = rng.randrange(len(s))
                s[i] ^= 1 << rng.randrange(8)
        return bytes(s)
    if op == 3:  # byte overwrites with edge values
        for _ in range(rng.randint(1, 6)):
            if s:
                s[rng.randrange(len(s))] = rng.choice((0, 0x7F, 0x80, 0xFF, rng.randrange(256)))
        return bytes(s)
    if op == 4:  # splice of several valid seeds, cut anywhere
        parts = [rng.choice(seeds) for _ in range(rng.randint(2, 5))]
        joined = b"".join(parts)
        a = rng.randrange(len(joined) + 1)
        return joined[a:] + joined[:a] if rng.random() < 0.3 else joined
    if op == 5 and s:  # duplicate a stretch / insert garbage
        i = rng.randrange(len(s))
        ins = (bytes(s[i:i + rng.randint(1, 16)]) if rng.random() < 0.5
               else rng.randbytes(rng.randint(1, 16)))
        return bytes(s[:i]) + ins + bytes(s[i:])
    return bytes(s) + rng.randbytes(rng.randint(1, 32))


def fuzz_codec(name: str, cls: type[Any], n: int, *, seed: int = 0,
               budget_s: float | None = None) -> dict[str, Any]:
    rng = random.Random(f"{name}:{seed}")
    seeds = codec_seeds(cls)
    codec = cls()
    done = errors = bad = readings = 0
    first = ""
    t0 = time.perf_counter()
    while done < n:
        if budget_s is not None and done % 256 == 0 and time.perf_counter() - t0 > budget_s:
            break
        if done % 64 == 0:
            codec = cls()  # a fresh decoder now and then; otherwise the state carries over
        data = mutate(rng, seeds)
        done += 1
        try:
            out = codec.feed(data)
        except OxiError:
            continue
        except Exception as e:
            errors += 1
            if not first:
                first = f"{type(e).__name__}: {e} ({traceback.format_exc(limit=-1).strip()})"
            codec = cls()
            continue
        readings += len(out)
        for r in out:
            why = bad_value(r)
            if why:
                bad += 1
                first = first or f"out of range: {why}"
    return {"target": name, "kind": "codec", "inputs": done, "valid_seeds": len(seeds),
            "readings": readings, "exceptions": errors, "out_of_range": bad,
            "first_problem": first, "wall_s": time.perf_counter() - t0}


# --- file readers -----------------------------------------------------------------------------

def _binary_seeds() -> list[tuple[str, bytes]]:
    """Small files of the binary formats, built by hand from FORMATS.md layouts."""
    vbin = (struct.pack("<HH5B", 3, 2020, 8, 17, 22, 52, 51) + struct.pack("<I", 90)[:3]
            + b"\0" + struct.pack("<H", 40) + bytes(23) + bytes([96, 70, 0, 0, 0]) * 10)
    tr = bytearray(48)
    tr[4:8] = b"\x48\x12\x5a\xda"
    tr[12:14] = struct.pack("<H", 10)
    tr[16:19] = bytes([1, 1, 3])
    o2s = bytes([1, 3, 0, 0, 0, 0, 0, 0, 4, 0]) + bytes([96, 70, 0]) * 10 + bytes(tr)
    md = bytes([7]) + struct.pack("<H", 12) + b"".join(
        bytes([0, 0, 7, 24, 1, 14, 23, 0, i * 4, 97, 70]) for i in range(12))
    return [("seed.bin", vbin), ("seed.o2s", o2s), ("seed.dat", md)]


def reader_seeds(tmp: Path) -> list[tuple[str, bytes]]:
    from drivers.formats import format_modules
    from drivers.formats._base import Recording

    rec = Recording(path="seed", format="seed", readings=_sample_readings(),
                    start_wall=1_700_000_000.0, interval=1.0)
    seeds: list[tuple[str, bytes]] = []
    for name, mod in format_modules().items():
        w = getattr(mod.FORMAT, "write", None)
        if w is None:
            continue
        p = tmp / f"seed-{name}{mod.FORMAT.extensions[0]}"
        try:
            w(rec, p)
            seeds.append((p.name, p.read_bytes()))
        except Exception:
            continue
    seeds += _binary_seeds()
    seeds.append(("viatom.csv", ("Time,SpO2(%),Pulse Rate(bpm),Motion,SpO2 Reminder,"
                                 "PR Reminder,\n" + "".join(
                                     f'"11:0{i // 10}:{i % 10}0PM Jan 14, 2024",{90 + i % 9},'
                                     f'{60 + i},0,0,0,\n' for i in range(30))).encode()))
    if VECTORS.is_dir():
        for p in sorted(VECTORS.rglob("*")):
            if p.is_file() and p.suffix.lower() not in (".md", ".hex", ".txt"):
                with open(p, "rb") as f:  # the head: a whole day's file per input is slow
                    seeds.append((p.name, f.read(SEED_HEAD)))  # and truncation is a mutation
    return seeds


def _check_columns(ra: Any) -> str:
    """`bad_value` over a reader's numpy columns at once (NaN is how a column says None)."""
    if not np.isfinite(ra.t).all():
        return f"time {ra.t[~np.isfinite(ra.t)][0]!r}"
    for name, a, lo, hi in (("spo2", ra.spo2, 0, 100), ("pulse", ra.pulse, 0, 300)):
        wrong = ~np.isnan(a) & ~((a >= lo) & (a <= hi))
        if wrong.any():
            return f"{name} {float(a[wrong][0])!r}"
    if ra.pi is not None and np.isinf(ra.pi).any():
        return "pi inf"
    return ""


def _check_recording(rec: Any) -> str:
    if isinstance(rec.readings, ReadingArrays):
        return _check_columns(rec.readings)
    try:
        readings: Iterable[Any] = rec.readings
        for r in readings:
            why = bad_value(r)
            if why:
                return why
    except OxiError:
        return ""
    return ""


def fuzz_reader(name: str, n: int, seeds: list[tuple[str, bytes]], tmp: Path, *,
                seed: int = 0, budget_s: float | None = None) -> dict[str, Any]:
    from drivers.formats import format_modules, load

    rng = random.Random(f"{name}:{seed}")
    mod = format_modules()[name]
    ext = mod.FORMAT.extensions[0] if mod.FORMAT.extensions else ".dat"
    blobs = [b for _, b in seeds]
    own = [b for fn, b in seeds if fn.endswith(mod.FORMAT.extensions or ("-",))] or blobs
    done = errors = bad = ok = 0
    first = ""
    t0 = time.perf_counter()
    p = tmp / f"fuzz-{name}{ext}"
    while done < n:
        if budget_s is not None and time.perf_counter() - t0 > budget_s:
            break
        pool = own if rng.random() < 0.7 else blobs
        p.write_bytes(mutate(rng, pool))
        done += 1
        detect = rng.random() < DETECT_SHARE
        try:
            rec = load(p) if detect else load(p, fmt=name)
            why = _check_recording(rec)
            ok += 1
        except OxiError:
            continue
        except Exception as e:
            errors += 1
            if not first:
                first = f"{type(e).__name__}: {e} ({traceback.format_exc(limit=-1).strip()})"
            continue
        if why:
            bad += 1
            first = first or f"out of range: {why}"
    return {"target": name, "kind": "reader", "inputs": done, "valid_seeds": len(own),
            "readings": ok, "exceptions": errors, "out_of_range": bad, "first_problem": first,
            "wall_s": time.perf_counter() - t0}


def _scratch() -> str | None:
    """A RAM-backed folder for the reader inputs where there is one (each input is a file)."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


def fuzz_target(kind: str, name: str, n: int, budget_s: float | None = None,
                seed: int = 0) -> dict[str, Any]:
    """One target, whole: what a worker process runs (its own seeds and scratch folder)."""
    if kind == "codec":
        from drivers.protocols import registry

        return fuzz_codec(name, registry()[name], n, seed=seed, budget_s=budget_s)
    with tempfile.TemporaryDirectory(dir=_scratch()) as d:
        tmp = Path(d)
        seeds = reader_seeds(tmp)
        for fn, data in seeds:  # a WFDB header names its signal file: let it be there
            if fn.endswith(".dat"):
                (tmp / fn).write_bytes(data)
        return fuzz_reader(name, n, seeds, tmp, seed=seed, budget_s=budget_s)


def targets() -> list[tuple[str, str]]:
    from drivers.formats import format_modules
    from drivers.protocols import registry

    return ([("codec", n) for n in sorted(registry())]
            + [("reader", n) for n in sorted(format_modules())])


def run_fuzz(codec_inputs: int, reader_inputs: int, *, budget_codec: float | None = None,
             budget_reader: float | None = None) -> list[dict[str, Any]]:
    """Every target in this process, one after the other."""
    return [fuzz_target(kind, name, codec_inputs if kind == "codec" else reader_inputs,
                        budget_codec if kind == "codec" else budget_reader)
            for kind, name in targets()]


class FuzzPool:
    """Every target in worker processes, started before the other parts of a run so that the
    fuzzing (most of a full run's CPU time) uses the cores the soak leaves idle. Readers go
    first: they are the slowest per input."""

    def __init__(self, codec_inputs: int, reader_inputs: int,
                 workers: int | None = None) -> None:
        from concurrent.futures import ProcessPoolExecutor

        self.workers = workers or os.cpu_count() or 1
        self.t0 = time.perf_counter()
        self._pool = ProcessPoolExecutor(max_workers=self.workers)
        order = sorted(targets(), key=lambda t: t[0] != "reader")
        self._jobs = [((kind, name), self._pool.submit(
            fuzz_target, kind, name, codec_inputs if kind == "codec" else reader_inputs))
            for kind, name in order]

    def results(self) -> list[dict[str, Any]]:
        """Waits for every target; a worker that died is a failed row, not a lost one."""
        rows = []
        for (kind, name), fut in self._jobs:
            try:
                rows.append(fut.result())
            except Exception as e:
                rows.append({"target": name, "kind": kind, "inputs": 0, "valid_seeds": 0,
                             "readings": 0, "exceptions": 1, "out_of_range": 0,
                             "first_problem": f"worker failed: {type(e).__name__}: {e}",
                             "wall_s": 0.0})
        self._pool.shutdown()
        self.wall_s = time.perf_counter() - self.t0
        return sorted(rows, key=lambda r: (r["kind"], r["target"]))
