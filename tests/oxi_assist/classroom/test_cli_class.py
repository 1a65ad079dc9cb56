"""`oxi-assist class` and `oxi-assist join` on bad input: one line, exit code 2, no traceback;
and a headless station against a real class refused for a wrong code."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import ROOT, Class, free_port


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "oxi_assist", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("args,why", [
    (("join", "127.0.0.1", "ABC", "--headless"), "6 characters"),
    (("join", "127.0.0.1", "ACDEF0", "--headless"), "not used in join codes"),
    (("join", "ftp://x", "ACDEFG", "--headless"), "use mqtt:// or mqtts://"),
    (("join", "mqtt://u:pw@x", "ACDEFG", "--headless"), "password in a file"),
    (("join", "127.0.0.1", "ACDEFG", "--name", "!!!", "--headless"), "station name"),
    (("join", "127.0.0.1", "ACDEFG", "--name", "all", "--headless"), "reserved"),
    (("join", "127.0.0.1", "--headless"), "needs the join code"),
    (("join", "127.0.0.1", "--overlay", "sim:baseline"), "expected a real oximeter"),
    (("class", "--web-port", "0"), "--web-port 0"),
    (("class", "opioid-overdose,nope", "--headless"), "nope"),
    (("demo", "--overlay", "replay:x.csv"), "expected a real oximeter"),
    (("class", "no-such-scenario", "--headless"), "no-such-scenario"),
    (("class", "--headless", "--speed", "40"), "between 1 and 20"),
    (("class", "--headless", "--lan", "nosuchif0"), "no network interface"),
    (("class", "--headless", "--code", "XX"), "6 characters"),
])
def test_bad_input_is_one_line_and_exit_2(args, why) -> None:
    r = cli(*args)
    assert r.returncode == 2, r.stderr
    assert why in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_console_ports_in_use_are_one_line_before_the_screen(tmp_path) -> None:
    """The broker's or the web page's port already taken: said in one line, exit 2, before
    the console takes the terminal."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        busy = str(s.getsockname()[1])
        free = str(free_port())
        r = cli("class", "opioid-overdose", "--no-record", "--port", free, "--web-port", busy)
        assert r.returncode == 2 and "--web-port" in r.stderr and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
        r = cli("class", "opioid-overdose", "--no-record", "--port", busy, "--no-web")
        assert r.returncode == 2 and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1


async def test_join_with_a_wrong_code_is_refused(klass: Class) -> None:
    import asyncio

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "oxi_assist", "join", f"127.0.0.1:{klass.port}", "ACDEFH",
        "--name", "eve", "--headless", "--no-record", cwd=ROOT,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 2
    assert "refused this join code" in err.decode() and "Traceback" not in err.decode()
    assert "eve" not in klass.core.board.rows


def test_headless_class_end_to_end(tmp_path) -> None:
    """`oxi-assist class --headless` with a `join --headless` station, both as a user runs
    them: start, an action, the board, end; the debrief printed and exported, the class record
    kept private."""
    import os
    import stat
    import time

    from .conftest import free_port

    port = free_port()
    env = {**os.environ, "OXI_ASSIST_DATA_DIR": str(tmp_path / "data")}
    trainer = subprocess.Popen(
        [sys.executable, "-m", "oxi_assist", "class", "opioid-overdose", "--headless",
         "--speed", "10", "--port", str(port), "--code", "ACDEFG",
         "--export-csv", str(tmp_path / "class.csv"), "--export-text", str(tmp_path / "c.txt"),
         "--export-svg", str(tmp_path / "c.svg")],
        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, bufsize=1)
    station = None
    try:
        assert trainer.stdout is not None and trainer.stdin is not None
        first = trainer.stdout.readline()
        assert f"oxi-assist join 127.0.0.1:{port} ACDEFG" in first
        station = subprocess.Popen(
            [sys.executable, "-m", "oxi_assist", "join", f"127.0.0.1:{port}", "acd-efg",
             "--name", "Ann", "--headless"], cwd=ROOT, env=env, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
        lines: list[str] = []
        while not any("station ann joined" in x for x in lines):
            lines.append(trainer.stdout.readline())
        trainer.stdin.write("start\n")
        trainer.stdin.flush()
        assert station.stdout is not None and station.stdin is not None
        while not station.stdout.readline().startswith("started"):
            pass
        for a in ("unresponsive", "911", "naloxone", "naloxone"):
            station.stdin.write(a + "\n")
            station.stdin.flush()
        time.sleep(2.0)
        out, _ = trainer.communicate(input="board\nend\n", timeout=60)
        station.wait(30)
    finally:
        for p in (trainer, station):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait(10)
    assert trainer.returncode == 0, out
    assert "board ann online running" in out and "doses=2" in out
    assert "== Ann (ann)" in out and "before 3 min" in out and "Debrief (ROSE)" in out
    assert station.returncode == 0
    csv = (tmp_path / "class.csv").read_text()
    assert csv.splitlines()[1].startswith("ann,Ann,")
    records = list((tmp_path / "data" / "classes").glob("*.jsonl"))
    assert len(records) == 1
    assert stat.S_IMODE(records[0].stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "class.csv").stat().st_mode) == 0o600
    svg = (tmp_path / "c.svg").read_text()
    assert stat.S_IMODE((tmp_path / "c.svg").stat().st_mode) == 0o600
    assert "Ann" in svg and "second dose early" in svg
    sessions = list((tmp_path / "data" / "sessions").glob("*.jsonl"))
    assert len(sessions) == 1  # the station recorded its own session, as `demo` does


def test_the_missing_extra_message(monkeypatch, capsys) -> None:
    import importlib.util

    from oxi_assist import cli

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "amqtt" else real(name, *a))
    for argv in (["join", "127.0.0.1", "ACDEFG", "--headless"], ["class", "--headless"]):
        assert cli.main(argv) == 2
        err = capsys.readouterr().err
        assert "pip install 'oxi-assist[class]'" in err and "amqtt missing" in err
