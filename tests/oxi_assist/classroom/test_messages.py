"""Messages, codes and topics: every message round-trips; anything malformed, oversized, of
another version or of the wrong type is refused with a reason."""

from __future__ import annotations

import json

import pytest

from oxi_assist.classroom import codes
from oxi_assist.classroom.messages import (
    MAX_BYTES,
    Ack,
    Channel,
    ClassState,
    Command,
    CommandName,
    EventKind,
    MessageError,
    Phase,
    Presence,
    PresenceState,
    Rejections,
    SavedAction,
    StationEvent,
    StationState,
    StationStatus,
    decode,
    encode,
)
from oxi_assist.classroom.topics import TopicKind, TopicRef, Topics

SAMPLES = [
    ClassState(Phase.RUNNING, "opioid-overdose", 3, True, 5.0, 7, "bc-save-me", "Tuesday", 1.7e9),
    Command(4, Channel.ALL, CommandName.SPEED, 10.0, 1.7e9),
    Command(1, Channel.OWN, CommandName.PAUSE),
    StationEvent(9, 65.25, EventKind.ACTION, "naloxone", "Naloxone dose 1 (injection)",
                 {"route": "im", "dose": 1}, 1.7e9),
    StationStatus("Alice", Phase.RUNNING, 80.5, "evaluate", "E: Evaluate", None, "spo2_low",
                  "high", 20.0, 30.5, None, 0, 1.0, 3, 1, 12, 0, 1.7e9),
    Presence(PresenceState.LOST, "Alice"),
    StationState("Alice", "opioid-overdose", 3, 120.0, Phase.PAUSED, 2.0, 5, 1, 12,
                  (SavedAction(10.0, "911"), SavedAction(20.0, "finger_out", {"seconds": 30.0},
                                                         True)),
                  (StationEvent(12, 119.0, EventKind.STEP, "evaluate"),)),
    Ack(12),
]


@pytest.mark.parametrize("msg", SAMPLES, ids=lambda m: type(m).__name__)
def test_round_trip(msg) -> None:
    assert decode(msg.KIND, encode(msg)) == msg


@pytest.mark.parametrize("payload,why", [
    (b"\xff\xfe", "not UTF-8"),
    (b"{not json", "not JSON"),
    (b"[1,2]", "not a JSON object"),
    (b'{"v":2,"type":"ack","seq":1}', "version 2 not understood"),
    (b'{"v":1,"type":"command","seq":1,"channel":"all","name":"pause"}', "'command' message on"),
    (b'{"v":1,"type":"ack","seq":-1}', "outside"),
    (b'{"v":1,"type":"ack","seq":true}', "whole number"),
    (b'{"v":1,"type":"ack"}', "missing field 'seq'"),
])
def test_malformed_is_refused_with_a_reason(payload: bytes, why: str) -> None:
    with pytest.raises(MessageError, match=why):
        decode(TopicKind.ACK, payload)


def test_command_values_are_checked() -> None:
    bad = {"v": 1, "type": "cmd", "seq": 1, "channel": "all", "name": "speed", "value": 50}
    with pytest.raises(MessageError, match="outside 1–20"):
        decode(TopicKind.COMMAND, json.dumps(bad))
    bad.update(name="pause", value=3)
    with pytest.raises(MessageError, match="takes no value"):
        decode(TopicKind.COMMAND, json.dumps(bad))
    bad.update(name="reboot", value=None)
    with pytest.raises(MessageError, match="unknown value 'reboot'"):
        decode(TopicKind.COMMAND, json.dumps(bad))


def test_oversized_is_refused_before_parsing() -> None:
    big = b'{"v":1,"type":"event","seq":1,"t":0,"kind":"action","name":"x","text":"' \
        + b"a" * MAX_BYTES + b'"}'
    with pytest.raises(MessageError, match="oversized"):
        decode(TopicKind.EVENT, big)


def test_an_oversized_message_is_never_sent() -> None:
    acts = tuple(SavedAction(float(i), "tap" * 10, {f"k{j}": "v" * 190 for j in range(8)})
                 for i in range(30))
    with pytest.raises(MessageError, match="over the"):
        encode(StationState("A", "s", 0, 1.0, Phase.RUNNING, actions=acts))


def test_text_fields_refuse_control_characters() -> None:
    ev = {"v": 1, "type": "event", "seq": 1, "t": 0, "kind": "action", "name": "911\x1b[2J"}
    with pytest.raises(MessageError, match="control characters"):
        decode(TopicKind.EVENT, json.dumps(ev))


def test_rejections_count_by_reason() -> None:
    r = Rejections()
    r.add("t", "oversized: 9000 bytes (limit 8192)")
    r.add("t", "oversized: 10000 bytes (limit 8192)")
    r.add("t", "not JSON (Expecting value at offset 0)")
    assert r.total == 3 and r.by_reason["oversized"] == 2 and r.by_reason["not JSON"] == 1


def test_join_codes() -> None:
    seen = {codes.new_code() for _ in range(200)}
    assert len(seen) > 190
    for c in seen:
        assert len(c) == 6 and set(c) <= set(codes.ALPHABET)
    assert not set("01258OIZSBL") & set(codes.ALPHABET)
    assert codes.normalize_code("acd-efg") == "ACDEFG"
    with pytest.raises(codes.CodeError, match="not used in join codes"):
        codes.normalize_code("ACDEF0")
    with pytest.raises(codes.CodeError, match="6 characters"):
        codes.normalize_code("ACD")
    assert codes.class_id("ACDEFG") != codes.class_id("ACDEFH")
    assert "ACDEFG" not in codes.class_id("ACDEFG")


def test_station_ids() -> None:
    assert codes.station_id("  Alice Smith! ") == "alice-smith"
    for bad in ("", "!!!", "all", "trainer", "Trainer"):
        with pytest.raises(codes.CodeError):
            codes.station_id(bad)


def test_topics_parse_their_own_names_only() -> None:
    t = Topics("abc123")
    assert t.parse(t.class_state) == TopicRef(TopicKind.CLASS)
    assert t.parse(t.cmd_all) == TopicRef(TopicKind.COMMAND)
    assert t.parse(t.cmd("bob")) == TopicRef(TopicKind.COMMAND, "bob")
    assert t.parse(t.ack("bob")) == TopicRef(TopicKind.ACK, "bob")
    for k in (TopicKind.EVENT, TopicKind.STATUS, TopicKind.PRESENCE, TopicKind.STATE):
        assert t.parse(t.station("bob", k)) == TopicRef(k, "bob")
    for other in ("oxi-assist/v1/class/other/class", t.base + "/station/bob/evil",
                  t.base + "/station/All/event", t.base + "/cmd/trainer", t.base + "/x"):
        assert t.parse(other) is None
    assert set(t.station_may_publish("bob")) == {t.station("bob", k) for k in (
        TopicKind.EVENT, TopicKind.STATUS, TopicKind.PRESENCE, TopicKind.STATE)}
    assert t.cmd_all in t.station_may_read("bob") and t.cmd("ann") not in t.station_may_read(
        "bob")


def test_class_state_variants_and_assignments() -> None:
    from oxi_assist.classroom.station_start import patient_scenario
    from oxi_assist.classroom.topics import TopicKind

    st = ClassState(Phase.LOBBY, "opioid-overdose", variants=("opioid-overdose", "xylazine"),
                    assigned={"bob": "resedation"})
    back = decode(TopicKind.CLASS, encode(st))
    assert back == st
    assert patient_scenario(back, "bob") == "resedation"  # given by name
    handed = {patient_scenario(back, f"s{i}") for i in range(20)}
    assert handed == {"opioid-overdose", "xylazine"}  # handed round the others
    assert patient_scenario(ClassState(Phase.LOBBY, "baseline"), "ann") == "baseline"
    d = json.loads(encode(st))
    for bad, why in (({"variants": ["x"] * 17}, "variants"),
                     ({"variants": "xylazine"}, "variants"),
                     ({"assigned": {"bob": "a\nb"}}, "control"),
                     ({"assigned": ["bob"]}, "assigned")):
        with pytest.raises(MessageError, match=why):
            decode(TopicKind.CLASS, json.dumps({**d, **bad}))


def test_status_device_words_only() -> None:
    from oxi_assist.classroom.topics import TopicKind

    s = StationStatus("Ann", Phase.RUNNING, device="finger out")
    assert decode(TopicKind.STATUS, encode(s)).device == "finger out"
    d = json.loads(encode(s))
    for bad in (97, "x" * 41):  # a number (a reading) or a long text is refused
        with pytest.raises(MessageError, match="device"):
            decode(TopicKind.STATUS, json.dumps({**d, "device": bad}))
