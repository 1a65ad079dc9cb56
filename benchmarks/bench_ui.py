"""The live screen's cost: CPU use of `oxi-assist demo` and sample-to-screen latency.

The demo runs as it does for a user — the real CLI path (`build_app`), the simulator at 1× with
a 100 Hz pleth delivered 50 times a second, the Session, Monitor and guide, and Textual's real
terminal driver writing to a pseudo-terminal — in a child process, so its own CPU time
(user + system) over a stretch of wall time is what is measured. Latency is measured inside the
app from the first session change after a redraw to the moment the refreshed screen has been
written (`call_after_refresh`), at the 99th percentile.

Baseline, same run, same source: the naive design that redraws the whole screen on every
sample instead of at most 10 times a second when the session changed.

Alarm → banner: a source at 50 readings a second (with pleth) whose sensor fault comes and goes
every quarter second, so an alarm is raised or cleared four times a second. Measured from the moment
the session reports the alarm change (`Session.on_alert`) to the refreshed screen, p50 and p99.
Baseline, same run, same source: the screen drawn by the 10 Hz poll alone (no redraw on
alert), which is what the banner waited for before.

Targets: under 15 % of one core, p99 latency under 150 ms, alarm → banner p99 ≤ 50 ms. POSIX
only for the terminal (a pty); on Windows the child runs headless (Textual renders, but writes
nothing).
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


#: Seconds between the sensor fault starting and ending (and back) in the alarm benchmark.
ALARM_EVERY = 0.25
ALARM_RATE = 50.0  # readings a second


class _AlarmSource:
    """Readings on the real clock, the sensor fault on and off every `ALARM_EVERY` s."""

    name = "bench:alarms"

    def __init__(self) -> None:
        self.closed = False

    def __aiter__(self) -> Any:
        return self._items()

    async def _items(self) -> Any:
        import asyncio

        from drivers.reading import LinkEvent, LinkState, Reading, Status

        yield LinkEvent(time.monotonic(), LinkState.CONNECTED, device="bench (00:00)")
        start = time.monotonic()
        k = 0
        while not self.closed:
            k += 1
            due = start + k / ALARM_RATE
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            now = time.monotonic()
            fault = int((now - start) / ALARM_EVERY) % 2 == 1
            wave = tuple(50.0 + (i % 20) for i in range(2))
            if fault:
                yield Reading(now, status=Status.SENSOR_FAULT, pleth=wave, pleth_rate=100.0)
            else:
                yield Reading(now, spo2=96.0, pulse=72.0, pi=2.0, pleth=wave, pleth_rate=100.0)

    async def close(self) -> None:
        self.closed = True


def _alarm_child(mode: str, seconds: float, out: str) -> None:
    """The app on the alarm source; `mode` "alert" redraws on alarm changes, "poll" only at
    the 10 Hz poll. Writes the alarm → screen latencies."""
    sys.path.insert(0, str(ROOT))
    from drivers.clock import RealClock
    from oxi_assist.ui.app import OxiApp
    from oxi_assist.ui.launch import LiveOptions, session_maker

    app = OxiApp(make_session=session_maker(LiveOptions(record=False)), uri="bench:alarms",
                 source=_AlarmSource(), clock=RealClock(), debrief_on_end=False,
                 measure_latency=True, redraw_on_alert=(mode == "alert"))
    marks: dict[str, int] = {}

    def timeline() -> None:
        time.sleep(WARMUP)
        assert app.stats.alert_latencies is not None
        app.stats.alert_latencies.clear()
        marks["alerts0"] = app.stats.alert_redraws
        time.sleep(seconds)
        marks["alerts1"] = app.stats.alert_redraws
        app.call_from_thread(app.exit)

    threading.Thread(target=timeline, daemon=True).start()
    headless = os.name == "nt" or not sys.stdout.isatty()
    app.run(headless=headless, size=(80, 24) if headless else None)
    lat = sorted(app.stats.alert_latencies or [])
    Path(out).write_text(json.dumps({
        "p50": lat[len(lat) // 2] if lat else None,
        "p99": lat[min(len(lat) - 1, int(0.99 * len(lat)))] if lat else None,
        "n": len(lat), "alert_redraws": marks["alerts1"] - marks["alerts0"],
        "headless": headless,
    }))


def _run_child(mode: str, seconds: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        out = str(Path(tmp) / "result.json")
        cmd = [sys.executable, "-m", "benchmarks.bench_ui", "--child", mode, str(seconds), out]
        if mode in ("alert", "poll"):
            cmd[3] = "--alarm-child"
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
    alert = _run_child("alert", seconds)
    poll = _run_child("poll", seconds)
    for q in ("p50", "p99"):
        v, b = alert[q], poll[q]
        rows.append({
            "benchmark": f"ui alarm → banner latency {q} ({alert['n']} alarm changes, "
                         f"baseline: 10 Hz poll only)",
            "value": round(1000 * v, 1) if v is not None else None, "unit": "ms",
            "baseline": round(1000 * b, 1) if b is not None else None,
            "ratio": round(b / v, 2) if v and b else None,
            "target": "≤ 50 ms" if q == "p99" else "-"})
    return rows


if __name__ == "__main__":
    if len(sys.argv) >= 5 and sys.argv[1] == "--child":
        _child(sys.argv[2], float(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) >= 5 and sys.argv[1] == "--alarm-child":
        _alarm_child(sys.argv[2], float(sys.argv[3]), sys.argv[4])
    else:
        for row in run(quick="--full" not in sys.argv):
            print(row)
