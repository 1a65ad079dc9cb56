"""The BLE transport end to end through bleak's real API (BleakScanner, BleakClient,
bleak-retry-connector) against the virtual peripheral, on a VirtualClock: for each profile the
scan finds it, readings arrive, the link is dropped three times and the transport reports LOST
within 1 s of each drop and reconnects; a silent device goes STALE and is reconnected; device
choice with several oximeters in range; one-line errors without an adapter."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from drivers.ble_transport import ChooseDevice, open_ble
from drivers.clock import VirtualClock
from drivers.errors import SourceError
from drivers.reading import LinkState, Reading, Status
from simulators.ble.bleak_backend import VirtualAir
from simulators.ble.peripheral import VirtualPeripheral
from tests.drivers.source_run import SourceRun

PROFILES = ["plx", "nonin", "berrymed", "pc60f", "o2ring", "jumper", "fs20f"]


def patient(n: int = 200) -> list[Reading]:
    """A fixed sequence: SpO2 falling 97 → 85, pulse rising, one finger-out second."""
    out = []
    for i in range(n):
        status = Status.FINGER_OUT if i == 12 else (Status.BEAT if i % 2 else Status.NONE)
        spo2 = None if i == 12 else 97 - (i % 13)
        pulse = None if i == 12 else 60 + (i % 40)
        out.append(Reading(t=float(i), spo2=spo2, pulse=pulse, pi=1.5,
                           pleth=tuple(float(10 + 15 * k) for k in range(5)), status=status))
    return out


class Harness(SourceRun):
    def __init__(self, clock: VirtualClock, air: VirtualAir, src: Any) -> None:
        self.clock, self.air = clock, air
        super().__init__(src)


def setup(profile: str, clock: VirtualClock, *, params: dict[str, str] | None = None,
          readings: list[Reading] | None = None, **kw: Any) -> tuple[Harness, VirtualPeripheral]:
    air = VirtualAir(clock)
    p = air.add(VirtualPeripheral(profile, readings or patient(), clock=clock, **kw))
    src = open_ble("auto", params or {"scan": "2"}, clock,
                   scanner_backend=air.scanner_backend(), client_backend=air.client_backend())
    return Harness(clock, air, src), p


@pytest.mark.parametrize("profile", PROFILES)
async def test_profile_end_to_end_with_three_drops(profile: str) -> None:
    clock = VirtualClock()
    h, p = setup(profile, clock)
    runner = asyncio.create_task(p.run())
    await clock.run_for(10)
    drops = []
    for _ in range(3):
        drops.append(clock.now())
        p.drop_link()
        await clock.run_for(8)
    await h.finish()
    runner.cancel()
    assert h.error is None
    assert p.connections == 4
    lost = h.events(LinkState.LOST)
    assert len(lost) == 3
    for d, ev in zip(drops, lost, strict=True):
        assert 0 <= ev.t - d < 1.0, (d, ev)
        assert ev.reason == "link dropped"
    connected = h.events(LinkState.CONNECTED)
    assert len(connected) == 4
    assert all(d < c.t < d + 3 for d, c in zip(drops, connected[1:], strict=True))
    assert h.events()[-1].state is LinkState.CLOSED
    # every link event names the device: its name and the short address
    assert all(e.device == f"{p.name} (00:01)" for e in h.events()[1:])
    vit = h.vitals()
    assert len(vit) >= 25
    valid = [r for r in vit if r.valid]
    assert valid and all(1 <= r.spo2 <= 100 and 1 <= r.pulse <= 300 for r in valid)
    assert {round(r.spo2) for r in valid} <= {97 - k for k in range(13)}
    # readings after each reconnection, and time stamps from the injected clock
    for d in drops:
        assert any(d + 0.5 < r.t < d + 8 for r in vit)
    assert all(r.t <= clock.now() for r in vit)


async def test_finger_out_second_is_no_reading() -> None:
    clock = VirtualClock()
    h, p = setup("pc60f", clock)
    runner = asyncio.create_task(p.run())
    await clock.run_for(20)
    await h.finish()
    runner.cancel()
    out = [r for r in h.vitals() if r.status & Status.FINGER_OUT]
    assert out and all(r.spo2 is None and not r.valid for r in out)


async def test_silent_device_goes_stale_and_is_reconnected() -> None:
    clock = VirtualClock()
    h, p = setup("nonin", clock, params={"scan": "1", "stale": "3"})
    runner = asyncio.create_task(p.run())
    await clock.run_for(6)
    t0 = clock.now()
    p.go_silent(5)
    await clock.run_for(10)
    await h.finish()
    runner.cancel()
    stale = h.events(LinkState.STALE)
    assert len(stale) == 1 and t0 + 3 <= stale[0].t <= t0 + 4.5
    lost = h.events(LinkState.LOST)
    assert lost and lost[0].reason.startswith("no data for 3 s")
    assert p.connections >= 2
    assert any(r.t > t0 + 6 for r in h.vitals())  # data again after the forced reconnect


async def test_device_out_of_reach_reconnects_on_the_clock() -> None:
    clock = VirtualClock()
    h, p = setup("jumper", clock, params={"scan": "1"})
    runner = asyncio.create_task(p.run())
    await clock.run_for(4)
    p.drop_link(down_for=6)
    await clock.run_for(12)  # no real waiting: listening and back-off run on the clock
    await h.finish()
    runner.cancel()
    lost = h.events(LinkState.LOST)
    assert [e.reason for e in lost] == ["link dropped"]  # one LOST for the whole outage
    assert p.connections == 2
    assert 4 + 6 <= h.events(LinkState.CONNECTED)[-1].t <= 4 + 6 + 0.2
    assert any(r.t > 4 + 6 for r in h.vitals())


async def test_o2ring_is_polled_once_a_second_on_the_clock() -> None:
    clock = VirtualClock()
    h, p = setup("o2ring", clock, params={"scan": "1"})
    runner = asyncio.create_task(p.run())
    await clock.run_for(11)
    await h.finish()
    runner.cancel()
    polls = [w for w in p.writes if w[1] == bytes.fromhex("AA 17 E8 00 00 00 00 1B")]
    assert 9 <= len(polls) <= 11
    assert len(h.vitals()) == len(polls)


async def test_plx_features_read_on_connect() -> None:
    clock = VirtualClock()
    h, _p = setup("plx", clock, params={"scan": "1"})
    await clock.run_for(3)
    assert h.src.codec.features is not None and h.src.codec.features.supported == 0x43
    await h.finish()


def two_oximeters(clock: VirtualClock) -> VirtualAir:
    air = VirtualAir(clock)
    air.add(VirtualPeripheral("pc60f", patient(), clock=clock, address="AA:00:00:00:11:11",
                              rssi=-70))
    air.add(VirtualPeripheral("o2ring", patient(), clock=clock, address="AA:00:00:00:22:22",
                              rssi=-50))
    return air


async def test_several_oximeters_ask_for_a_choice() -> None:
    clock = VirtualClock()
    air = two_oximeters(clock)
    src = open_ble("auto", {"scan": "1"}, clock, scanner_backend=air.scanner_backend(),
                   client_backend=air.client_backend())
    h = Harness(clock, air, src)
    await clock.run_for(2)
    assert isinstance(h.error, ChooseDevice)
    c = h.error.candidates
    assert [(x.name, x.short, x.rssi) for x in c] == [("O2Ring 2211", "22:22", -50),
                                                      ("PC-60FW 1234", "11:11", -70)]
    assert "2 oximeters in range" in str(h.error) and "\n" not in str(h.error)


@pytest.mark.parametrize("key", ["address", "prefer"])
async def test_chosen_or_remembered_device_is_used(key: str) -> None:
    clock = VirtualClock()
    air = two_oximeters(clock)
    src = open_ble("auto", {"scan": "1", key: "aa:00:00:00:11:11"}, clock,
                   scanner_backend=air.scanner_backend(), client_backend=air.client_backend())
    h = Harness(clock, air, src)
    await clock.run_for(2)
    await h.finish()
    assert h.error is None
    assert h.events(LinkState.CONNECTED)[0].device == "PC-60FW 1234 (11:11)"
    assert air.find("AA:00:00:00:11:11").connections == 1
    assert air.find("AA:00:00:00:22:22").connections == 0


async def test_preference_not_in_range_with_one_oximeter_connects_to_it() -> None:
    clock = VirtualClock()
    h, p = setup("berrymed", clock, params={"scan": "1", "prefer": "11:22:33:44:55:66"})
    await clock.run_for(2)
    await h.finish()
    assert p.connections == 1


async def test_explicit_address_waits_until_in_range() -> None:
    clock = VirtualClock()
    air = VirtualAir(clock)
    p = VirtualPeripheral("fs20f", patient(), clock=clock, address="AA:BB:CC:DD:EE:FF")
    src = open_ble("AA:BB:CC:DD:EE:FF", {"scan": "1"}, clock,
                   scanner_backend=air.scanner_backend(), client_backend=air.client_backend())
    h = Harness(clock, air, src)
    await clock.run_for(3)
    assert h.events(LinkState.LOST)[0].reason == "EE:FF not in range; scanning again"
    air.add(p)
    await clock.run_for(6)
    await h.finish()
    assert h.events(LinkState.CONNECTED) and p.connections == 1


async def test_unknown_device_by_address_is_identified_by_its_gatt_table() -> None:
    clock = VirtualClock()
    air = VirtualAir(clock)
    p = air.add(VirtualPeripheral("pc60f", patient(), clock=clock, name="Gadget"))
    src = open_ble(p.address, {"scan": "1"}, clock, scanner_backend=air.scanner_backend(),
                   client_backend=air.client_backend())
    h = Harness(clock, air, src)
    runner = asyncio.create_task(p.run())
    await clock.run_for(5)
    await h.finish()
    runner.cancel()
    assert h.src.profile.key == "pc60f" and h.vitals()


async def test_no_adapter_is_one_line() -> None:
    clock = VirtualClock()
    air = VirtualAir(clock, adapter=False)
    src = open_ble("auto", {}, clock, scanner_backend=air.scanner_backend(),
                   client_backend=air.client_backend())
    h = Harness(clock, air, src)
    await clock.run_for(1)
    assert isinstance(h.error, SourceError)
    assert str(h.error) == "ble: no Bluetooth adapter found"


@pytest.mark.parametrize(("target", "params", "msg"), [
    ("nonsense", {}, "not a Bluetooth address"),
    ("auto", {"colour": "red"}, "unknown option"),
    ("auto", {"scan": "soon"}, "bad scan='soon': expected a number"),
    ("auto", {"profile": "acme"}, "unknown BLE profile"),
    ("auto", {"stale": "nan"}, r"bad stale='nan': expected a number 0\.5–30 s"),
    ("auto", {"stale": "inf"}, "bad stale='inf'"),
    ("auto", {"attempts": "0.5"}, r"bad attempts='0\.5': expected a whole number 1–100"),
    ("auto", {"attempts": "1e308"}, "bad attempts='1e308'"),
    ("auto", {"connect": "0"}, "bad connect='0'"),
])
def test_bad_uri_options_are_one_line(target: str, params: dict[str, str], msg: str) -> None:
    with pytest.raises(SourceError, match=msg):
        open_ble(target, params, VirtualClock())


async def test_close_before_iteration_and_twice() -> None:
    clock = VirtualClock()
    src = open_ble("auto", {}, clock)
    await src.close()
    await src.close()
    items = [i async for i in src]
    assert [i.state for i in items] == [LinkState.CLOSED]


async def test_spot_check_only_plx_is_not_reconnected_for_silence() -> None:
    clock = VirtualClock()
    h, p = setup("plx", clock, params={"scan": "1"}, interval=30.0, variant="spot")
    runner = asyncio.create_task(p.run())
    await clock.run_for(95)
    await h.finish()
    runner.cancel()
    assert h.events(LinkState.STALE) == [] and p.connections == 1
    vit = h.vitals()
    assert len(vit) == 3 and all(r.spo2 == 97 - i for i, r in enumerate(vit))


async def test_contec_ble_by_address_gets_start_commands_and_keepalives() -> None:
    from drivers.protocols.contec_hid import KEEP_ALIVE, START_MEASUREMENTS, START_WAVE

    clock = VirtualClock()
    air = VirtualAir(clock)
    p = air.add(VirtualPeripheral("contec", patient(), clock=clock))
    src = open_ble(p.address, {"scan": "1", "profile": "contec"}, clock,
                   scanner_backend=air.scanner_backend(), client_backend=air.client_backend())
    h = Harness(clock, air, src)
    runner = asyncio.create_task(p.run())
    await clock.run_for(21.5)
    await h.finish()
    runner.cancel()
    writes = [w for _, w in p.writes]
    assert writes[:2] == [START_WAVE, START_MEASUREMENTS]
    assert writes[2:] == [KEEP_ALIVE] * 5  # at 1, 6, 11, 16, 21 s
    vit = h.vitals()
    assert len(vit) >= 15 and any(r.valid and r.spo2 == 97 for r in vit)
    assert h.events(LinkState.CONNECTED)[0].device == "CMS50D-BT (00:01)"


# -- the remembered choice (oxi_assist.device_choice) feeding `prefer` --------------------------
def test_device_choice_remember_get_forget(tmp_path: Any) -> None:
    from oxi_assist.device_choice import Chosen, DeviceChoice

    dc = DeviceChoice(tmp_path / "cfg")
    assert dc.get() is None and dc.apply({"scan": "2"}) == {"scan": "2"}
    dc.remember("AA:00:00:00:11:11", "PC-60FW 1234")
    assert DeviceChoice(tmp_path / "cfg").get() == Chosen("AA:00:00:00:11:11", "PC-60FW 1234")
    assert dc.apply({}) == {"prefer": "AA:00:00:00:11:11"}
    assert dc.apply({"address": "X"}) == {"address": "X"}  # a choice in the URI wins
    dc.path.write_text("{not json")
    assert dc.get() is None  # a damaged file never stops a session
    dc.path.write_text('{"address": 5}')
    assert dc.get() is None
    dc.forget()
    dc.forget()
    assert dc.get() is None


async def test_remembered_choice_picks_among_several(tmp_path: Any) -> None:
    from oxi_assist.device_choice import DeviceChoice

    dc = DeviceChoice(tmp_path)
    clock = VirtualClock()
    air = two_oximeters(clock)
    # first run: two in range, nothing remembered → the responder is asked
    src = open_ble("auto", dc.apply({"scan": "1"}), clock,
                   scanner_backend=air.scanner_backend(), client_backend=air.client_backend())
    h = Harness(clock, air, src)
    await clock.run_for(2)
    assert isinstance(h.error, ChooseDevice)
    pick = h.error.candidates[1]
    dc.remember(pick.address, pick.name)
    # next run on this machine: connects to the remembered one on its own
    src = open_ble("auto", dc.apply({"scan": "1"}), clock,
                   scanner_backend=air.scanner_backend(), client_backend=air.client_backend())
    h = Harness(clock, air, src)
    await clock.run_for(2)
    await h.finish()
    assert h.error is None
    assert h.events(LinkState.CONNECTED)[0].device == pick.label == "PC-60FW 1234 (11:11)"
