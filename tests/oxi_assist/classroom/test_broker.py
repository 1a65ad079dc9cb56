"""The embedded broker itself: every message reaches its subscribers while other clients
subscribe and unsubscribe (amqtt 0.12.1's delivery loop dropped messages then), it binds where
it is told, and it stops with clients connected."""

from __future__ import annotations

import asyncio
import contextlib

import aiomqtt

from oxi_assist.classroom.broker import EmbeddedBroker, lan_address
from oxi_assist.classroom.codes import class_id

from .conftest import CODE, free_port

CID = class_id(CODE)


async def test_delivery_survives_subscription_churn() -> None:
    port = free_port()
    b = EmbeddedBroker(class_id=CID, code=CODE, trainer_secret="s3cret", port=port)
    await b.start()
    from oxi_assist.classroom.topics import Topics

    t = Topics(CID)
    got: list[bytes] = []
    stop = asyncio.Event()

    async def churn(i: int) -> None:
        # new subscriptions all the time (as when a class's stations join or come back)
        async with aiomqtt.Client("127.0.0.1", port, username="trainer", password="s3cret",
                                  identifier=f"churn-{i}") as c:
            n = 0
            while not stop.is_set():
                n += 1
                await c.subscribe(f"{t.base}/station/c{i}-{n}/status")

    try:
        async with aiomqtt.Client("127.0.0.1", port, username="bob", password=CODE,
                                  identifier=f"{CID}-bob") as bob, \
                aiomqtt.Client("127.0.0.1", port, username="trainer", password="s3cret",
                               identifier="watcher") as watcher, \
                aiomqtt.Client("127.0.0.1", port, username="trainer", password="s3cret",
                               identifier=f"{CID}-trainer") as tr:
            await bob.subscribe(t.cmd_all, qos=1)  # first in the broker's table
            churners = [asyncio.ensure_future(churn(i)) for i in range(5)]
            await asyncio.sleep(0.3)
            await watcher.subscribe(f"{t.base}/cmd/+", qos=1)  # later in the table

            async def listen() -> None:
                async for m in watcher.messages:
                    got.append(bytes(m.payload))  # type: ignore[arg-type]
                    if len(got) == 300:
                        return

            listener = asyncio.ensure_future(listen())
            for i in range(300):
                await tr.publish(t.cmd_all, str(i).encode(), qos=1)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(listener, 15)
            stop.set()
            await asyncio.gather(*churners, return_exceptions=True)
    finally:
        await asyncio.wait_for(b.stop(), 10)
    assert got == [str(i).encode() for i in range(300)]


async def test_binds_where_told_and_stops_with_clients() -> None:
    port = free_port()
    assert lan_address("lo") == "127.0.0.1"
    b = EmbeddedBroker(class_id=CID, code=CODE, trainer_secret="x", host=lan_address("lo"),
                       port=port)
    await b.start()
    async with aiomqtt.Client("127.0.0.1", port, username="trainer", password="x",
                              identifier=f"{CID}-trainer") as c:
        await c.publish(f"oxi-assist/v1/class/{CID}/class", b"{}", qos=1)
        await asyncio.wait_for(b.stop(), 10)  # with a client connected
    await b.start()  # the port is free again
    await b.stop()


async def test_a_new_client_gets_no_one_elses_retained_messages() -> None:
    """amqtt 0.12.1 sent a connecting client the retained messages of every filter anyone had
    subscribed to: here a station would have read another station's saved state."""
    port = free_port()
    b = EmbeddedBroker(class_id=CID, code=CODE, trainer_secret="s3cret", port=port)
    await b.start()
    from oxi_assist.classroom.topics import TopicKind, Topics

    t = Topics(CID)
    try:
        async with aiomqtt.Client("127.0.0.1", port, username="trainer", password="s3cret",
                                  identifier=f"{CID}-trainer") as tr:
            await tr.subscribe(t.everything, qos=1)
            async with aiomqtt.Client("127.0.0.1", port, username="bob", password=CODE,
                                      identifier=f"{CID}-bob") as bob:
                await bob.publish(t.station("bob", TopicKind.STATE), b"bob's state", qos=1,
                                  retain=True)
                await asyncio.sleep(0.3)
            got: list[str] = []
            async with aiomqtt.Client("127.0.0.1", port, username="eve", password=CODE,
                                      identifier=f"{CID}-eve") as eve:
                await eve.subscribe(t.station("eve", TopicKind.STATE), qos=1)

                async def listen() -> None:
                    async for m in eve.messages:
                        got.append(str(m.topic))

                task = asyncio.ensure_future(listen())
                await asyncio.sleep(0.8)
                task.cancel()
            assert got == []
            # bob himself still gets his own state back when he subscribes to it
            async with aiomqtt.Client("127.0.0.1", port, username="bob", password=CODE,
                                      identifier=f"{CID}-bob") as bob:
                await bob.subscribe(t.station("bob", TopicKind.STATE), qos=1)
                m = await asyncio.wait_for(anext(aiter(bob.messages)), 5)
                assert m.payload == b"bob's state"
    finally:
        await asyncio.wait_for(b.stop(), 10)
