"""How the live app ends: a failure of ours is recorded as a failure with a non-zero exit;
SIGTERM and SIGHUP close the recording as ended ("terminated", "hang-up"), not interrupted;
the path of the recording is printed; there is no full screen without a terminal."""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drivers.formats.native import read as read_native
from oxi_assist.cli import main
from tests.oxi_assist.ui.fixtures import ScriptedSource, make_app

ROOT = Path(__file__).resolve().parents[3]


def _drain(fd: int) -> bytes:
    """What the app drew since the last look (a terminal nobody reads fills up and blocks)."""
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        with contextlib.suppress(OSError):
            return os.read(fd, 65536)
    return b""


def _end(path: Path) -> dict[str, object]:
    return json.loads(path.read_text().splitlines()[-1])


async def test_a_failure_in_the_app_is_recorded_as_a_failure(tmp_path: Path) -> None:
    app, clock = make_app(lambda c: ScriptedSource(c), record=True, sessions_dir=str(tmp_path),
                          debrief_on_end=False)

    def broken(*_a: object, **_k: object) -> None:
        raise RuntimeError("a bug in a key handler")

    with pytest.raises(RuntimeError, match="a bug in a key handler"):
        async with app.run_test(size=(80, 24)) as pilot:
            await clock.run_for(3)
            app.session.on_action = broken
            await pilot.press("9")
            await pilot.pause()
    assert app.return_code == 1
    (rec,) = tmp_path.glob("*.jsonl")
    end = _end(rec)
    assert end["k"] == "end" and str(end["reason"]).startswith(
        "failed: RuntimeError: a bug in a key handler")
    assert not read_native(rec).interrupted


async def test_the_signal_handler_closes_the_recording_as_ended(tmp_path: Path) -> None:
    app, clock = make_app(lambda c: ScriptedSource(c), record=True, sessions_dir=str(tmp_path),
                          debrief_on_end=False)
    async with app.run_test(size=(80, 24)):
        await clock.run_for(3)
        app.end_by_signal(int(signal.SIGTERM), "terminated")
    assert app.return_code == 128 + signal.SIGTERM
    (rec,) = tmp_path.glob("*.jsonl")
    assert _end(rec)["reason"] == "terminated"


def test_no_full_screen_without_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "baseline"]) == 2  # stdout is captured here: not a terminal
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "the live screen needs a terminal" in err


@pytest.mark.skipif(sys.platform == "win32" or not hasattr(os, "openpty"),
                    reason="needs a POSIX pseudo-terminal")
@pytest.mark.parametrize(("sig", "why"), [(signal.SIGTERM, "terminated"),
                                          (signal.SIGHUP, "hang-up")])
def test_a_real_process_ended_by_a_signal_records_why(tmp_path: Path, sig: int,
                                                      why: str) -> None:
    """`oxi-assist demo` on a pseudo-terminal, as a user runs it; the signal arrives once the
    recording has started."""
    master, slave = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OXI_ASSIST_DATA_DIR": str(tmp_path),
           "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    p = subprocess.Popen([sys.executable, "-m", "oxi_assist", "demo", "baseline"],
                         stdin=slave, stdout=slave, stderr=slave, env=env,
                         cwd=ROOT, start_new_session=True)
    os.close(slave)
    shown = bytearray()
    try:
        deadline = time.monotonic() + 60
        rec = None
        while time.monotonic() < deadline:  # waiting for start-up, not measuring it
            shown += _drain(master)
            found = list((tmp_path / "sessions").glob("*.jsonl")) \
                if (tmp_path / "sessions").exists() else []
            if found and found[0].read_text().count("\n") >= 3:
                rec = found[0]
                break
            time.sleep(0.2)
        assert rec is not None, "the recording never started"
        p.send_signal(sig)
        while p.poll() is None and time.monotonic() < deadline:
            shown += _drain(master)
        code = p.wait(timeout=max(1.0, deadline - time.monotonic()))
        shown += _drain(master)
        err = shown.decode(errors="replace")
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        os.close(master)
    assert code == 128 + sig, err[-2000:]
    assert _end(rec)["reason"] == why
    assert f"session recorded in {rec}" in err
