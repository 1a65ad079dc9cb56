"""The class's gate on a real broker: the join code is required, a station can publish only
under its own topics (never a command, never another station's events, not even through its
last will), and malformed or oversized messages are counted by whoever receives them, never a
crash."""

from __future__ import annotations

import asyncio
import json

import aiomqtt
import pytest

from oxi_assist.classroom.codes import class_id
from oxi_assist.classroom.link import BrokerAddress, LinkRefused, Login, MqttLink
from oxi_assist.classroom.messages import MAX_BYTES, CommandName, Phase
from oxi_assist.classroom.topics import TopicKind

from .conftest import CODE, Class, until

CID = class_id(CODE)


def raw(port: int, user: str, password: str, *, client_id: str | None = None,
        will: aiomqtt.Will | None = None) -> aiomqtt.Client:
    return aiomqtt.Client("127.0.0.1", port, username=user, password=password,
                          identifier=client_id or f"{CID}-{user}", will=will, timeout=5)


async def test_wrong_code_is_refused(klass: Class) -> None:
    link = MqttLink(BrokerAddress("127.0.0.1", klass.port),
                    Login("eve", "ACDEFH", f"{CID}-eve"), subscriptions=[],
                    on_message=lambda t, p: None)
    with pytest.raises(LinkRefused, match="refused"):
        await asyncio.wait_for(link.run(), 10)
    for user, pw in (("trainer", CODE), ("eve", ""), ("all", CODE)):
        with pytest.raises(aiomqtt.MqttError):
            async with raw(klass.port, user, pw):
                pass


async def test_client_id_must_match_the_station(klass: Class) -> None:
    with pytest.raises(aiomqtt.MqttError):
        async with raw(klass.port, "eve", CODE, client_id=f"{CID}-bob"):
            pass


async def test_a_station_cannot_command_or_speak_for_another(klass: Class) -> None:
    bob = await klass.add("Bob")
    klass.core.start()
    await until(lambda: bob.core.patient is not None)
    t = klass.core.topics
    forged_cmd = json.dumps({"v": 1, "type": "cmd", "seq": 99, "channel": "all",
                             "name": "end"}).encode()
    forged_ev = json.dumps({"v": 1, "type": "event", "seq": 1, "t": 1.0, "kind": "action",
                            "name": "naloxone"}).encode()
    async with raw(klass.port, "eve", CODE) as eve:
        await eve.publish(t.cmd_all, forged_cmd, qos=1)
        await eve.publish(t.cmd("bob"), forged_cmd, qos=1)
        await eve.publish(t.class_state, b'{"v":1}', qos=1, retain=True)
        await eve.publish(t.station("bob", TopicKind.EVENT), forged_ev, qos=1)
        await eve.publish(t.ack("bob"), b'{"v":1,"type":"ack","seq":1000}', qos=1)
        # and it may not listen to another station's commands or to everything
        for f in (t.everything, t.cmd("bob"), t.every_station(TopicKind.EVENT)):
            granted = await eve.subscribe(f, qos=1)
            assert [getattr(g, "value", g) for g in granted] == [0x80], f
        await asyncio.sleep(0.5)
    await asyncio.sleep(0.5)
    assert bob.core.phase is Phase.RUNNING  # no forged "end" arrived
    assert [e.name for e in klass.core.events("bob")].count("naloxone") == 0
    assert klass.core.state.phase is Phase.RUNNING
    assert bob.core.acked < 1000
    # the broker had no retained class state from eve: a new station learns the real one
    carol = await klass.add("Carol")
    await until(lambda: carol.core.patient is not None, what="carol starts from the state")


async def test_a_last_will_on_someone_elses_topic_is_refused(klass: Class) -> None:
    t = klass.core.topics
    will = aiomqtt.Will(t.cmd_all, b'{"v":1,"type":"cmd","seq":1,"channel":"all","name":"end"}',
                        1, False)
    with pytest.raises(aiomqtt.MqttError):
        async with raw(klass.port, "eve", CODE, will=will):
            pass


async def test_malformed_and_oversized_messages_are_counted_not_fatal(klass: Class) -> None:
    bob = await klass.add("Bob")
    t = klass.core.topics
    junk = [b"\xff\xfe", b"{", b"[]", b'{"v":9,"type":"event"}',
            b'{"v":1,"type":"event","seq":"x"}', b"x" * (MAX_BYTES + 10)]
    async with raw(klass.port, "bob2", CODE) as b2:
        for j in junk:
            await b2.publish(t.station("bob2", TopicKind.EVENT), j, qos=1)
            await b2.publish(t.station("bob2", TopicKind.STATUS), j, qos=0)
    await until(lambda: klass.core.rejected.total >= 2 * len(junk) - 1, what="counted")
    assert klass.core.rejected.by_reason["oversized"] >= 1
    # the trainer sends junk too (as a broken trainer could): the station counts it
    async with raw(klass.port, "trainer", klass.node.link.login.password,
                   client_id="x-trainer") as tr:
        for j in junk:
            await tr.publish(t.cmd_all, j, qos=1)
    await until(lambda: bob.core.counters.rejected.total >= len(junk), what="station counted")
    # both still work
    klass.core.start()
    await until(lambda: bob.core.patient is not None)
    klass.core.cue(CommandName.MOTION, 10)
    await until(lambda: any(a.name == "motion" for a in bob.core.patient.session.actions))
    await until(lambda: klass.core.board.rows["bob"].rejected >= len(junk),
                what="the station's count on the board")
