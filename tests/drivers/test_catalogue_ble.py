"""The BLE catalogue (names / UUIDs → profile) and property-based fuzzing of every BLE codec:
random bytes, truncations and bit flips never raise and never report an out-of-range value as
valid; after garbage the codec is back in sync within one frame; chunking does not matter."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.catalogue_ble import PROFILES, match, match_gatt
from drivers.protocols import codec_for, plx
from drivers.reading import INVALIDATING, Reading, Status

#: Modest by default (the whole suite shares two cores); OXI_FUZZ_EXAMPLES=5000 for a soak.
FUZZ = settings(max_examples=int(os.environ.get("OXI_FUZZ_EXAMPLES", "30")), deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize(("name", "uuids", "address", "key"), [
    ("Nonin3230_502113", [], None, "nonin"),
    ("anything", ["00001822-0000-1000-8000-00805f9b34fb"], None, "plx"),
    ("PC-60FW 1234", ["6e400001-b5a3-f393-e0a9-e50e24dcca9e"], None, "pc60f"),
    ("POD-1W", [], None, "pc60f"),
    ("OxySmart 02", [], None, "pc60f"),
    ("O2Ring 2211", [], None, "o2ring"),
    ("Checkme O2 3344", [], None, "o2ring"),
    ("My Oximeter", [], None, "jumper"),
    ("x", ["cdeacb80-5235-4c07-8846-93a37ee6b86d"], None, "jumper"),
    ("BerryMed", [], None, "berrymed"),
    ("BLE-UART", [], "00:a0:50:12:34:56", "berrymed"),
    ("FS20F", [], None, "fs20f"),
])
def test_match(name: str, uuids: list[str], address: str | None, key: str) -> None:
    p = match(name, uuids, address)
    assert p is not None and p.key == key


@pytest.mark.parametrize(("name", "uuids"), [
    ("O2Ring S 0541", []),  # OxyII protocol: not the legacy profile
    ("Mi Band", ["6e400001-b5a3-f393-e0a9-e50e24dcca9e"]),  # NUS alone is not an oximeter
    ("HMSoft", ["0000ffe0-0000-1000-8000-00805f9b34fb"]),  # nor is FFE0
    (None, []),
])
def test_no_match(name: str | None, uuids: list[str]) -> None:
    assert match(name, uuids) is None


def test_match_gatt_by_service_and_characteristic() -> None:
    assert match_gatt({plx.SERVICE: {plx.CONTINUOUS, plx.FEATURES}}).key == "plx"
    assert match_gatt({"0000fff0-0000-1000-8000-00805f9b34fb":
                       {"0000fff1-0000-1000-8000-00805f9b34fb"}}).key == "pc60f"
    assert match_gatt({"0000ffe0-0000-1000-8000-00805f9b34fb":
                       {"0000ffe1-0000-1000-8000-00805f9b34fb"}}) is None  # HM-10, not FS20F


def test_every_profile_names_a_registered_codec_and_consistent_writes() -> None:
    for p in PROFILES.values():
        codec = codec_for(p.protocol)
        assert hasattr(codec, "feed") and hasattr(codec, "stats")
        if p.poll or p.keepalive or p.start:
            assert p.write is not None, p.key
        assert 1.0 <= p.stale_after <= 30.0  # ISO 80601-2-61 allows at most 30 s


# -- fuzzing ------------------------------------------------------------------------------
CODECS = ["plx", "plx-spot", "nonin", "berrymed", "pc60f", "o2ring", "jumper", "fs20f"]
#: Codecs that frame a byte stream (chunking must not matter); PLX and Nonin decode whole
#: notifications.
STREAM = ["berrymed", "pc60f", "o2ring", "jumper", "fs20f"]


def assert_honest(readings: list[Reading]) -> None:
    for r in readings:
        if r.spo2 is not None:
            assert 1 <= r.spo2 <= 100, r
            assert not r.status & INVALIDATING, r
        if r.pulse is not None:
            assert 1 <= r.pulse <= 300, r
        if r.pi is not None:
            assert 0 <= r.pi <= 30, r
        assert all(0 <= p <= 100 for p in r.pleth), r
        if not r.wave_only and (r.spo2 is None or r.pulse is None):
            assert r.status & INVALIDATING, r  # no number always says why


readings_st = st.builds(
    Reading, t=st.just(0.0),
    spo2=st.integers(50, 100).map(float), pulse=st.integers(30, 250).map(float),
    pi=st.one_of(st.none(), st.integers(1, 200).map(lambda v: v / 10)),
    pleth=st.tuples(st.integers(1, 100).map(float), st.integers(1, 100).map(float),
                    st.integers(1, 100).map(float), st.integers(1, 100).map(float)),
    status=st.sampled_from([Status.NONE, Status.BEAT, Status.FINGER_OUT]))


def frames(name: str, rs: list[Reading]) -> list[bytes]:
    """Encoded frames (one per reading's worth of notifications), and what they must decode to."""
    codec: Any = codec_for(name)
    if name == "plx-spot":
        return [codec.encode_spot(r) for r in rs]
    if name == "o2ring":
        return [codec.encode_sensors(r) for r in rs]
    return [codec.encode(r) for r in rs]


def vitals_key(rs: list[Reading]) -> list[tuple[Any, ...]]:
    return [(r.spo2, r.pulse, bool(r.status & Status.FINGER_OUT)) for r in rs if not r.wave_only]


@pytest.mark.parametrize("name", CODECS)
@FUZZ
@given(data=st.lists(st.binary(max_size=40), max_size=20))
def test_random_notifications_never_raise_or_lie(name: str, data: list[bytes]) -> None:
    codec = codec_for(name)
    for chunk in data:
        assert_honest(codec.feed(chunk))
    s = codec.stats
    assert min(s.frames_good, s.frames_bad, s.bytes_skipped) >= 0


@pytest.mark.parametrize("name", CODECS)
@FUZZ
@given(rs=st.lists(readings_st, min_size=1, max_size=6), flips=st.lists(
    st.tuples(st.integers(0, 10_000), st.integers(0, 7)), max_size=4), cut=st.integers(0, 40))
def test_bit_flips_and_truncation_never_lie(name: str, rs: list[Reading],
                                            flips: list[tuple[int, int]], cut: int) -> None:
    fs = frames(name, rs)
    stream = bytearray(b"".join(fs))
    for pos, bit in flips:
        stream[pos % len(stream)] ^= 1 << bit
    codec = codec_for(name)
    if name in STREAM:
        assert_honest(codec.feed(bytes(stream[:max(0, len(stream) - cut)])))
    else:
        for k, f in enumerate(fs):
            start = sum(len(x) for x in fs[:k])
            assert_honest(codec.feed(bytes(stream[start:start + len(f) - cut % 3])))


@pytest.mark.parametrize("name", CODECS)
@FUZZ
@given(garbage=st.binary(min_size=1, max_size=60), rs=st.lists(readings_st, min_size=3,
                                                                max_size=6))
def test_back_in_sync_within_one_frame(name: str, garbage: bytes, rs: list[Reading]) -> None:
    fs = frames(name, rs)
    want = vitals_key(codec_for(name).feed(b"".join(fs))) if name in STREAM else \
        [k for f in fs for k in vitals_key(codec_for(name).feed(f))]
    codec = codec_for(name)
    got: list[Reading] = []
    if name == "berrymed":
        # one Reading per notification: garbage arrives as a notification of its own
        codec.feed(garbage)
        for f in fs:
            for k in range(0, len(f), 20):
                got += codec.feed(f[k:k + 20])
    elif name in STREAM:
        got = codec.feed(garbage + b"".join(fs))
    else:
        codec.feed(garbage)
        for f in fs:
            got += codec.feed(f)
    assert_honest(got)
    # garbage may swallow at most the first frame (it can look like a frame start); every
    # later frame decodes exactly as without the garbage
    tail = vitals_key(got)
    assert tail[-(len(want) - 1):] == want[1:]


@pytest.mark.parametrize("name", STREAM)
@FUZZ
@given(rs=st.lists(readings_st, min_size=1, max_size=5), cuts=st.lists(st.integers(1, 30),
                                                                         max_size=8))
def test_chunking_does_not_matter(name: str, rs: list[Reading], cuts: list[int]) -> None:
    stream = b"".join(frames(name, rs))
    whole = codec_for(name).feed(stream)
    codec = codec_for(name)
    parts: list[Reading] = []
    i = 0
    for c in cuts:
        parts += codec.feed(stream[i:i + c])
        i += c
    parts += codec.feed(stream[i:])
    if name == "berrymed":
        # one Reading per notification's packets: compare samples and the vitals they carry
        assert [p for r in parts for p in r.pleth] == [p for r in whole for p in r.pleth]
        assert dedup(vitals_key(parts)) == dedup(vitals_key(whole))
    else:
        assert vitals_key(parts) == vitals_key(whole)
    out = [r.status & Status.FINGER_OUT for r in rs]
    assert vitals_key(whole) == [(None if o else r.spo2, None if o else r.pulse, bool(o))
                                 for r, o in zip(rs, out, strict=True)]


def dedup(keys: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [k for i, k in enumerate(keys) if i == 0 or keys[i - 1] != k]
