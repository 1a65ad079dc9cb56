"""`oxi-assist demo --overlay`: the live screen on a scenario played on a real oximeter (the
virtual serial oximeter on a real pty) says on its first line that the values are simulated,
names the device, and shows the scenario's SpO2, never the device's."""

from __future__ import annotations

import asyncio
import math

import pytest

from drivers.reading import Reading, Status
from oxi_assist.ui.launch import OVERLAY_MARK, LiveOptions, build_app
from tests.oxi_assist.ui.fixtures import screen_lines


async def test_demo_overlay_says_simulated_and_follows_the_finger() -> None:
    from simulators.virtual_serial import VirtualSerialOximeter, pty_supported

    if not pty_supported():
        pytest.skip("needs a POSIX pty")
    wave = tuple(50 + 40 * math.sin(2 * math.pi * i / 30) for i in range(60))
    flat = (0.0,) * 60
    readings = [Reading(t=float(i), spo2=81, pulse=151, pi=3.0, pleth=wave, pleth_rate=60.0)
                if i < 4 else
                Reading(t=float(i), status=Status.FINGER_OUT, pleth=flat, pleth_rate=60.0)
                for i in range(40)]
    dev = VirtualSerialOximeter("cms50-legacy", readings)
    path = dev.start()
    try:
        app = build_app("sim:opioid-overdose?seed=1&speed=5", LiveOptions(record=False),
                        overlay=f"serial:{path}?protocol=cms50-legacy")
        async with app.run_test(size=(100, 30)) as pilot:
            seen: list[float | None] = []
            for _ in range(60):
                await asyncio.sleep(0.1)
                v = app.session.vitals
                seen.append(v.spo2 if v is not None else None)
                if v is not None and v.spo2 is not None:
                    break
            app.redraw()
            await pilot.pause()
            top = screen_lines(app)[0]
            assert top.startswith(f" {OVERLAY_MARK}")
            assert any(x is not None for x in seen) and 81 not in seen
            assert app.session.device.endswith("SpO₂ and pulse simulated")
            for _ in range(80):  # then the device says finger out: no number on screen
                await asyncio.sleep(0.1)
                v = app.session.vitals
                if v is not None and v.spo2 is None:
                    break
            assert app.session.vitals.spo2 is None
    finally:
        dev.stop()
