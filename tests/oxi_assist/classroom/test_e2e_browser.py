"""End to end through a browser: the trainer's console (headless Textual) serves the station
screen with textual-serve; headless Chromium (Debian's, driven by Playwright) opens it at a
phone's width, types a name and the join code, and answers with keys (911, breaths,
naloxone); the console's board shows each of them. Everything is real: the embedded broker,
textual-serve's web server, one `oxi-assist join` process for the browser, the browser.

Outside CI the test is skipped (with the reason) when Chromium or Playwright is missing; in CI
it fails instead (`.ci/run` installs Chromium). It never downloads a browser.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from drivers.clock import RealClock
from oxi_assist.classroom.trainer import ClassSetup, TrainerNode
from oxi_assist.classroom.web import StationWeb
from oxi_assist.ui.class_board import ClassBoard
from oxi_assist.ui.class_console import ConsoleApp
from oxi_assist.ui.live_screen import NARROW_BELOW
from tests.conftest import in_ci

from .conftest import CODE, free_port, until

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"width": 390, "height": 844}
#: where the phone's screenshot is kept (for a look by eye); a temporary folder by default
SHOT_DIR = os.environ.get("OXI_ASSIST_SCREENSHOTS")


def need_browser() -> None:
    why = ""
    if not (os.path.exists(CHROMIUM) or shutil.which("chromium")):
        why = "Chromium is not installed (apt install chromium)"
    else:
        try:
            import playwright.async_api  # noqa: F401
        except ImportError:
            why = "Playwright is not installed (pip install '.[test]')"
    if why:
        if in_ci():
            pytest.fail(why + " — .ci/run installs it")
        pytest.skip(why)


async def test_phone_browser_joins_and_the_board_shows_its_keys(tmp_path: Path) -> None:
    need_browser()
    from playwright.async_api import async_playwright

    t0 = time.monotonic()
    port, web_port = free_port(), free_port()
    node = TrainerNode(ClassSetup("opioid-overdose", speed=5.0), RealClock(), code=CODE,
                       port=port)
    await node.start()
    web = StationWeb(f"127.0.0.1:{port}", port=web_port, extra=("--no-record",))
    await web.start()
    console = ConsoleApp(node, broker=f"127.0.0.1:{port}", web_url=web.url, end_grace=0.3)
    core = node.core
    try:
        async with console.run_test(size=(80, 24)) as pilot, async_playwright() as pw:
            ctx = await pw.chromium.launch_persistent_context(
                str(tmp_path / "chromium-profile"), executable_path=CHROMIUM, args=ARGS,
                headless=True, viewport=PHONE, device_scale_factor=2, is_mobile=True,
                has_touch=True)
            try:
                page = ctx.pages[0] if ctx.pages else await ctx.new_page()
                widths: list[int] = []  # the terminal sizes the page asks the station for

                def on_socket(ws: object) -> None:
                    q = parse_qs(urlparse(ws.url).query)  # type: ignore[attr-defined]
                    widths.extend(int(w) for w in q.get("width", []))

                    def sent(payload: object) -> None:
                        if isinstance(payload, str) and '"resize"' in payload:
                            widths.append(int(json.loads(payload)[1]["width"]))

                    ws.on("framesent", sent)  # type: ignore[attr-defined]

                page.on("websocket", on_socket)
                await page.goto(web.url)

                async def keys(*ks: str) -> None:
                    for k in ks:
                        await page.keyboard.press(k)

                # the station's first screen asks for the name, then the code
                await page.wait_for_selector("body.-first-byte", timeout=20_000)
                await page.wait_for_timeout(1500)  # the join screen is drawn
                await page.focus("textarea.xterm-helper-textarea")  # the terminal's keyboard
                await page.keyboard.type("Pia", delay=30)
                await keys("Enter")
                await page.wait_for_timeout(700)  # the focus moves to the code
                await page.keyboard.type(CODE.lower(), delay=30)
                await keys("Enter")
                await until(lambda: "pia" in core.board.rows, 20, "the browser's station")
                await pilot.press("s")  # the trainer starts the class from the console
                row = core.board.rows["pia"]
                await until(lambda: row.phase.value == "running", 15, "pia's patient runs")
                await page.wait_for_timeout(1500)  # the live screen replaces the waiting one
                for k in ("x", "9", "b", "n"):
                    await keys(k)
                    await page.wait_for_timeout(200)
                await until(lambda: row.t_911 is not None and row.t_breaths is not None
                            and row.doses == 1, 15, "911, breaths and naloxone on the board")
                await pilot.pause(0.5)
                cells = [str(c) for c in console.query_one(ClassBoard).get_row_at(0)]
                assert cells[0] == "Pia" and cells[1] == "● on"
                assert cells[5] != "—" and cells[6] != "—" and cells[7] != "—"
                assert cells[8] == "1"
                shot = Path(SHOT_DIR or tmp_path) / "station-phone.png"
                await page.screenshot(path=str(shot))
                assert shot.stat().st_size > 10_000
                # the phone's terminal is narrow: the station draws its one-column layout
                assert widths and all(w < NARROW_BELOW for w in widths), widths
                canvas = await page.evaluate(
                    "document.querySelector('canvas.xterm-text-layer')"
                    ".getBoundingClientRect().width")
                assert canvas <= PHONE["width"]
                html = await page.content()
                assert 'name="viewport"' in html and "googleapis" not in html
            finally:
                await ctx.close()
    finally:
        await web.stop()
        await node.stop()
    assert time.monotonic() - t0 < 60
