"""Classroom: 30 headless stations (separate processes, as the web part will spawn them) and the
trainer core on this machine, with the embedded broker and with mosquitto.

Measured: trainer command → applied on every station (p50/p99, from the command's send time to
each station's apply, on the one wall clock); station action → class board (p99); CPU per
station process; memory (RSS per station, the trainer process with the embedded broker,
mosquitto); faults: the broker restarted mid-class (all stations back, events lost), a station
killed (board says lost) and rejoined (state restored), 10 % message loss on one station.
The baseline column is the same latency on an idle class of one station, measured in the run.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CODE = "ACDEFG"
LAT = re.compile(r"latency_ms=([0-9.]+)")


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    return s[min(len(s) - 1, round(q / 100 * (len(s) - 1)))]


class Station:
    def __init__(self, port: int, name: str, *extra: str) -> None:
        self.name = name
        self.lines: list[str] = []
        self.p = subprocess.Popen(
            [sys.executable, "-m", "oxi_assist", "join", f"127.0.0.1:{port}", CODE, "--name",
             name, "--headless", "--no-record", *extra], cwd=ROOT, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.p.stdout is not None
        for line in self.p.stdout:
            self.lines.append(line.strip())

    def send(self, line: str) -> None:
        try:
            assert self.p.stdin is not None
            self.p.stdin.write(line + "\n")
            self.p.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass

    def has(self, prefix: str) -> bool:
        return any(x.startswith(prefix) for x in self.lines)

    def cpu_s(self) -> float:
        return _cpu_s(self.p.pid)

    def rss_mb(self) -> float:
        return _rss(self.p.pid)

    def kill(self) -> None:
        if self.p.poll() is None:
            os.kill(self.p.pid, signal.SIGKILL)
            self.p.wait(10)


def _cpu_s(pid: int | str) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    parts = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def _rss(pid: int | str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _until(cond: Any, timeout: float) -> float | None:
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            return None
        await asyncio.sleep(0.02)
    return time.monotonic() - t0


async def _class(kind: str, n: int, quick: bool) -> dict[str, Any]:
    from drivers.clock import RealClock
    from oxi_assist.classroom.link import BrokerAddress
    from oxi_assist.classroom.messages import CommandName
    from oxi_assist.classroom.trainer import ClassSetup, Connection, TrainerNode

    port = _port()
    mq: subprocess.Popen[bytes] | None = None
    tmp = tempfile.TemporaryDirectory()
    names = [f"station-{i:02d}" for i in range(1, n + 1)]
    conf = None
    if kind == "mosquitto":
        from oxi_assist.classroom.mosquitto import write_files

        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        files = write_files(Path(tmp.name) / "b", code=CODE, stations=names, port=port)
        conf = files.folder / "mosquitto.conf"
        if os.geteuid() == 0:
            conf.write_text(conf.read_text() + "user root\n")

        def start_mq() -> subprocess.Popen[bytes]:
            p = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL)
            for _ in range(200):
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        break
                time.sleep(0.05)
            return p

        mq = start_mq()
        node = TrainerNode(ClassSetup("opioid-overdose", speed=5.0), RealClock(), code=CODE,
                           external=BrokerAddress("127.0.0.1", port, username="trainer"),
                           password=files.trainer_password_file.read_text().strip())
    else:
        node = TrainerNode(ClassSetup("opioid-overdose", speed=5.0), RealClock(), code=CODE,
                           port=port)
    core = node.core
    await node.start()
    out: dict[str, Any] = {"kind": kind, "n": n}
    stations: list[Station] = []
    try:
        lossy = names[-1] if n >= 5 else ""
        for nm in names:
            extra = ("--drop-rate", "0.1", "--drop-seed", "3") if nm == lossy else ()
            stations.append(Station(port, nm, *extra))
        joined = await _until(lambda: len(core.board.rows) == n, 120)
        if joined is None:  # a machine too loaded to start them all: say so, measure nothing
            raise RuntimeError(f"only {len(core.board.rows)} of {n} stations joined in 120 s")
        out["join_s"] = joined
        core.start()
        await _until(lambda: all(s.has("started") for s in stations), 60)
        await asyncio.sleep(2.0)
        # commands → applied on every station
        k = 6 if quick else 20
        before = {s.name: len(s.lines) for s in stations}
        cpu0 = {s.name: s.cpu_s() for s in stations}
        own0 = _cpu_s("self")
        mq0 = _cpu_s(mq.pid) if mq is not None else 0.0
        w0 = time.monotonic()
        for i in range(k):
            if i % 2 == 0:
                core.speed(float(4 + i % 3))
            else:
                core.cue(CommandName.MOTION, 5.0)
            await asyncio.sleep(1.0)
        # actions → board: every station acts every 2 s (half of them each second), far more
        # often than a trainee does (one action every 5–10 s at most)
        core.latency.action_to_board_ms.clear()
        words = ("tap", "breathing_not_normal", "tap", "recovery")
        for i in range(6 if quick else 20):
            for j, s in enumerate(stations):
                if j % 2 == i % 2:
                    s.send(words[(i // 2 + j) % len(words)])
            await asyncio.sleep(1.0)
        await asyncio.sleep(2.0)
        window = time.monotonic() - w0
        cpu = [(s.cpu_s() - cpu0[s.name]) / window * 100 for s in stations]
        out["trainer_cpu"] = (_cpu_s("self") - own0) / window * 100
        out["mosquitto_cpu"] = ((_cpu_s(mq.pid) - mq0) / window * 100 if mq is not None
                                else None)
        lat: list[float] = []
        applied = 0
        for s in stations:
            for line in s.lines[before[s.name]:]:
                if line.startswith("command all"):
                    m = LAT.search(line)
                    if m:
                        lat.append(float(m.group(1)))
                        applied += 1
        out["cmd_p50"], out["cmd_p99"] = _pct(lat, 50), _pct(lat, 99)
        out["cmd_applied"], out["cmd_expected"] = applied, k * n
        board = core.latency.action_to_board_ms
        out["act_p50"], out["act_p99"], out["act_n"] = _pct(board, 50), _pct(board, 99), len(
            board)
        out["cpu_mean"], out["cpu_max"] = sum(cpu) / len(cpu), max(cpu)
        rss = [s.rss_mb() for s in stations]
        out["rss_mean"], out["rss_max"] = sum(rss) / len(rss), max(rss)
        out["trainer_rss"] = _rss("self")
        out["mosquitto_rss"] = _rss(mq.pid) if mq is not None else None
        if n < 5:  # the idle baseline: latency only
            return out
        # fault: the broker restarted mid-class, actions typed while it is down
        t_down = time.monotonic()
        if kind == "mosquitto":
            assert mq is not None
            mq.terminate()
            mq.wait(10)
        else:
            await node.broker.stop()
        for s in stations[:10]:
            s.send("911")
        await asyncio.sleep(1.0)
        t_up = time.monotonic()
        if kind == "mosquitto":
            mq = start_mq()
        else:
            await node.broker.start()
        back = await _until(lambda: all(r.last_seen > t_up + 0.05 and r.connection is
                                        Connection.ONLINE for r in core.board.rows.values()),
                            30)
        out["restart_back_s"] = back
        out["restart_outage_s"] = t_up - t_down
        # fault: a station killed, then rejoined
        victim = stations[4]
        row = core.board.rows[victim.name]
        await asyncio.sleep(2.0)  # its state saved after the restart
        snap = (row.step, row.doses, row.t_911)
        victim.kill()
        t_kill = time.monotonic()
        out["kill_lost_s"] = await _until(lambda: row.connection is Connection.LOST, 10)
        _ = t_kill
        stations[4] = victim = Station(port, victim.name)
        out["rejoin_restored_s"] = await _until(lambda: victim.has("restored"), 30)
        await _until(lambda: row.connection is Connection.ONLINE, 10)
        await asyncio.sleep(1.5)
        out["rejoin_same"] = (row.step, row.doses) == snap[:2] and (
            (row.t_911 is None) == (snap[2] is None))
        out["rejoin_before_after"] = (snap, (row.step, row.doses, row.t_911))
        # fault: a station frozen (no goodbye, no closed connection: only silence)
        frozen = stations[7]
        frow = core.board.rows[frozen.name]
        os.kill(frozen.p.pid, signal.SIGSTOP)
        out["frozen_lost_s"] = await _until(lambda: frow.connection is Connection.LOST, 15)
        os.kill(frozen.p.pid, signal.SIGCONT)
        out["frozen_back_s"] = await _until(lambda: frow.connection is Connection.ONLINE, 15)
        # the end: every station's own count against the trainer's
        core.end()
        await _until(lambda: all(s.p.poll() is not None for s in stations), 30)
        lost = 0
        for s in stations:
            left = [x for x in s.lines if x.startswith("left: events")]
            if left and s is not victim:
                sent = int(left[-1].split()[2].rstrip(","))
                lost += max(0, sent - len(core.events(s.name)))
        out["events_lost"] = lost
        out["events_total"] = sum(len(core.events(s.name)) for s in stations)
        ls = stations[-1]
        # "start" is applied only by a station still in the lobby when it comes; every other
        # command must reach every station
        out["lossy_commands"] = sum(1 for x in ls.lines if x.startswith("command all")
                                    and " start " not in x)
        out["lossy_expected"] = core.state.cmd_seq - 1
        left = [x for x in ls.lines if x.startswith("left: events")]
        out["lossy_events_ok"] = bool(left) and int(left[-1].split()[2].rstrip(",")) == len(
            core.events(ls.name))
    finally:
        for s in stations:
            s.kill()
        await node.stop()
        if mq is not None and mq.poll() is None:
            mq.terminate()
            mq.wait(10)
        tmp.cleanup()
    return out


def measure(n: int = 30, quick: bool = True, kinds: tuple[str, ...] = ("embedded",
                                                                      "mosquitto")) -> list[
        dict[str, Any]]:
    res = []
    for kind in kinds:
        if kind == "mosquitto" and not (shutil.which("mosquitto") or
                                        os.path.exists("/usr/sbin/mosquitto")):
            continue
        res.append(asyncio.run(_class(kind, n, quick)))
    return res


def run(quick: bool = True) -> list[dict[str, Any]]:
    base = asyncio.run(_class("embedded", 1, True))
    return _rows(base, measure(30, quick))


def _rows(base: dict[str, Any], results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for r in results:
        k = r["kind"]

        def row(name: str, value: Any, unit: str, target: str = "", baseline: Any = None,
                k: str = k) -> None:
            ratio = (value / baseline if isinstance(value, float) and isinstance(
                baseline, float) and baseline else None)
            rows.append({"benchmark": f"classroom {k}: {name}", "value": value, "unit": unit,
                         "baseline": baseline, "ratio": ratio, "target": target})

        row("command → applied p50", r["cmd_p50"], "ms", "", base["cmd_p50"])
        row("command → applied p99", r["cmd_p99"], "ms", "≤ 250", base["cmd_p99"])
        row("commands applied", f"{r['cmd_applied']}/{r['cmd_expected']}", "")
        row("action → board p50", r["act_p50"], "ms", "", base["act_p50"])
        row("action → board p99", r["act_p99"], "ms", "≤ 500", base["act_p99"])
        row("CPU per station (mean / max)", f"{r['cpu_mean']:.1f} / {r['cpu_max']:.1f}", "%")
        row("CPU trainer process" + (" + broker" if k == "embedded" else ""),
            r["trainer_cpu"], "%")
        if r.get("mosquitto_cpu") is not None:
            row("CPU mosquitto", r["mosquitto_cpu"], "%")
        row("RSS per station (mean / max)", f"{r['rss_mean']:.0f} / {r['rss_max']:.0f}", "MB")
        row("RSS trainer process" + (" + broker" if k == "embedded" else ""),
            r["trainer_rss"], "MB")
        if r.get("mosquitto_rss") is not None:
            row("RSS mosquitto", r["mosquitto_rss"], "MB")
        row("broker restart: all back after", r["restart_back_s"], "s", "≤ 5")
        row("broker restart: events lost", f"{r['events_lost']} of {r['events_total']}", "",
            "0")
        row("station killed: board says lost after", r["kill_lost_s"], "s", "≤ 5")
        row("station rejoined: restored after / same step+doses", f"{r['rejoin_restored_s']:.1f}"
            f" s / {'yes' if r['rejoin_same'] else 'NO ' + str(r['rejoin_before_after'])}"
            if r["rejoin_restored_s"] else "NO", "", "yes")
        row("station frozen (SIGSTOP): board says lost after", r["frozen_lost_s"], "s", "≤ 5")
        row("station frozen: back after SIGCONT", r["frozen_back_s"], "s")
        row("10 % loss station: commands / events complete",
            f"{r['lossy_commands']}/{r['lossy_expected']} / "
            f"{'yes' if r['lossy_events_ok'] else 'NO'}", "", "all / yes")
    return rows


BEGIN, END = "<!-- classroom figures: begin -->", "<!-- classroom figures: end -->"


def _md(rows: list[dict[str, Any]]) -> str:
    from benchmarks.__main__ import _fmt

    head = ("benchmark", "value", "unit", "baseline", "ratio", "target")
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(_fmt(r.get(k)) for k in head) + " |" for r in rows]
    return "\n".join(out)


def _put(path: Path, block: str) -> None:
    text = path.read_text(encoding="utf-8")
    if BEGIN in text and END in text:
        text = text[:text.index(BEGIN)] + block + text[text.index(END) + len(END):]
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """`python -m benchmarks.bench_classroom [--full] [--write-docs]`: the table, and with
    --write-docs the classroom sections of docs/RELIABILITY.md and docs/CLASSROOM.md."""
    import argparse
    import datetime as dt
    import platform

    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_classroom")
    ap.add_argument("--full", action="store_true", help="20 commands and 20 action rounds")
    ap.add_argument("--write-docs", action="store_true")
    args = ap.parse_args(argv)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    started = dt.datetime.now(dt.UTC)
    t0 = time.perf_counter()
    rows = run(quick=not args.full)
    wall = time.perf_counter() - t0
    table = _md(rows)
    print(table)
    ok = all(("NO" not in str(r["value"])) for r in rows)
    block = "\n".join([
        BEGIN, "",
        f"Measured by `python -m benchmarks.bench_classroom{' --full' if args.full else ''}"
        f" --write-docs` on {started:%Y-%m-%d %H:%M} UTC ({wall:.0f} s): "
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; load average {load:.1f} when it started (the machine "
        "was shared with other work, so the latencies are noisy). 30 stations, each "
        "`oxi-assist join --headless` in its own process, and the trainer core with the "
        "embedded broker in the benchmark's process; then the same with mosquitto. The last "
        "station drops 10 % of its messages in and out. Baseline: the same latency on a class "
        "of one station in the same run. Commands alternate speed and motion cues, one a "
        "second; every station acts every 2 s. Faults: the broker stopped for 1 s while ten "
        "stations act; one station SIGKILLed and started again with the same name; one "
        "SIGSTOPped (silent, connection left open) and continued.", "",
        table, "",
        f"Result: {'all rows within their targets' if ok else 'SOME ROWS FAILED (see NO)'}.",
        "", END])
    if args.write_docs:
        for doc in ("RELIABILITY.md", "CLASSROOM.md"):
            _put(ROOT / "docs" / doc, block)
        print("wrote the classroom figures into docs/RELIABILITY.md and docs/CLASSROOM.md",
              file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
