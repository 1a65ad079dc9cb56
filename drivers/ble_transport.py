"""Bluetooth LE oximeters as a `Source`, on bleak.

`ble:auto` scans and connects on its own only when the choice is unambiguous: exactly one
recognised oximeter in range, or the one this machine used before (`params["prefer"]`, which the
composition root fills from the remembered choice). With several and none preferred, iteration
raises `ChooseDevice` carrying the candidates (name, short address, RSSI) so the screen can offer
them; the caller reopens with `params={"address": ...}`. `ble:ADDRESS` goes straight to that
device.

The link is watched, not trusted: a disconnect is reported (`LinkEvent` LOST, once per outage)
the moment bleak reports it, then the transport reconnects until closed: it listens for the
device's advertisement (a device out of range is not worth a connect attempt, and the fresh
advertisement gives BlueZ a current device object), then makes one connect attempt through
bleak-retry-connector's `establish_connection` (kept for its BlueZ handling: already-connected
devices, the services cache, waiting for a failed link to be torn down) and subscribes again.
Every wait between attempts, the listening window and the connect timeout run on the injected
clock, so an outage of minutes plays out on a `VirtualClock` in milliseconds and on a
`RealClock` in real time. Notifications that stop while the link stays up (a hung device) are
caught by a watchdog: STALE, then a forced reconnect. Polls and keep-alives run on the clock.
Every link event names the device (name + short address).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

from bleak import BleakClient, BleakScanner
from bleak.backends.characteristic import BleakGATTCharacteristic
from bleak.exc import BleakBluetoothNotAvailableError

from drivers.ble_scan import Candidate, bluetooth_error, scan_all, short_address
from drivers.catalogue_ble import PROFILES, BleProfile, match_gatt
from drivers.catalogue_ble import profile as profile_named
from drivers.clock import Clock
from drivers.errors import SourceError
from drivers.options import number_option
from drivers.protocols import codec_for, plx
from drivers.protocols.codec import Codec
from drivers.reading import LinkEvent, LinkState, SourceItem

#: Reconnect back-off (ours): seconds before attempt 1, 2, 3...; the last value repeats.
BACKOFF = (0.5, 1.0, 2.0, 4.0, 8.0, 10.0)
SCAN_SECONDS = 5.0
#: Seconds one connect attempt may take (on the clock), bleak-retry-connector's own 20 s
#: connect timeout and its wait for a failed link to be torn down included.
CONNECT_TIMEOUT = 30.0
#: While the device is out of range: seconds per listening window (a RECONNECTING event each).
LISTEN_WINDOW = 10.0
WATCHDOG_STEP = 0.5
WRITE_CHUNK = 20

_MAC = re.compile(r"^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$")
_UUID = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")


class ChooseDevice(SourceError):
    """Several oximeters in range and none chosen before: pick one of `candidates` and reopen
    with `params={"address": candidate.address}` (remember it for next time)."""

    def __init__(self, candidates: list[Candidate]) -> None:
        self.candidates = candidates
        names = ", ".join(c.describe() for c in candidates)
        super().__init__(f"ble: {len(candidates)} oximeters in range, choose one: {names}")


#: What the numeric options accept: (low, high, unit, whole number).
OPTION_RANGES: dict[str, tuple[float, float, str, bool]] = {
    "scan": (0.5, 120.0, " s", False), "stale": (0.5, 30.0, " s", False),
    "attempts": (1, 100, "", True), "connect": (1.0, 120.0, " s", False),
}


def _number(params: dict[str, str], key: str, default: float) -> float:
    lo, hi, unit, whole = OPTION_RANGES[key]
    return number_option(params, key, default, lo, hi, scheme="ble", unit=unit, whole=whole)


_T = TypeVar("_T")


async def within(clock: Clock, seconds: float, aw: Awaitable[_T], what: str) -> _T:
    """`aw`, or TimeoutError after `seconds` on `clock`: a real timeout on a RealClock, a
    virtual one on a VirtualClock (asyncio's own timeouts always count real seconds). Like
    `asyncio.timeout`, `aw` runs in the calling task, which is cancelled when time is up."""
    me = asyncio.current_task()
    assert me is not None
    fired = False
    inside = True  # a timer callback that runs after `aw` is done must not cancel anything

    def fire(f: asyncio.Future[None]) -> None:
        nonlocal fired
        if inside and not f.cancelled() and f.exception() is None:
            fired = True
            me.cancel()

    timer = asyncio.ensure_future(clock.sleep(seconds))
    timer.add_done_callback(fire)
    try:
        return await aw
    except asyncio.CancelledError:
        if fired and me.uncancel() == 0:
            raise TimeoutError(f"{what} timed out after {seconds:g} s") from None
        raise
    finally:
        inside = False
        timer.cancel()


def _advert_catcher(address: str, seen: asyncio.Future[tuple[Any, int]]
                    ) -> Callable[[Any, Any], None]:
    """A detection callback (bleak wants exactly two parameters) that resolves `seen` with
    (BLEDevice, RSSI) at the first advertisement from `address`."""
    def on_adv(device: Any, adv: Any) -> None:
        if device.address.upper() == address and not seen.done():
            seen.set_result((device, adv.rssi))
    return on_adv


class BleSource:
    """One BLE oximeter as an async iterator of Readings and LinkEvents."""

    def __init__(self, target: str, params: dict[str, str], clock: Clock, *,
                 scanner_backend: type[Any] | None = None,
                 client_backend: type[Any] | None = None) -> None:
        self.clock = clock
        self.target = target
        self.params = dict(params)
        self.name = f"ble:{target}"
        known = {"address", "prefer", "profile", "scan", "stale", "attempts", "connect"}
        unknown = set(self.params) - known
        if unknown:
            raise SourceError(f"ble: unknown option(s) {', '.join(sorted(unknown))} "
                              f"(known: {', '.join(sorted(known))})")
        self.address = self.params.get("address") or (None if target == "auto" else target)
        if target != "auto" and not (_MAC.match(target) or _UUID.match(target)):
            raise SourceError(f"ble: {target!r} is not a Bluetooth address "
                              "(AA:BB:CC:DD:EE:FF, or a device UUID on macOS) or 'auto'")
        self.forced_profile: BleProfile | None = (
            profile_named(self.params["profile"]) if "profile" in self.params else None)
        self.scan_seconds = _number(self.params, "scan", SCAN_SECONDS)
        self.stale_override = _number(self.params, "stale", 0) if "stale" in self.params \
            else None
        self.attempts = int(_number(self.params, "attempts", 1))
        self.connect_timeout = _number(self.params, "connect", CONNECT_TIMEOUT)
        self._scanner_backend = scanner_backend
        self._client_backend = client_backend
        self._queue: asyncio.Queue[SourceItem | BaseException] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._client: BleakClient | None = None
        self._lost: asyncio.Event | None = None
        self._forced = False
        self._dropped = False
        self._last_data = 0.0
        self._stale = False
        self._watch = True
        self.candidate: Candidate | None = None
        self.profile: BleProfile | None = None
        self.codec: Codec | None = None
        self.connections = 0

    # -- Source ---------------------------------------------------------------------------
    @property
    def device(self) -> str:
        if self.candidate is not None:
            return self.candidate.label
        return short_address(self.address) if self.address else "scanning"

    def __aiter__(self) -> AsyncIterator[SourceItem]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[SourceItem]:
        if self._task is None and not self._closed:
            self._task = asyncio.create_task(self._run())
        while True:
            item = await self._queue.get()
            if isinstance(item, BaseException):
                raise item
            yield item
            if isinstance(item, LinkEvent) and item.state is LinkState.CLOSED:
                return

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
        await self._disconnect()
        self._event(LinkState.CLOSED, "closed")

    # -- events ---------------------------------------------------------------------------
    def _event(self, state: LinkState, reason: str = "") -> None:
        self._queue.put_nowait(LinkEvent(self.clock.now(), state, reason, self.device))

    # -- the connection loop ---------------------------------------------------------------
    async def _run(self) -> None:
        try:
            await self._loop()
        except asyncio.CancelledError:
            raise
        except SourceError as e:
            self._queue.put_nowait(e)
        except Exception as e:
            self._queue.put_nowait(bluetooth_error(e))

    async def _loop(self) -> None:
        self._event(LinkState.CONNECTING, "scanning")
        self.candidate = await self._resolve()
        failures = 0
        down = False  # a LOST was reported for the outage in progress (one per outage)
        first = True
        while not self._closed:
            if not first:
                await self._listen()
                self._event(LinkState.RECONNECTING, f"attempt {failures + 1}")
            try:
                client = await self._connect(self.candidate)
                await self._setup(client)
            except (SourceError, BleakBluetoothNotAvailableError):
                raise
            except Exception as e:
                await self._disconnect()
                failures += 1
                reason = f"connect failed: {bluetooth_error(e)}"
                self._event(LinkState.RECONNECTING if down else LinkState.LOST, reason)
                down = True
                await self.clock.sleep(BACKOFF[min(failures - 1, len(BACKOFF) - 1)])
                first = False
                continue
            failures = 0
            down = False
            first = False
            self.connections += 1
            self._event(LinkState.CONNECTED, self.profile.label if self.profile else "")
            await self._session(client)
            down = True
            await self._disconnect()
            if not self._closed:
                await self.clock.sleep(BACKOFF[0])

    async def _resolve(self) -> Candidate:
        """Scan until the device to use is known (or the choice is the user's)."""
        failures = 0
        while True:
            found = await scan_all(self.scan_seconds, clock=self.clock,
                                   backend=self._scanner_backend)
            if self.address:
                for c in found:
                    if c.address.upper() == self.address.upper():
                        return self._with_profile(c)
                reason = f"{short_address(self.address)} not in range; scanning again"
            else:
                oximeters = [c for c in found if c.profile is not None]
                prefer = self.params.get("prefer", "").upper()
                chosen = [c for c in oximeters if prefer and c.address.upper() == prefer]
                if chosen:
                    return self._with_profile(chosen[0])
                if len(oximeters) == 1:
                    return self._with_profile(oximeters[0])
                if len(oximeters) > 1:
                    raise ChooseDevice(oximeters)
                reason = "no oximeter in range; scanning again"
            failures += 1
            self._event(LinkState.LOST, reason)
            await self.clock.sleep(BACKOFF[min(failures - 1, len(BACKOFF) - 1)])

    def _with_profile(self, c: Candidate) -> Candidate:
        if self.forced_profile is not None:
            c = replace(c, profile=self.forced_profile)
        self.profile = c.profile
        return c

    async def _listen(self) -> None:
        """Until the device advertises again: listen in windows of `LISTEN_WINDOW` s on the
        clock, with one RECONNECTING event per window that passes in silence. A seen
        advertisement refreshes the BLEDevice the next attempt uses. If scanning itself fails
        (the stack is busy), the next attempt goes ahead with the device known before."""
        assert self.candidate is not None
        address = self.candidate.address.upper()
        listened = 0.0
        while not self._closed:
            seen: asyncio.Future[tuple[Any, int]] = asyncio.get_running_loop().create_future()
            try:
                scanner = BleakScanner(_advert_catcher(address, seen),
                                       backend=self._scanner_backend)
                await scanner.start()
            except BleakBluetoothNotAvailableError:
                raise
            except Exception:
                return
            try:
                device, rssi = await within(self.clock, LISTEN_WINDOW, seen, "listening")
            except TimeoutError:
                listened += LISTEN_WINDOW
                self._event(LinkState.RECONNECTING,
                            f"not seen for {listened:g} s; still looking")
                continue
            finally:
                with contextlib.suppress(Exception):
                    await scanner.stop()
            self.candidate = replace(self.candidate, device=device, rssi=rssi)
            return

    async def _connect(self, c: Candidate) -> BleakClient:
        """One attempt, bounded on the clock. `establish_connection` is asked for a single
        attempt (`attempts=` raises it) because its back-off between attempts sleeps in real
        time; ours runs on the clock in `_loop`."""
        from bleak_retry_connector import establish_connection

        kwargs: dict[str, Any] = {}
        if self._client_backend is not None:
            kwargs["backend"] = self._client_backend
        self._forced = False
        self._dropped = False
        client = await within(self.clock, self.connect_timeout, establish_connection(
            BleakClient, c.device, c.label, disconnected_callback=self._on_disconnect,
            max_attempts=self.attempts, **kwargs), f"connecting to {c.label}")
        self._client = client
        return client

    async def _setup(self, client: BleakClient) -> None:
        services = {s.uuid.lower(): {ch.uuid.lower() for ch in s.characteristics}
                    for s in client.services}
        prof = self.profile or match_gatt(services)
        if prof is None:
            raise SourceError(f"ble: {self.device} offers no known oximeter service "
                              f"(profiles: {', '.join(PROFILES)})")
        self.profile = prof
        if self.candidate is not None and self.candidate.profile is None:
            self.candidate = replace(self.candidate, profile=prof)
        self.codec = codec = codec_for(prof.protocol)
        present = {ch for chars in services.values() for ch in chars}
        subscribed = []
        for uuid in prof.notify:
            if uuid in present:
                # StartNotify, not AcquireNotify: the latter broke some devices on BlueZ
                await client.start_notify(uuid, self._on_notify,
                                          bluez={"use_start_notify": True})
                subscribed.append(uuid)
        if not subscribed:
            raise SourceError(f"ble: {self.device} lacks the {prof.label} data characteristic")
        for uuid in prof.read_on_connect:
            if uuid in present:
                data = await client.read_gatt_char(uuid)
                codec.feed(bytes(data), uuid, self.clock.now())
        for cmd in prof.start:
            await self._write(client, cmd)
        self._last_data = self.clock.now()
        self._stale = False
        # a spot-check-only PLX device (e.g. MightySat) indicates once per measurement, so
        # silence is normal there and no reason to reconnect
        self._watch = not (prof.key == "plx" and subscribed == [plx.SPOT_CHECK])

    async def _write(self, client: BleakClient, data: bytes) -> None:
        assert self.profile is not None and self.profile.write is not None
        char = client.services.get_characteristic(self.profile.write)
        if char is None:
            raise SourceError(f"ble: {self.device} lacks the write characteristic "
                              f"{self.profile.write}")
        response = "write-without-response" not in char.properties
        for k in range(0, len(data), WRITE_CHUNK):
            await client.write_gatt_char(char, data[k:k + WRITE_CHUNK], response=response)

    async def _session(self, client: BleakClient) -> None:
        """Until the link is lost, stale or closed: feed notifications, poll, watch."""
        self._lost = lost = asyncio.Event()
        if self._dropped:  # the link went while subscribing
            self._link_down("link dropped")
            return
        tasks = [asyncio.create_task(self._watchdog(client))] if self._watch else []
        prof = self.profile
        assert prof is not None
        if prof.poll is not None:
            tasks.append(asyncio.create_task(self._periodic(client, prof.poll_interval, True)))
        if prof.keepalive is not None:
            tasks.append(asyncio.create_task(
                self._periodic(client, prof.keepalive_interval, False)))
        try:
            await lost.wait()
        finally:
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t

    async def _periodic(self, client: BleakClient, interval: float, poll: bool) -> None:
        assert self.profile is not None
        while True:
            if poll:
                data = self.codec.poll() if hasattr(self.codec, "poll") else self.profile.poll
            else:
                data = self.profile.keepalive
            try:
                await self._write(client, data)
            except Exception as e:
                self._link_down(f"write failed: {bluetooth_error(e)}")
                return
            await self.clock.sleep(interval)

    async def _watchdog(self, client: BleakClient) -> None:
        assert self.profile is not None
        limit = self.stale_override or self.profile.stale_after
        while True:
            await self.clock.sleep(WATCHDOG_STEP)
            if self.clock.now() - self._last_data >= limit:
                self._stale = True
                self._event(LinkState.STALE, f"no data for {limit:g} s")
                self._forced = True
                await self._disconnect()
                self._link_down(f"no data for {limit:g} s; reconnecting")
                return

    def _link_down(self, reason: str) -> None:
        if self._lost is not None and not self._lost.is_set():
            self._event(LinkState.LOST, reason)
            self._lost.set()

    # -- bleak callbacks ------------------------------------------------------------------
    def _on_disconnect(self, client: BleakClient) -> None:
        if self._closed or self._forced or client is not self._client:
            return
        self._dropped = True
        self._link_down("link dropped")

    def _on_notify(self, char: BleakGATTCharacteristic, data: bytearray) -> None:
        codec = self.codec
        if self._closed or codec is None:
            return
        now = self.clock.now()
        before = codec.stats.frames_good
        readings = codec.feed(bytes(data), char.uuid.lower(), now)
        if codec.stats.frames_good > before:
            self._last_data = now
            if self._stale:
                self._stale = False
        for r in readings:
            self._queue.put_nowait(r if r.t == now else replace(r, t=now))

    async def _disconnect(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.disconnect()


def open_ble(target: str, params: dict[str, str], clock: Clock, *,
             scanner_backend: type[Any] | None = None,
             client_backend: type[Any] | None = None) -> BleSource:
    """`ble:auto` or `ble:ADDRESS`. Options: `address=` (a choice made in a picker),
    `prefer=` (the device this machine used before), `profile=` (force a catalogue profile),
    `scan=` seconds, `stale=` seconds without data before reconnecting, `connect=` seconds one
    connect attempt may take (default 30), `attempts=` attempts inside one bleak-retry-connector
    call (default 1: its back-off between them waits in real time, ours on the clock). The
    backends are for the virtual peripheral and tests."""
    return BleSource(target, params, clock, scanner_backend=scanner_backend,
                     client_backend=client_backend)
