"""Runs the benchmarks and prints a table of measured values, baselines and ratios."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import platform
import sys
import time
from pathlib import Path

import benchmarks


def _fmt(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        if v == 0:
            return "0"
        if abs(v) >= 1000:
            return f"{v:,.0f}"
        if abs(v) >= 10:
            return f"{v:.1f}"
        return f"{v:.3g}"
    return str(v)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    ap.add_argument("names", nargs="*", help="run only these (e.g. analysis monitor); "
                    "'agreement' compares with pobm and o2ring-analyzer (installs them)")
    ap.add_argument("--full", action="store_true", help="full sizes (slower) instead of quick")
    args = ap.parse_args(argv)
    mods = [m.name for m in pkgutil.iter_modules([str(Path(benchmarks.__file__).parent)])
            if m.name.startswith("bench_")]
    if args.names:
        mods = [m for m in mods if m.removeprefix("bench_") in args.names or m in args.names]
        # the agreement run installs the reference tools: only when asked for by name
        mods += [m for m in ("agreement",) if m in args.names]
    print(f"# oxi-assist benchmarks ({'full' if args.full else 'quick'}) on "
          f"{platform.machine()} / Python {platform.python_version()} / "
          f"{platform.system()}")
    header = ("benchmark", "value", "unit", "baseline", "ratio", "target")
    rows: list[tuple[str, ...]] = []
    failed = 0
    for name in sorted(mods):
        t0 = time.perf_counter()
        try:
            mod = importlib.import_module(f"benchmarks.{name}")
            result = mod.run(quick=not args.full)
        except Exception as e:  # a broken benchmark must not hide the others' figures
            failed += 1
            rows.append((name, "FAILED", type(e).__name__, str(e)[:60], "-", "-"))
            continue
        for r in result:
            rows.append(tuple(_fmt(r.get(k)) for k in header))
        print(f"  ran {name} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
