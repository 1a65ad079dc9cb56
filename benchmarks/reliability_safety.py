"""Crash safety and privacy checks.

Crash: a real recording process (the live composition: `open_source("sim:…")` and the UI's own
`session_maker`, on the real clock, without the screen) is SIGKILLed mid-session; the file must
lose at most the last second, stay readable, be listed as interrupted by `oxi-assist sessions`,
and `oxi-assist debrief FILE --text` must work on it. POSIX only (Windows: skipped with a note).

Privacy: recordings 0600 in a 0700 folder; no module that opens a listening or outbound
socket or imports a network library (a source scan), except the classroom package
(`oxi_assist/classroom/`, networked by design, used only by `class` and `join`); at run
time no TCP/UDP socket owned by this process (Linux /proc);
`--no-record` writes nothing.
"""

from __future__ import annotations

import os
import re
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import asyncio, sys
sys.path.insert(0, sys.argv[1])
from drivers.clock import RealClock
from oxi_assist.ui.launch import LiveOptions, session_maker
from oxi_assist.uris import open_source
c = RealClock()
uri = "sim:opioid-overdose?chunk=0.1&pleth=50"
src = open_source(uri, c)
s = session_maker(LiveOptions(record=True, sessions_dir=sys.argv[2]))(c, uri, src)
print(s.recording_path, flush=True)
async def main():
    task = asyncio.create_task(s.run(src, tick_every=0.25))
    while True:
        await asyncio.sleep(0.05)
        print(f"{s.elapsed():.3f} {s.readings}", flush=True)
asyncio.run(main())
"""


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "oxi_assist", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, **(env or {})})


def crash_test(run_for: float = 2.5) -> dict[str, Any]:
    """SIGKILL a recording process after `run_for` s of its session; judge what is left."""
    if not hasattr(signal, "SIGKILL"):
        return {"skipped": "SIGKILL is POSIX only; on Windows TerminateProcess is covered by "
                           "tests/oxi_assist/session/test_session.py"}
    from drivers.formats import load

    with tempfile.TemporaryDirectory() as d:
        base = Path(d) / "sessions"
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(ROOT), str(base)],
                                stdout=subprocess.PIPE, text=True)
        try:
            assert proc.stdout is not None
            path = Path(proc.stdout.readline().strip())
            last = 0.0
            deadline = time.monotonic() + run_for + 30
            while last < run_for and time.monotonic() < deadline:
                line = proc.stdout.readline()
                if not line:
                    break
                last = float(line.split()[0])
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        finally:
            if proc.poll() is None:
                proc.kill()
        out: dict[str, Any] = {"killed_at_s": last, "signal": "SIGKILL",
                               "returncode": proc.returncode}
        try:
            rec = load(path)
            out["readable"] = True
            out["interrupted"] = bool(rec.interrupted)
            ts = [r.t for r in rec.readings]
            last_t = max([*ts, *(float(e.get("t", 0)) for e in rec.events)], default=0.0)
            out["last_recorded_s"] = last_t
            out["lost_s"] = max(0.0, last - last_t)
        except Exception as e:
            out["readable"] = False
            out["error"] = f"{type(e).__name__}: {e}"
            out["lost_s"] = None
        # a file without an end record that changed in the last RECENT_S seconds is listed as
        # "recording now"; age it past that window instead of waiting in real time
        from oxi_assist.recordings import RECENT_S

        aged = time.time() - RECENT_S - 5
        os.utime(path, (aged, aged))
        lst = _cli("sessions", "--dir", str(base))
        out["sessions_lists_interrupted"] = (lst.returncode == 0 and path.name in lst.stdout
                                             and "interrupted" in lst.stdout.lower())
        out["sessions_output"] = lst.stdout.strip().splitlines()[-1:] if lst.stdout else []
        deb = _cli("debrief", str(path), "--text")
        out["debrief_ok"] = deb.returncode == 0 and "Traceback" not in deb.stderr \
            and bool(deb.stdout.strip())
        if os.name == "posix":
            out["file_mode"] = oct(stat.S_IMODE(path.stat().st_mode))
            out["dir_mode"] = oct(stat.S_IMODE(base.stat().st_mode))
    lost = out.get("lost_s")
    out["pass"] = bool(out.get("readable") and out.get("interrupted") and lost is not None
                       and lost <= 1.0 and out["sessions_lists_interrupted"]
                       and out["debrief_ok"])
    return out


# --- network ------------------------------------------------------------------------------------

NET_PATTERNS = re.compile(
    r"\b(socket\.socket|socket\.create_server|create_connection|\.bind\(|\.listen\("
    r"|http\.server|socketserver|asyncio\.start_server|start_unix_server|create_server"
    r"|urllib\.request|urlopen|http\.client|requests\.|httpx|aiohttp|websocket)")
PACKAGES = ("drivers", "simulators", "oxi_assist")
#: Network libraries: importing one is opening sockets by another name.
NET_IMPORTS = re.compile(r"^\s*(from|import)\s+(socket|aiomqtt|amqtt|paho|asyncio_mqtt)\b")
#: Networked by design, and only when a trainer or trainee starts `class` / `join`.
NETWORKED = ("oxi_assist/classroom/",)


def scan_sources() -> list[str]:
    """Lines in the shipped packages that would open a network socket or import a network
    library (there must be none outside the classroom package)."""
    hits = []
    for pkg in PACKAGES:
        for p in sorted((ROOT / pkg).rglob("*.py")):
            if p.relative_to(ROOT).as_posix().startswith(NETWORKED):
                continue
            for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1):
                code = line.split("#", 1)[0]
                if NET_PATTERNS.search(code) or NET_IMPORTS.search(code):
                    hits.append(f"{p.relative_to(ROOT)}:{i}: {line.strip()}")
    return hits


def inet_sockets() -> dict[str, Any]:
    """TCP/UDP sockets (IPv4/IPv6) owned by this process, from /proc (Linux only)."""
    if not Path("/proc/self/fd").is_dir() or not Path("/proc/net/tcp").exists():
        return {"checked": False, "why": "no /proc (not Linux)"}
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        m = re.match(r"socket:\[(\d+)\]", target)
        if m:
            inodes.add(m.group(1))
    found = []
    for table in ("tcp", "tcp6", "udp", "udp6"):
        p = Path("/proc/net") / table
        if not p.exists():
            continue
        for line in p.read_text().splitlines()[1:]:
            parts = line.split()
            if len(parts) > 9 and parts[9] in inodes:
                found.append(f"{table} local {parts[1]} remote {parts[2]} state {parts[3]}")
    return {"checked": True, "own_sockets": len(inodes), "inet": found}


def no_record_check() -> dict[str, Any]:
    """`--no-record` through the live composition: no file anywhere under the data folder."""
    import argparse

    from drivers.clock import VirtualClock
    from drivers.reading import Reading
    from oxi_assist.recordings import ENV_DATA_DIR
    from oxi_assist.ui.launch import LiveOptions, add_common_options, options_from, session_maker

    ap = argparse.ArgumentParser()
    add_common_options(ap)
    opts = options_from(ap.parse_args(["--no-record"]))
    with tempfile.TemporaryDirectory() as d:
        old = os.environ.get(ENV_DATA_DIR)
        os.environ[ENV_DATA_DIR] = d
        try:
            clock = VirtualClock()
            s = session_maker(LiveOptions(**{**opts.__dict__}))(clock, "sim:x", None)
            for i in range(30):
                clock.advance(1.0)
                s.on_item(Reading(t=clock.now(), spo2=95.0 - i % 3, pulse=70.0))
                s.tick()
            s.close()
            files = [str(p) for p in Path(d).rglob("*") if p.is_file()]
        finally:
            if old is None:
                os.environ.pop(ENV_DATA_DIR, None)
            else:
                os.environ[ENV_DATA_DIR] = old
    return {"record": opts.record, "files_written": files, "recording_path":
            str(s.recording_path), "pass": not opts.record and not files
            and s.recording_path is None}


def file_modes() -> dict[str, Any]:
    """A recording made through the default data folder: its mode and its folder's."""
    from drivers.clock import VirtualClock
    from oxi_assist.recordings import ENV_DATA_DIR, open_writer

    if os.name != "posix":
        return {"checked": False, "why": "file modes are POSIX; Windows uses the per-user "
                                         "profile folder's ACL"}
    with tempfile.TemporaryDirectory() as d:
        old = os.environ.get(ENV_DATA_DIR)
        os.environ[ENV_DATA_DIR] = str(Path(d) / "data")
        old_mask = os.umask(0o022)  # a typical, permissive umask must not widen them
        try:
            w = open_writer("ble:auto", VirtualClock())
            w.close()
            f = oct(stat.S_IMODE(w.path.stat().st_mode))
            p = oct(stat.S_IMODE(w.path.parent.stat().st_mode))
        finally:
            os.umask(old_mask)
            if old is None:
                os.environ.pop(ENV_DATA_DIR, None)
            else:
                os.environ[ENV_DATA_DIR] = old
    return {"checked": True, "file_mode": f, "dir_mode": p,
            "pass": f == "0o600" and p == "0o700"}
