"""Real parts for the classroom tests: an embedded amqtt broker on a free localhost port, the
trainer and stations on real MQTT connections, and mosquitto where it is installed."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from drivers.clock import RealClock
from oxi_assist.classroom.link import BrokerAddress
from oxi_assist.classroom.station import StationClient, StationOptions
from oxi_assist.classroom.trainer import ClassSetup, TrainerNode

CODE = "ACDEFG"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def until(cond: Callable[[], bool], timeout: float = 10.0, what: str = "") -> float:
    """Waits (network time) until `cond()`; returns the seconds it took, fails after timeout."""
    t0 = time.monotonic()
    while not cond():
        if time.monotonic() - t0 > timeout:
            pytest.fail(f"timed out after {timeout} s waiting for {what or cond}")
        await asyncio.sleep(0.02)
    return time.monotonic() - t0


class Class:
    """A trainer node on an embedded broker plus stations, torn down cleanly."""

    def __init__(self, port: int, tmp: Path) -> None:
        self.port = port
        self.tmp = tmp
        self.lines: list[str] = []
        self.node = TrainerNode(ClassSetup("opioid-overdose", speed=20.0), RealClock(),
                                code=CODE, port=port, on_line=self.lines.append)
        self.stations: dict[str, tuple[StationClient, asyncio.Task[None], list[str]]] = {}

    @property
    def core(self):
        return self.node.core

    async def add(self, name: str, *, overlay_uri: str | None = None,
                  **kw: object) -> StationClient:
        out: list[str] = []
        st = StationClient(BrokerAddress("127.0.0.1", self.port), CODE,
                           StationOptions(name, record=False, overlay=overlay_uri), RealClock(),
                           on_line=out.append, **kw)  # type: ignore[arg-type]
        task = asyncio.ensure_future(st.run())
        self.stations[st.station] = (st, task, out)
        await until(lambda: st.station in self.core.board.rows, what=f"{name} on the board")
        return st

    async def close(self) -> None:
        for st, task, _ in self.stations.values():
            st.link.stop()
            st._stop.set()
            await asyncio.gather(task, return_exceptions=True)
        await self.node.stop()


@pytest.fixture
async def klass(tmp_path: Path) -> AsyncIterator[Class]:
    k = Class(free_port(), tmp_path)
    await k.node.start()
    try:
        yield k
    finally:
        await k.close()


ROOT = Path(__file__).resolve().parents[3]


def spawn_station(port: int, name: str, *extra: str) -> subprocess.Popen[str]:
    """A station in its own process (`oxi-assist join --headless`), as the web part will
    spawn one per browser."""
    import sys

    return subprocess.Popen(
        [sys.executable, "-m", "oxi_assist", "join", f"127.0.0.1:{port}", CODE, "--name", name,
         "--headless", "--no-record", *extra],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, bufsize=1)


def mosquitto_or_skip() -> str:
    exe = shutil.which("mosquitto") or (
        "/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else None)
    if exe is None or shutil.which("mosquitto_passwd") is None:
        if os.environ.get("CI"):
            pytest.fail("mosquitto is not installed on CI (.ci/run installs it)")
        pytest.skip("mosquitto is not installed (apt install mosquitto)")
    return exe


class Mosquitto:
    def __init__(self, exe: str, conf: Path) -> None:
        self.exe, self.conf = exe, conf
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, port: int) -> None:
        conf = self.conf
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            # started as root, mosquitto switches to the `mosquitto` user, who cannot read
            # our 0600 files; a test broker simply stays the user that wrote them
            conf = self.conf.with_name("mosquitto-test.conf")
            conf.write_text(self.conf.read_text() + "user root\n")
        self.proc = subprocess.Popen([self.exe, "-c", str(conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        err = self.proc.stderr.read().decode() if self.proc.stderr else ""
        raise AssertionError(f"mosquitto did not start: {err[-300:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc is not None and self.proc.stderr is not None:
            self.proc.stderr.close()
        self.proc = None
