"""`oxi-assist class` and `oxi-assist join` on bad input: one line, exit code 2, no traceback;
and a headless station against a real class refused for a wrong code."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .conftest import ROOT, Class


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
    (("join", "127.0.0.1", "ACDEFG"), "--headless"),
    (("class",), "--headless"),
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
