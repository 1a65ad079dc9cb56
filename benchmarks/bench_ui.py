"""The live screen's cost: CPU use of `oxi-assist demo` and sample-to-screen latency.

The demo runs as it does for a user — the real CLI path (`build_app`), the simulator at 1× with
a 100 Hz pleth delivered 50 times a second, the Session, Monitor and guide, and Textual's real
terminal driver writing to a pseudo-terminal — in a child process, so its own CPU time
(user + system) over a stretch of wall time is what is measured. Latency is measured inside the
app from the first session change after a redraw to the moment the refreshed screen has been
written (`call_after_refresh`), at the 99th percentile.

Baseline, same run, same source: the naive design that redraws the whole screen on every
sample instead of at most 10 times a second when the session changed.

Targets: under 15 % of one core, p99 latency under 150 ms. POSIX only for the terminal (a pty);
on Windows the child runs headless (Textual renders, but writes nothing).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
URI = "sim:opioid-overdose?seed=3&chunk=0.02&pleth=100"
WARMUP = 2.0


def _child(mode: str, seconds: float, out: str) -> None:
    """Runs the demo app for `seconds` after a warm-up and writes its measurements to `out`."""
    sys.path.insert(0, str(ROOT))
    from oxi_assist.ui.launch import LiveOptions, build_app

    opts = LiveOptions(record=False)
    app = build_app(URI, opts, debrief_on_end=False, measure_latency=True,
                    redraw_every_change=(mode == "unbounded"))
    marks: dict[str, float] = {}

    def timeline() -> None:
        time.sleep(WARMUP)
        assert app.stats.latencies is not None
        app.stats.latencies.clear()
        marks["redraws0"] = app.stats.redraws
        marks["readings0"] = app.session.readings if app.session else 0
        marks["cpu0"], marks["wall0"] = time.process_time(), time.perf_counter()
        time.sleep(seconds)
        marks["cpu1"], marks["wall1"] = time.process_time(), time.perf_counter()
        marks["redraws1"] = app.stats.redraws
        marks["readings1"] = app.session.readings if app.session else 0
        app.call_from_thread(app.exit)

    threading.Thread(target=timeline, daemon=True).start()
    headless = os.name == "nt" or not sys.stdout.isatty()
    app.run(headless=headless, size=(80, 24) if headless else None)
    lat = sorted(app.stats.latencies or [])
    result = {
        "cpu": marks["cpu1"] - marks["cpu0"], "wall": marks["wall1"] - marks["wall0"],
        "redraws": marks["redraws1"] - marks["redraws0"],
        "readings": marks["readings1"] - marks["readings0"],
        "p99": lat[min(len(lat) - 1, int(0.99 * len(lat)))] if lat else None,
        "p50": lat[len(lat) // 2] if lat else None, "n_lat": len(lat), "headless": headless,
    }
    Path(out).write_text(json.dumps(result))


def _run_child(mode: str, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "result.json")
        cmd = [sys.executable, "-m", "benchmarks.bench_ui", "--child", mode, str(seconds), out]
        env = dict(os.environ, TERM="xterm-256color", COLUMNS="80", LINES="24")
        timeout = seconds + WARMUP + 60
        if os.name == "nt":
            subprocess.run(cmd, cwd=ROOT, env=env, timeout=timeout, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        else:
            _run_in_pty(cmd, env, timeout)
        return json.loads(Path(out).read_text())


def _run_in_pty(cmd: list[str], env: dict[str, str], timeout: float) -> None:
    """Runs `cmd` on a fresh 80×24 pseudo-terminal, draining what it draws."""
    import fcntl
    import pty
    import select
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=slave, stdout=slave, stderr=slave,
                            start_new_session=True)
    os.close(slave)
    deadline = time.monotonic() + timeout
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    os.read(master, 65536)
                except OSError:
                    break
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark child {cmd[-3]} exited with {proc.returncode}")


def run(quick: bool = False) -> list[dict[str, Any]]:
    seconds = 10.0 if quick else 60.0
    bounded = _run_child("bounded", seconds)
    naive = _run_child("unbounded", seconds)
    cpu_b = 100.0 * bounded["cpu"] / bounded["wall"]
    cpu_n = 100.0 * naive["cpu"] / naive["wall"]
    where = "headless" if bounded["headless"] else "pty 80x24"
    rows: list[dict[str, Any]] = [
        {"benchmark": f"ui demo CPU, {seconds:.0f} s, 100 Hz pleth ({where})",
         "value": round(cpu_b, 1), "unit": "% of one core",
         "baseline": round(cpu_n, 1), "ratio": round(cpu_n / cpu_b, 2) if cpu_b else None,
         "target": "< 15 %"},
        {"benchmark": "ui sample-to-screen latency p99",
         "value": round(1000 * bounded["p99"], 1) if bounded["p99"] is not None else None,
         "unit": "ms",
         "baseline": round(1000 * naive["p99"], 1) if naive["p99"] is not None else None,
         "ratio": None, "target": "< 150 ms"},
        {"benchmark": "ui redraws per second (session items per second)",
         "value": round(bounded["redraws"] / bounded["wall"], 1), "unit": "/s",
         "baseline": round(naive["redraws"] / naive["wall"], 1), "ratio": None,
         "target": f"≤ 10 (items {bounded['readings'] / bounded['wall']:.0f}/s)"},
    ]
    return rows


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "--child":
        _child(sys.argv[2], float(sys.argv[3]), sys.argv[4])
    else:
        for row in run(quick="--full" not in sys.argv):
            print(row)
