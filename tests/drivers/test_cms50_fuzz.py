"""Hypothesis fuzzing of the three Contec codecs (V7.0, legacy 5-byte, USB-HID 0xEB): random
bytes, truncations and bit flips never raise, never report an out-of-range number as a value,
decode the same whatever the chunking, and resynchronise within one frame after garbage."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.protocols.cms50_legacy import CMS50LegacyCodec
from drivers.protocols.cms50_v7 import CMS50V7Codec
from drivers.protocols.contec_hid import ContecHidCodec
from drivers.reading import Reading, Status

#: Modest by default so the suite stays fast; raise with OXI_FUZZ_EXAMPLES for a soak run.
FUZZ = settings(max_examples=int(os.environ.get("OXI_FUZZ_EXAMPLES", "50")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])

CODECS = [CMS50V7Codec, CMS50LegacyCodec, ContecHidCodec]


def assert_in_range(readings: list[Reading]) -> None:
    for r in readings:
        if r.spo2 is not None:
            assert 0 < r.spo2 <= 100, r
        if r.pulse is not None:
            assert 0 < r.pulse <= 300, r
        if r.pi is not None:
            assert 0 < r.pi <= 22, r
        for p in r.pleth:
            assert 0 <= p <= 100, r


def key(r: Reading) -> tuple[Any, ...]:
    """What a reading says, without its time (which counts frames)."""
    return (r.spo2, r.pulse, r.pi, r.pleth, r.status, r.wave_only)


readings_st = st.builds(
    Reading,
    t=st.just(0.0),
    spo2=st.one_of(st.none(), st.integers(1, 100).map(float)),
    pulse=st.one_of(st.none(), st.integers(1, 254).map(float)),
    pi=st.one_of(st.none(), st.integers(1, 2200).map(lambda v: v / 100)),
    pleth=st.tuples(st.integers(0, 127).map(lambda v: round(v * 100 / 127, 3))),
    status=st.sampled_from([Status.NONE, Status.BEAT, Status.FINGER_OUT, Status.SEARCHING]),
)


def stream(codec_cls: type, rs: list[Reading]) -> bytes:
    return b"".join(codec_cls.encode(r) for r in rs)


@pytest.mark.parametrize("codec_cls", CODECS, ids=lambda c: c.name)
@FUZZ
@given(data=st.binary(max_size=600))
def test_random_bytes_never_raise_or_lie(codec_cls: type, data: bytes) -> None:
    codec = codec_cls()
    out = codec.feed(data)
    assert_in_range(out)
    s = codec.stats
    assert s.bytes_skipped <= len(data)
    assert len(codec.pending) < 64


@pytest.mark.parametrize("codec_cls", CODECS, ids=lambda c: c.name)
@FUZZ
@given(rs=st.lists(readings_st, min_size=1, max_size=10),
       cuts=st.lists(st.integers(0, 2000), max_size=12))
def test_chunking_does_not_change_the_result(codec_cls: type, rs: list[Reading],
                                             cuts: list[int]) -> None:
    data = stream(codec_cls, rs)
    whole = codec_cls().feed(data)
    codec = codec_cls()
    parts: list[Reading] = []
    prev = 0
    for c in [*sorted({min(c, len(data)) for c in cuts}), len(data)]:
        parts += codec.feed(data[prev:c])
        prev = c
    assert [key(r) for r in parts] == [key(r) for r in whole]
    assert codec.stats.frames_bad == 0 and codec.stats.bytes_skipped == 0
    assert codec.pending == b""


@pytest.mark.parametrize("codec_cls", CODECS, ids=lambda c: c.name)
@FUZZ
@given(rs=st.lists(readings_st, min_size=1, max_size=6),
       garbage=st.binary(min_size=1, max_size=200))
def test_back_in_sync_within_one_frame_after_garbage(codec_cls: type, rs: list[Reading],
                                                     garbage: bytes) -> None:
    good = stream(codec_cls, rs)
    expected = [key(r) for r in codec_cls().feed(good)]
    codec = codec_cls()
    out = codec.feed(good + garbage + good)
    assert_in_range(out)
    got = [key(r) for r in out]
    n = len(expected)
    assert got[:n] == expected
    # The clean copy after the garbage must come through, losing at most one frame.
    tail = got[n:]
    assert tail[-(n - 1):] == expected[-(n - 1):] if n > 1 else True
    assert len(tail) >= n - 1
    assert tail[-1] == expected[-1]


@pytest.mark.parametrize("codec_cls", CODECS, ids=lambda c: c.name)
@FUZZ
@given(rs=st.lists(readings_st, min_size=1, max_size=6), data=st.data())
def test_bit_flips_never_raise_or_lie(codec_cls: type, rs: list[Reading], data: Any) -> None:
    buf = bytearray(stream(codec_cls, rs))
    flips = data.draw(st.lists(st.integers(0, len(buf) * 8 - 1), min_size=1, max_size=8))
    for f in flips:
        buf[f // 8] ^= 1 << (f % 8)
    cut = data.draw(st.integers(0, len(buf)))
    codec = codec_cls()
    out = codec.feed(bytes(buf[:cut]))
    assert_in_range(out)


@pytest.mark.parametrize("codec_cls", [CMS50V7Codec, CMS50LegacyCodec], ids=lambda c: c.name)
@FUZZ
@given(r=readings_st)
def test_encode_decode_round_trip(codec_cls: type, r: Reading) -> None:
    (back,) = codec_cls().feed(codec_cls.encode(r))
    if r.status & Status.FINGER_OUT:
        assert back.spo2 is None and back.pulse is None and back.status & Status.FINGER_OUT
        assert back.pleth == ()
        return
    assert back.spo2 == r.spo2
    assert back.pulse == r.pulse
    if codec_cls is CMS50V7Codec:
        assert back.pi == r.pi
    assert back.pleth == r.pleth
    assert bool(back.status & Status.BEAT) == bool(r.status & Status.BEAT)
    if r.status & Status.SEARCHING or r.spo2 is None or r.pulse is None:
        assert back.status & Status.SEARCHING


@FUZZ
@given(r=readings_st)
def test_hid_measurement_round_trip(r: Reading) -> None:
    out = ContecHidCodec().feed(ContecHidCodec.encode(r))
    wave, meas = out
    assert wave.wave_only and not meas.wave_only
    if r.status & Status.FINGER_OUT:
        assert meas.spo2 is None and meas.status & Status.FINGER_OUT
        assert wave.pleth == () and wave.status & Status.FINGER_OUT
        return
    assert wave.pleth == r.pleth
    assert (meas.spo2, meas.pulse) == (r.spo2, r.pulse)
    if r.pi is not None and r.pi != 1.27:
        assert meas.pi == r.pi
