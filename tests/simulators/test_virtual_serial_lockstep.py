"""The virtual serial oximeter on a VirtualClock: it acts only when poked, sends every frame due
(catch_up=None) or at most `catch_up`, counts what its FIFO drops, and replugs on clock time.
Host side is plain pyserial on the real pty; waits are bounded, never fixed sleeps."""

from __future__ import annotations

import time

import pytest
import serial

from drivers.clock import VirtualClock
from drivers.protocols.cms50_legacy import CMS50LegacyCodec
from simulators.virtual_serial import (
    MAX_BACKLOG,
    VirtualSerialOximeter,
    pty_supported,
    steady_patient,
)

pytestmark = pytest.mark.skipif(not pty_supported(), reason="needs a POSIX pty")
TIMEOUT = 3.0


def read_frames(s: serial.Serial, codec: CMS50LegacyCodec, want: int) -> int:
    """Decodes until `want` readings arrived (bounded), then whatever else is already there."""
    got = 0
    deadline = time.monotonic() + TIMEOUT
    while got < want and time.monotonic() < deadline:
        got += len(codec.feed(s.read(s.in_waiting or 1)))
    got += len(codec.feed(s.read(s.in_waiting)))
    return got


def test_lockstep_sends_every_frame_due_and_nothing_without_a_poke() -> None:
    clock = VirtualClock()
    with VirtualSerialOximeter("cms50-legacy", steady_patient(), rate=100.0, clock=clock,
                               catch_up=None) as dev:
        host = serial.Serial(dev.path, 19200, timeout=0.05)
        codec = CMS50LegacyCodec()
        try:
            assert dev.sync(TIMEOUT)
            assert dev.frames_sent == 1  # frame 0 is due at start
            clock.advance(2.5)
            # the clock moved but nobody poked: the device thread still sleeps
            assert not dev.wait_for(lambda d: d.frames_sent > 1, 0.05)
            assert dev.sync(TIMEOUT)
            assert dev.frames_sent == 251  # frames 0 .. 250 are due at 2.50 s
            assert read_frames(host, codec, 251) == 251
            clock.advance(0.005)  # half a frame: nothing new is due
            assert dev.sync(TIMEOUT) and dev.frames_sent == 251
            for _ in range(400):  # many small steps add up without drift
                clock.advance(0.01)
            assert dev.sync(TIMEOUT) and dev.frames_sent == 651
            assert read_frames(host, codec, 400) == 400
            assert dev.frames_dropped == 0
        finally:
            host.close()


def test_lockstep_catch_up_cap_and_fifo_drops_are_counted() -> None:
    clock = VirtualClock()
    with VirtualSerialOximeter("cms50-legacy", steady_patient(), rate=100.0, clock=clock) as dev:
        assert dev.sync(TIMEOUT)
        clock.advance(5.0)
        assert dev.sync(TIMEOUT)
        assert dev.frames_sent == 1 + 10  # the real-time default sends at most 10 late frames
    clock = VirtualClock()
    with VirtualSerialOximeter("cms50-legacy", steady_patient(), rate=100.0, clock=clock,
                               catch_up=None) as dev:
        assert dev.sync(TIMEOUT)
        clock.advance(100.0)  # 10,000 frames of 5 bytes with nobody reading: the FIFO fills
        assert dev.sync(TIMEOUT)
        assert dev.frames_dropped > 0
        assert dev.frames_sent + dev.frames_dropped == 10_001
        assert dev.frames_sent * 5 > MAX_BACKLOG


def test_lockstep_cable_comes_back_on_clock_time() -> None:
    clock = VirtualClock()
    with VirtualSerialOximeter("cms50-v7", steady_patient(), clock=clock,
                               catch_up=None) as dev:
        dev.inject("disconnect", seconds=1.0)
        assert dev.sync(TIMEOUT) and not dev.plugged
        assert dev.replug_at == 1.0
        clock.advance(0.999)
        assert dev.sync(TIMEOUT) and not dev.plugged
        clock.advance(0.001)
        assert dev.sync(TIMEOUT) and dev.plugged and dev.replug_at is None
        assert not dev.streaming  # a V7.0 unit waits for a new start command
