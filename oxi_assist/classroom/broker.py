"""The embedded broker: amqtt, started inside `oxi-assist class`, so a trainer needs nothing else.

amqtt is the kept asyncio MQTT broker for Python; running it in the trainer's own event loop
keeps the class to one process on the trainer's machine. Two plugins of ours make it the class's
gatekeeper:

- `ClassAuthPlugin`: the trainer logs in as `trainer` with its own secret; a station logs in
  with its station id as the user name and the join code as the password, with a client id
  tied to that user (`{class_id}-{station}`) and, if it sets a last will, only on its own
  presence topic (amqtt publishes a will without the topic check, so it is checked here, at
  connect). Anything else is refused at CONNECT.
- `ClassTopicPlugin`: the ACL. A station may publish only under `station/{its id}/` and read
  only the class state, commands to all and to itself, its acks and its own saved state
  (`Topics.station_may_publish` / `station_may_read`); the trainer may do anything in its class.

The broker binds to 127.0.0.1 unless the trainer asks for the local network by naming an
interface (`lan_address`). An external broker (mosquitto) gets the same rules from the files
`oxi_assist.classroom.mosquitto` writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from dataclasses import dataclass
from typing import Any

from amqtt.broker import Broker
from amqtt.contexts import Action
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin
from amqtt.session import Session as MqttSession

from oxi_assist.classroom.codes import TRAINER_USER, CodeError, valid_station_id
from oxi_assist.classroom.topics import TopicKind, Topics

LOCALHOST = "127.0.0.1"
STOP_TIMEOUT = 3.0
DEFAULT_PORT = 1883

log = logging.getLogger(__name__)


def _match(topic: str, pattern: str) -> bool:
    """MQTT filter matching (`+` one level, `#` the rest), for subscriptions and topics."""
    t, p = topic.split("/"), pattern.split("/")
    for i, level in enumerate(p):
        if level == "#":
            return True
        if i >= len(t) or (level != "+" and level != t[i]):
            return False
    return len(t) == len(p)


def _covered(filter_: str, allowed: tuple[str, ...]) -> bool:
    """A subscription filter is allowed only when it names exactly an allowed topic (a station
    has no use for wildcards, and a wildcard could reach other stations' topics)."""
    return "+" not in filter_ and "#" not in filter_ and filter_ in allowed


@dataclass
class _GateConfig:
    class_id: str = ""
    code: str = ""
    trainer_secret: str = ""


class ClassAuthPlugin(BaseAuthPlugin):
    """Who may connect: the trainer with its secret, a station with the join code."""

    Config = _GateConfig

    async def authenticate(self, *, session: MqttSession) -> bool:
        cfg: _GateConfig = self.context.config  # type: ignore[assignment]
        topics = Topics(cfg.class_id)
        user, password = session.username or "", session.password or ""
        if isinstance(password, bytes):
            password = password.decode("utf-8", "replace")
        if user == TRAINER_USER:
            return hmac.compare_digest(password.encode(), cfg.trainer_secret.encode())
        if not valid_station_id(user) or not hmac.compare_digest(password.encode(),
                                                                cfg.code.encode()):
            return False
        if session.client_id != f"{cfg.class_id}-{user}":
            return False
        if session.will_flag:
            return session.will_topic == topics.station(user, TopicKind.PRESENCE)
        return True


def allowed(cfg: _GateConfig, user: str, topic: str, action: Action) -> bool:
    """The class's ACL (see the module docstring), for the topic plugin and the broadcast."""
    topics = Topics(cfg.class_id)
    if user == TRAINER_USER:
        return _match(topic, topics.everything) or topic == topics.everything
    if not valid_station_id(user):
        return False
    if action == Action.PUBLISH:
        return topic in topics.station_may_publish(user)
    if action == Action.SUBSCRIBE:
        return _covered(topic, topics.station_may_read(user))
    return topic in topics.station_may_read(user)  # RECEIVE


class ClassTopicPlugin(BaseTopicPlugin):
    """What each client may publish and read (see the module docstring)."""

    Config = _GateConfig

    async def topic_filtering(self, *, session: MqttSession | None = None,
                              topic: str | None = None, action: Action | None = None) -> bool:
        if session is None or not topic or action is None:
            return False
        return allowed(self.context.config, session.username or "",  # type: ignore[arg-type]
                       topic, action)


class _ClassBroker(Broker):
    """amqtt's broker with two methods replaced, for two faults of amqtt 0.12.1 (the version is
    pinned below 0.13 in pyproject.toml, since these are amqtt's internals):

    - `_run_broadcast` (the delivery of one published message) walks the live subscription
      table across awaits, so a client that subscribes meanwhile (30 stations joining, or all
      of them coming back after a restart) raises "dictionary changed size during iteration"
      and the message misses the subscribers after that point; it also runs the plugin
      machinery (a task per plugin) for every delivery. Ours walks a snapshot and checks each
      receiver with the class's ACL function directly.
    - At CONNECT, amqtt sends the new client the retained messages of every filter in the
      whole subscription table (everyone's, unchecked): a station that connected would get
      every other station's saved state and presence. Ours sends retained messages only for
      the client's own subscriptions, and only topics it may read."""

    def __init__(self, config: dict[str, Any], gate: _GateConfig) -> None:
        super().__init__(config)
        self._gate = gate

    async def _publish_retained_messages_for_subscription(
            self, subscription: tuple[str, int], session: MqttSession) -> None:
        topic_filter = subscription[0]
        own = any(s.client_id == session.client_id
                  for s, _ in self._subscriptions.get(topic_filter, ()))
        if not own:
            return  # another client's filter (amqtt calls this for all of them at CONNECT)
        user = session.username or ""
        if not all(allowed(self._gate, user, t, Action.RECEIVE)
                   for t in self._retained_messages if self._matches(t, topic_filter)):
            return
        await super()._publish_retained_messages_for_subscription(subscription, session)

    async def _run_broadcast(self, running_tasks: Any) -> None:
        broadcast = await self._broadcast_queue.get()
        topic = broadcast["topic"]
        for k_filter, subscriptions in list(self._subscriptions.items()):
            if not self._matches(topic, k_filter):
                continue
            for target, sub_qos in list(subscriptions):
                qos = broadcast.get("qos", sub_qos)
                if not allowed(self._gate, target.username or "", topic, Action.RECEIVE):
                    continue
                if target.transitions.state != "connected":
                    if not target.clean_session and qos in (1, 2) and not target.is_anonymous:
                        await self._retain_broadcast_message(broadcast, qos, target)
                    continue
                handler = self._get_handler(target)
                if handler:
                    running_tasks.append(asyncio.ensure_future(
                        handler.mqtt_publish(topic, broadcast["data"], qos, retain=False)))


def lan_address(interface: str) -> str:
    """The IPv4 address of a named network interface (`--lan IFACE`), or a `CodeError` that
    lists the interfaces there are."""
    import psutil

    addrs = psutil.net_if_addrs()
    if interface not in addrs:
        raise CodeError(f"no network interface {interface!r} (there are: "
                        f"{', '.join(sorted(addrs))})")
    for a in addrs[interface]:
        if a.family.name == "AF_INET":
            return str(a.address)
    raise CodeError(f"network interface {interface!r} has no IPv4 address")


class _QuietDeadPeers(logging.Filter):
    """asyncio warns "socket.send() raised exception." each time amqtt writes to a station that
    has gone (killed, unplugged) before it notices; the board already says the station is
    lost, so the trainer's terminal is spared the repeats."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != "socket.send() raised exception."


class EmbeddedBroker:
    """amqtt with the class's gate, on `host:port`. `start()`, `stop()`; `restart()` is the
    fault the benchmark plays (every client must come back by itself)."""

    def __init__(self, *, class_id: str, code: str, trainer_secret: str,
                 host: str = LOCALHOST, port: int = DEFAULT_PORT) -> None:
        self.host, self.port = host, port
        self._gate = {"class_id": class_id, "code": code, "trainer_secret": trainer_secret}
        self._broker: Broker | None = None
        self.starts = 0

    def _config(self) -> dict[str, Any]:
        return {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}",
                                      "max_connections": 500}},
            "plugins": {
                f"{__name__}.ClassAuthPlugin": dict(self._gate),
                f"{__name__}.ClassTopicPlugin": dict(self._gate),
            },
        }

    @property
    def running(self) -> bool:
        return self._broker is not None

    async def start(self) -> None:
        for name in ("amqtt", "transitions"):  # their per-connection chatter is not ours to print
            logging.getLogger(name).setLevel(logging.CRITICAL)
        aio = logging.getLogger("asyncio")
        if not any(isinstance(f, _QuietDeadPeers) for f in aio.filters):
            aio.addFilter(_QuietDeadPeers())
        broker = _ClassBroker(self._config(), _GateConfig(**self._gate))
        try:
            await broker.start()
        except Exception as e:
            cause = e.__cause__ or e
            raise CodeError(f"cannot start the class broker on {self.host}:{self.port}: "
                            f"{getattr(cause, 'strerror', None) or cause}") from None
        self._broker = broker
        self.starts += 1

    async def stop(self) -> None:
        """Stops listening and drops every client (each then reconnects by itself).

        amqtt's `shutdown()` can wait forever on a client handler that is mid-read (seen
        with 0.12.1 when clients are sending), so the listeners are closed and the clients'
        connections aborted first; `shutdown()` then has nothing left to wait on, and is given
        `STOP_TIMEOUT` seconds at most."""
        broker, self._broker = self._broker, None
        if broker is None:
            return
        for server in list(getattr(broker, "_servers", {}).values()):
            inst = getattr(server, "instance", None)
            if inst is not None:
                with contextlib.suppress(Exception):
                    inst.close()
        for _session, handler in list(getattr(broker, "_sessions", {}).values()):
            writer = getattr(getattr(handler, "writer", None), "_writer", None)
            transport = getattr(writer, "transport", None)
            if transport is not None:
                with contextlib.suppress(Exception):
                    transport.abort()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(broker.shutdown(), STOP_TIMEOUT)

    async def restart(self) -> None:
        await self.stop()
        await self.start()
