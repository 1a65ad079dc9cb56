"""One MQTT connection that stays up: connect, subscribe, publish, and come back after a drop.

The client is aiomqtt (asyncio on top of paho-mqtt, the Eclipse project's reference client): it
is kept, speaks MQTT 3.1.1 with last wills, keepalives and TLS, and is independent of the
embedded broker, so the tests' traffic crosses two implementations of the protocol rather than
one library talking to itself. amqtt's own client was the alternative; it shares code with the
broker and is less used.

`MqttLink.run()` connects, subscribes, calls `on_connect` (where a station republishes its
presence and a trainer its retained state) and then passes every message to `on_message` until
the connection drops; then it waits (`BACKOFF`, growing to 2 s) and tries again, for as long as
it runs. A refused login (wrong join code) is not retried: `run()` raises `LinkRefused`.
`publish()` never waits and never raises: it hands the message to the connection, or returns
False while there is none; reliable delivery is the caller's (sequence numbers, acks, resends).

`LossyFilter` drops a share of the messages in and out (seeded): the test hook for "10 %
message loss on a station".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

import aiomqtt

from oxi_assist.classroom.codes import CodeError

#: Waits between connection attempts (s); the last one repeats.
BACKOFF = (0.1, 0.25, 0.5, 1.0, 2.0)
#: MQTT keepalive (s): the broker declares a silent client gone after 1.5× this, which (with the
#: last will) bounds how long a dead station can look connected.
KEEPALIVE = 2
CONNECT_TIMEOUT = 5.0
SCHEMES = {"mqtt": (False, 1883), "mqtts": (True, 8883)}


class LinkRefused(CodeError):
    """The broker refused the login (wrong code, user or password): retrying cannot help."""


@dataclass(frozen=True)
class BrokerAddress:
    """Where the broker is: `HOST`, `HOST:PORT`, `mqtt://HOST:PORT` or `mqtts://HOST:PORT`
    (TLS). A user name in the URI (`mqtts://trainer@host`) is the login for an external
    broker; a password is never taken from a URI (it would show in the process list)."""

    host: str
    port: int = 1883
    tls: bool = False
    username: str | None = None

    @classmethod
    def parse(cls, text: str) -> BrokerAddress:
        raw = text.strip()
        if "://" not in raw:
            raw = "mqtt://" + raw
        try:
            u = urlsplit(raw)
            port = u.port
        except ValueError as e:
            raise CodeError(f"broker address {text!r}: {e}") from None
        if u.scheme not in SCHEMES:
            raise CodeError(f"broker address {text!r}: use mqtt:// or mqtts://")
        if not u.hostname:
            raise CodeError(f"broker address {text!r}: no host name")
        if u.password is not None:
            raise CodeError(f"broker address {text!r}: put the password in a file "
                            f"(--password-file), not in the address")
        if u.path not in ("", "/") or u.query:
            raise CodeError(f"broker address {text!r}: unexpected path or options")
        tls, default_port = SCHEMES[u.scheme]
        return cls(u.hostname, port or default_port, tls, u.username)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'mqtts' if self.tls else 'mqtt'}://{host}:{self.port}"


@dataclass(frozen=True)
class Login:
    username: str
    password: str
    client_id: str


@dataclass(frozen=True)
class LastWill:
    topic: str
    payload: bytes
    retain: bool = True
    qos: int = 1


class Publisher(Protocol):
    """What the station and trainer cores publish through (a link, or a test's recorder)."""

    def publish(self, topic: str, payload: bytes, *, qos: int = 0,
                retain: bool = False) -> bool: ...


class LossyFilter:
    """Drops each message in or out with probability `rate` (seeded, so a run repeats)."""

    def __init__(self, rate: float, seed: int = 0) -> None:
        if not 0.0 <= rate < 1.0:
            raise CodeError(f"loss rate {rate!r}: expected 0 ≤ rate < 1")
        self.rate = rate
        self._rng = random.Random(seed)
        self.dropped_in = 0
        self.dropped_out = 0

    def drop_in(self) -> bool:
        if self.rate and self._rng.random() < self.rate:
            self.dropped_in += 1
            return True
        return False

    def drop_out(self) -> bool:
        if self.rate and self._rng.random() < self.rate:
            self.dropped_out += 1
            return True
        return False


def tls_context(cafile: str | None = None, insecure: bool = False) -> ssl.SSLContext:
    """A client TLS context: the system's trust store, or `cafile` (a private CA)."""
    ctx = ssl.create_default_context(cafile=cafile)
    if insecure:  # a self-signed test broker; the docs say when this is acceptable
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _refused(e: BaseException) -> bool:
    rc = getattr(e, "rc", None)
    value = getattr(rc, "value", rc)
    text = str(e).lower()
    return value in (4, 5, 134, 135) or "not authori" in text or "bad user" in text


#: aiomqtt's own notices (pending publishes at a drop) are ours to count, not to print
_QUIET = logging.getLogger("oxi_assist.classroom.mqtt")
_QUIET.setLevel(logging.ERROR)


def _retrieve(fut: asyncio.Future[object]) -> None:
    """Marks a cancelled read's outcome as seen (it may have failed as the link dropped)."""
    if not fut.cancelled():
        fut.exception()


class MqttLink:
    """A connection kept up for as long as `run()` runs. See the module docstring."""

    def __init__(self, address: BrokerAddress, login: Login, *,
                 subscriptions: Sequence[tuple[str, int]],
                 on_message: Callable[[str, bytes], None],
                 on_connect: Callable[[], None] | None = None,
                 on_disconnect: Callable[[str], None] | None = None,
                 will: LastWill | None = None, keepalive: int = KEEPALIVE,
                 loss: LossyFilter | None = None,
                 tls: ssl.SSLContext | None = None) -> None:
        self.address = address
        self.login = login
        self.subscriptions = list(subscriptions)
        self.on_message = on_message
        self.on_connect = on_connect
        self.on_disconnect = on_disconnect
        self.will = will
        self.keepalive = keepalive
        self.loss = loss
        self._tls = tls if tls is not None else (tls_context() if address.tls else None)
        self._client: aiomqtt.Client | None = None
        self._stop = asyncio.Event()
        self._up = asyncio.Event()
        self._pending: set[asyncio.Task[None]] = set()
        self.connected = False
        self.connects = 0  # successful connections (1 + reconnections)
        self.sent = 0
        self.received = 0
        self.unsent = 0  # publishes while not connected (the caller resends what matters)
        self.last_error = ""

    # -- publishing ---------------------------------------------------------------------------

    def publish(self, topic: str, payload: bytes, *, qos: int = 0, retain: bool = False) -> bool:
        client = self._client
        if client is None or not self.connected:
            self.unsent += 1
            return False
        if self.loss is not None and self.loss.drop_out():
            return True  # lost on the way: the sender believes it went
        task = asyncio.get_running_loop().create_task(
            self._send(client, topic, payload, qos, retain))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)
        return True

    async def _send(self, client: aiomqtt.Client, topic: str, payload: bytes, qos: int,
                    retain: bool) -> None:
        try:
            await client.publish(topic, payload, qos=qos, retain=retain, timeout=CONNECT_TIMEOUT)
            self.sent += 1
        except (TimeoutError, aiomqtt.MqttError) as e:
            self.unsent += 1
            self.last_error = str(e)

    # -- the connection loop ------------------------------------------------------------------

    def _make_client(self) -> aiomqtt.Client:
        will = (aiomqtt.Will(self.will.topic, self.will.payload, self.will.qos, self.will.retain)
                if self.will is not None else None)
        return aiomqtt.Client(self.address.host, self.address.port,
                              username=self.login.username, password=self.login.password,
                              identifier=self.login.client_id, will=will, clean_session=True,
                              keepalive=self.keepalive, timeout=CONNECT_TIMEOUT,
                              tls_context=self._tls, logger=_QUIET)

    async def run(self) -> None:
        """Keeps the connection up until `stop()`. Raises `LinkRefused` on a refused login."""
        attempt = 0
        while not self._stop.is_set():
            try:
                async with self._make_client() as client:
                    await client.subscribe([(t, q) for t, q in self.subscriptions])
                    self._client, self.connected = client, True
                    self._up.set()
                    self.connects += 1
                    attempt = 0
                    if self.on_connect is not None:
                        self.on_connect()
                    await self._read(client)
                    if self._stop.is_set():
                        await self._drain()
            except aiomqtt.MqttError as e:
                if _refused(e):
                    self.last_error = f"the broker refused the login ({e})"
                    raise LinkRefused(self.last_error) from None
                self.last_error = str(e) or type(e).__name__
            finally:
                was = self.connected
                self._client, self.connected = None, False
                self._up.clear()
                if was and self.on_disconnect is not None:
                    self.on_disconnect(self.last_error)
            if self._stop.is_set():
                break
            delay = BACKOFF[min(attempt, len(BACKOFF) - 1)]
            attempt += 1
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stop.wait(), delay)

    async def _read(self, client: aiomqtt.Client) -> None:
        stop = asyncio.ensure_future(self._stop.wait())
        nxt: asyncio.Future[aiomqtt.Message] | None = None
        try:
            it = client.messages.__aiter__()
            while True:
                nxt = asyncio.ensure_future(it.__anext__())
                done, _ = await asyncio.wait({nxt, stop}, return_when=asyncio.FIRST_COMPLETED)
                if nxt not in done:
                    return
                m = nxt.result()
                nxt = None
                if self.loss is not None and self.loss.drop_in():
                    continue
                self.received += 1
                payload = m.payload
                data = (payload if isinstance(payload, bytes)
                        else bytes(payload) if isinstance(payload, bytearray)
                        else str(payload).encode() if payload is not None else b"")
                try:
                    self.on_message(str(m.topic), data)
                except Exception as e:  # the cores never raise; a bug must not end the link
                    self.last_error = f"message handler: {type(e).__name__}: {e}"
        finally:
            stop.cancel()
            if nxt is not None:
                nxt.cancel()
                nxt.add_done_callback(_retrieve)

    async def _drain(self, timeout: float = 2.0) -> None:
        """Lets queued publishes (a goodbye, the last events) go out before disconnecting."""
        if self._pending:
            await asyncio.wait(set(self._pending), timeout=timeout)

    def stop(self) -> None:
        self._stop.set()

    async def wait_connected(self, timeout: float) -> bool:
        """True once connected; False after `timeout` seconds of network time."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._up.wait(), timeout)
        return self.connected
