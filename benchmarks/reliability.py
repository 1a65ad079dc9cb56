"""Reliability under load, faults and bad input, measured and published as docs/RELIABILITY.md.

    python -m benchmarks.reliability                 # quick (a couple of minutes)
    python -m benchmarks.reliability --full          # the published run
    python -m benchmarks.reliability --out FILE.md   # write elsewhere

Parts: (a) soak through the whole pipeline (in-process codec path, the virtual serial device on
a real pty, the virtual BLE peripheral through bleak), (b) the fault matrix, (c) fuzzing of
every codec and file reader, (d) crash safety (SIGKILL mid-session), (e) privacy checks, (f) the
file system and edges: the bad-input corpus, every case as its own process
(`benchmarks/reliability_files.py`; with --full only, a quick run keeps the page's last table of
it). Every figure in the page is measured in the run that writes it; a part that could not run
says so. The exit code is 1 when any check fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def _machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        cpu = platform.processor()
    return (f"{platform.system()} {platform.release()} {platform.machine()}, "
            f"{os.cpu_count()} CPUs{' (' + cpu + ')' if cpu else ''}; "
            f"Python {platform.python_version()} ({platform.python_implementation()})")


def _f(v: Any, nd: int = 2) -> str:
    if v is None:
        return "–"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if v != v:
            return "n/a"
        return f"{v:,.{nd}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v).replace("|", "\\|")


def _dur(s: float) -> str:
    s = round(s)
    if s >= 3600:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 60} min {s % 60:02d} s"


def _table(head: list[str], rows: list[list[Any]]) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(_f(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


class Run:
    """Collects each part's result (or its failure) so one broken part cannot hide the rest."""

    def __init__(self) -> None:
        self.failures: list[str] = []
        self.errors: list[str] = []

    def part(self, name: str, fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        print(f"  {name} …", file=sys.stderr, flush=True)
        try:
            return fn()
        except Exception as e:
            self.errors.append(f"{name}: {type(e).__name__}: {e}")
            traceback.print_exc()
            return None
        finally:
            print(f"  {name} done in {time.perf_counter() - t0:.1f} s", file=sys.stderr,
                  flush=True)


def soak_section(run: Run, full: bool, hours: float | None) -> str:
    from benchmarks import reliability_soak as soak
    from benchmarks import reliability_ui as soak_ui

    shift = (hours if hours is not None else (12.0 if full else 1 / 6)) * 3600
    ip_s = min(shift, 2 * 3600.0)  # the same codec and Session as the pty path, bytes in pieces
    gaps = {"gap_every": 600.0, "gap_len": 20.0} if shift >= 3600 else \
        {"gap_every": 120.0, "gap_len": 10.0}
    res = [
        run.part("soak in-process", lambda: soak.soak_inprocess(ip_s, **gaps)),
        run.part("soak pty", lambda: soak.soak_pty(shift, rate=100, **gaps)),
        run.part("soak BLE", lambda: soak.soak_ble(shift if full else 3600.0)),
        run.part("soak UI", lambda: soak_ui.soak_ui(3600.0 if full else 600.0, redraw_every=0.5,
                                                    **gaps)),
    ]
    rows = []
    notes = []
    for r in res:
        if r is None:
            continue
        if "skipped" in r:
            notes.append(f"- {r['path']}: skipped ({r['skipped']}).")
            continue
        growth = r["rss_end"] - r.get("rss_warm", r["rss_start"])
        # on the screen: no figure in any gap nor after the end (no reading is never a value)
        blank = [*r.get("spo2_in_gaps", ()), r.get("spo2_after_end", "")]
        screen_ok = not any(ch.isdigit() for text in blank for ch in str(text))
        ok = (r["generated"] == r["recorded"] and r["gaps_recorded"] == r["gaps_generated"]
              and growth < 10.0 and r.get("ended", True) and screen_ok)
        if not ok:
            run.failures.append(f"soak {r['path']}")
        rows.append([r["path"], r["clock"], _dur(r["simulated_s"]),
                     r["generated"], r["recorded"],
                     f"{r['gaps_injected']} / {r['gaps_generated']} / {r['gaps_recorded']}",
                     f"{r['rss_start']:.1f} → {r.get('rss_warm', r['rss_start']):.1f} → "
                     f"{r['rss_end']:.1f}", f"{growth:+.1f}", f"{r['wall_s']:.1f}",
                     "pass" if ok else "FAIL"])
        if "step" in r:
            notes.append(f"- pty: {r['rate']} frames/s of CMS50 V7.0 framing (the units stream "
                         f"60/s) on a virtual clock in lockstep with the device and host threads "
                         f"(`benchmarks/reliability_lockstep.py`): the clock moved {r['step']:g} s "
                         f"a step and each step's frames reached the host as one burst; frames "
                         f"dropped by the device's FIFO: {r['generator_dropped']}; bounded "
                         f"real-time waits that ran out: {r['settle_timeouts']}.")
        if "redraws" in r:
            notes.append(f"- UI headless: the real app as `oxi-assist demo` builds it "
                         f"({r['size'][0]}×{r['size'][1]}), fed 1 Hz vitals with 100 Hz pleth, "
                         f"polled every {r['redraw_every']:g} s of simulated time (live it polls "
                         f"at 10 Hz; Textual's timers run on real time, not the virtual clock): "
                         f"{r['redraws']:,} redraws ({r['polls_timer']:,} from the app's own "
                         f"timer), {r['screen_updates']:,} screen updates; SpO2 on screen in "
                         f"the {len(r['spo2_in_gaps'])} gaps and after the end: "
                         f"{'no figure (pass)' if screen_ok else 'A FIGURE (fail)'}; while "
                         f"valid it showed {', '.join(sorted(set(r['spo2_shown']))[:6])}.")
        if "codec_bad" in r:
            notes.append(f"- in-process: {r['rate']} frames/s (100 Hz pleth), bytes fed to the "
                         f"decoder in random 1–64-byte pieces; recording {r['file_mb']:.0f} MB; "
                         f"frames rejected by the decoder: {r['codec_bad']}.")
    head = ["path", "clock", "simulated", "frames generated", "readings recorded",
            "gaps injected / generated / recorded", "RSS MB start → warm → end",
            "growth after warm-up MB", "wall s", "result"]
    from benchmarks.reliability_common import rss_method

    return "\n".join([
        "## Soak: a simulated shift through the whole pipeline", "",
        "Each path ends in a real `Session` (Monitor, the default guidance, the recorder to a "
        "temporary folder); the recorded counts are read back from the file. Gaps are injected "
        "as finger-out stretches on the quiet `baseline` scenario. \"Warm\" is the resident "
        f"memory after the first tenth of the run (at most 10 minutes); memory is read from "
        f"{rss_method()}. Pass: generated = recorded, gaps generated = gaps recorded, growth "
        "after warm-up under 10 MB, and on the screen no SpO2 figure in any gap. Part of the "
        "growth is kept on purpose: a Session holds the whole session's vitals for the trend "
        "and the debrief, at most 4 samples a second of 32 bytes (5.5 MB for 12 h); the "
        "virtual devices count what they send without keeping it.", "",
        _table(head, rows), "", *notes, ""])


def faults_section(run: Run, full: bool) -> str:
    from benchmarks.reliability_faults import run_matrix

    rows = run.part("fault matrix", lambda: run_matrix(quick=not full)) or []
    out = []
    for r in rows:
        if not r["pass"]:
            run.failures.append(f"fault {r['fault']} on {r['transport']}")
        lat = r["max_latency_s"]
        out.append([r["fault"], r["transport"], r["injected"], r["detected"],
                    None if lat is None else round(lat, 3), r["bound"],
                    "pass" if r["pass"] else "FAIL", r["note"]])
    from benchmarks import reliability_faults as F

    return "\n".join([
        "## Fault matrix", "",
        (F.__doc__ or "").split("\n\n", 1)[1].strip(), "",
        _table(["fault", "transport", "injected", "detected", "max detection latency s",
                "bound", "result", "note"], out), ""])


FUZZ_FULL = (1_000_000, 1_000_000)  # inputs per codec, per reader
FUZZ_QUICK = (20_000, 400)


def start_fuzz(run: Run, full: bool) -> Any:
    from benchmarks.reliability_fuzz import FuzzPool

    codecs, readers = FUZZ_FULL if full else FUZZ_QUICK
    return run.part("fuzz started", lambda: FuzzPool(codecs, readers))


def fuzz_section(run: Run, full: bool, pool: Any) -> str:
    rows = (run.part("fuzz (waiting for the workers)", pool.results) or []) if pool else []
    out = []
    problems = []
    total = 0
    for r in rows:
        ok = r["exceptions"] == 0 and r["out_of_range"] == 0
        total += r["inputs"]
        if not ok:
            run.failures.append(f"fuzz {r['target']}")
            problems.append(f"- {r['target']}: {r['first_problem'].splitlines()[0][:300]}")
        out.append([r["target"], r["kind"], r["inputs"], r["valid_seeds"], r["readings"],
                    r["exceptions"], r["out_of_range"], round(r["wall_s"], 1),
                    "pass" if ok else "FAIL"])
    codecs, readers = FUZZ_FULL if full else FUZZ_QUICK
    budget = (f"{codecs:,} inputs per codec and {readers:,} per reader"
              + ("" if full else " (quick mode)"))
    workers = getattr(pool, "workers", 0)
    pool_wall = getattr(pool, "wall_s", None)
    return "\n".join([
        "## Fuzzing", "",
        "A seeded mutator (random bytes, truncations, bit flips, edge-value overwrites, "
        "insertions and splices of valid frames or files). Codec inputs are fed to one "
        "decoder (a fresh one every 64 inputs, so state carries across inputs); reader inputs "
        "are written to a file (in a RAM-backed folder where there is one) and loaded with the "
        "format forced (80 %) or detected (20 %). The targets ran in "
        f"{workers} worker processes alongside the soak and the fault matrix"
        + (f" ({pool_wall / 60:.1f} min from start to the last target)" if pool_wall else "")
        + "; \"wall s\" is each target's own time in its worker. "
        f"Sizes: {budget}. \"decoded\" is readings out of a codec or files a reader accepted. "
        "Pass: no exception other than `OxiError`, no out-of-range value reported as valid "
        "(SpO2 outside 0–100, pulse outside 0–300, NaN/inf).", "",
        _table(["target", "kind", "inputs", "valid seeds", "decoded / accepted",
                "undocumented exceptions", "out of range as valid", "wall s", "result"], out),
        "", f"Inputs in total: {total:,}.", *problems, ""])


def safety_section(run: Run) -> str:
    from benchmarks import reliability_safety as S

    crash = run.part("crash (SIGKILL)", S.crash_test) or {}
    hits = run.part("network source scan", S.scan_sources)
    socks = run.part("sockets owned", S.inet_sockets) or {}
    norec = run.part("--no-record", S.no_record_check) or {}
    modes = run.part("file modes", S.file_modes) or {}
    lines = ["## Crash safety", ""]
    if "skipped" in crash:
        lines.append(f"Skipped: {crash['skipped']}.")
    elif crash:
        if not crash.get("pass"):
            run.failures.append("crash safety")
        lines += [
            "A recording process (the live composition: `sim:opioid-overdose` through the "
            "screen's own `session_maker`, real clock, no screen) was killed with SIGKILL "
            f"after {crash['killed_at_s']:.2f} s of session time.", "",
            _table(["check", "measured", "result"], [
                ["file readable after the kill", crash.get("readable"),
                 "pass" if crash.get("readable") else "FAIL"],
                ["marked interrupted", crash.get("interrupted"),
                 "pass" if crash.get("interrupted") else "FAIL"],
                ["session time lost (≤ 1 s)", None if crash.get("lost_s") is None
                 else f"{crash['lost_s']:.2f} s", "pass" if crash.get("lost_s") is not None
                 and crash["lost_s"] <= 1.0 else "FAIL"],
                ["`oxi-assist sessions` lists it as interrupted",
                 crash.get("sessions_lists_interrupted"),
                 "pass" if crash.get("sessions_lists_interrupted") else "FAIL"],
                ["`oxi-assist debrief FILE --text` works", crash.get("debrief_ok"),
                 "pass" if crash.get("debrief_ok") else "FAIL"],
            ]), ""]
    priv = []
    if modes.get("checked"):
        ok = modes.get("pass")
        priv.append(["recording file / folder mode (umask 022)",
                     f"{modes['file_mode']} / {modes['dir_mode']}", "pass" if ok else "FAIL"])
        if not ok:
            run.failures.append("file modes")
    else:
        priv.append(["recording file / folder mode", modes.get("why", "not run"), "–"])
    if hits is not None:
        priv.append(["modules that open a network socket (source scan of drivers, "
                     "simulators, oxi_assist; the classroom package, networked by design "
                     "for `class` and `join`, excepted)", len(hits),
                     "pass" if not hits else "FAIL"])
        if hits:
            run.failures.append("network source scan")
    if socks.get("checked"):
        n = len(socks["inet"])
        priv.append(["TCP/UDP sockets owned by this process after the soak and the faults "
                     "(listening or outbound, /proc/net)", n, "pass" if n == 0 else "FAIL"])
        if n:
            run.failures.append("sockets")
    else:
        priv.append(["TCP/UDP sockets owned by this process", socks.get("why", "not run"), "–"])
    if norec:
        priv.append(["files written with `--no-record`", len(norec.get("files_written", [])),
                     "pass" if norec.get("pass") else "FAIL"])
        if not norec.get("pass"):
            run.failures.append("--no-record")
    lines += ["## Privacy and security", "", _table(["check", "measured", "result"], priv), ""]
    if hits:
        lines += ["Socket-opening lines found:", "", *[f"- `{h}`" for h in hits], ""]
    return "\n".join(lines)


def _classroom_block(page: Path) -> str:
    """The classroom section (written by `python -m benchmarks.bench_classroom --write-docs`,
    which needs 30 processes and a broker) is carried over when this page is rewritten."""
    from benchmarks.bench_classroom import BEGIN, END

    try:
        old = page.read_text(encoding="utf-8")
    except OSError:
        return ""
    if BEGIN not in old or END not in old:
        return ""
    return "\n## Classroom (MQTT)\n\n" + old[old.index(BEGIN):old.index(END) + len(END)] + "\n"

def files_section(run: Run, full: bool, out: Path) -> str:
    """The corpus table (full runs), or the one already on the page (quick runs)."""
    from benchmarks import reliability_files as F

    if not full:
        page = out.read_text(encoding="utf-8") if out.exists() else ""
        start = page.find(F.SECTION)
        if start < 0:
            return ""
        nxt = page.find("\n## ", start + len(F.SECTION))
        return page[start:] if nxt < 0 else page[start:nxt + 1]

    def corpus() -> list[Any]:
        import tempfile

        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="oxi-corpus-") as d:
            results = F.run_all(F.load_cases(), Path(d), jobs=2)
        corpus.wall = time.perf_counter() - t0  # type: ignore[attr-defined]
        return results

    results = run.part("bad-input corpus", corpus) or []
    if not results:
        return ""
    if not all(r.ok for r in results):
        run.failures.append("bad-input corpus")
    return F.section(results, wall=getattr(corpus, "wall", 0.0), jobs=2)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.reliability",
                                 description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", action="store_true", help="the published sizes (long)")
    ap.add_argument("--out", default=str(ROOT / "docs" / "RELIABILITY.md"),
                    help="where to write the page (default docs/RELIABILITY.md)")
    ap.add_argument("--soak-hours", type=float, default=None,
                    help="simulated hours of the pty and BLE soaks (default 12 full, 10 min quick; "
                         "the in-process soak runs at most 2 h)")
    args = ap.parse_args(argv)
    try:  # the whole tree imports before a long run starts (fail in seconds, not at hour one)
        from drivers.formats import format_modules
        from drivers.protocols import registry

        registry()
        format_modules()
        import drivers.ble_transport  # noqa: F401
        import simulators.ble.console
        import simulators.virtual_serial  # noqa: F401
    except Exception as e:
        print(f"reliability: the code does not import: {type(e).__name__}: {e}",
              file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    started = dt.datetime.now(dt.UTC)
    run = Run()
    print(f"reliability run ({'full' if args.full else 'quick'})", file=sys.stderr)
    pool = start_fuzz(run, args.full)  # first: it runs beside everything else
    parts = [soak_section(run, args.full, args.soak_hours), faults_section(run, args.full),
             fuzz_section(run, args.full, pool)]
    parts.append(files_section(run, args.full, Path(args.out)))
    parts.append(safety_section(run))  # last: the socket check sees everything above
    wall = time.perf_counter() - t0
    cmd = "python -m benchmarks.reliability" + (" --full" if args.full else "")
    if args.soak_hours is not None:
        cmd += f" --soak-hours {args.soak_hours:g}"
    verdict = ("all checks passed" if not run.failures and not run.errors else
               "FAILED: " + "; ".join(run.failures + run.errors))
    head = [
        "# Reliability under load, faults and bad input", "",
        "Generated by `benchmarks/reliability.py`; do not edit by hand. Regenerate with:", "",
        "```", f"{cmd}   # from the repository root; add --out FILE to write elsewhere",
        "```", "",
        f"- Run: {'full (published sizes)' if args.full else 'quick'}, "
        f"{started:%Y-%m-%d %H:%M} UTC, {wall / 60:.1f} min wall time",
        f"- Machine: {_machine()}",
        f"- Result: {verdict}", "",
    ]
    if run.errors:
        head += ["Parts that raised (no figures from them):", "",
                 *[f"- {e}" for e in run.errors], ""]
    text = "\n".join(head + parts).rstrip() + "\n"
    out = Path(args.out)
    text += _classroom_block(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)
    print(f"wrote {out} in {wall:.1f} s", file=sys.stderr)
    return 0 if not run.failures and not run.errors else 1


if __name__ == "__main__":
    sys.exit(main())
