"""The device picker end to end: `ble:auto` through the real URI opener, the real transport and
bleak's own API against virtual peripherals in one VirtualAir, keys pressed with Pilot, time from
a VirtualClock, the choice remembered in a temporary config folder."""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path

import pytest
from textual.pilot import Pilot

from drivers import ble_transport
from drivers.clock import VirtualClock
from drivers.reading import LinkState, Reading, Status
from oxi_assist.cli import build_parser
from oxi_assist.commands.monitor import choose_again
from oxi_assist.device_choice import CONFIG_DIR_ENV, Chosen, DeviceChoice
from oxi_assist.ui.app import OxiApp
from oxi_assist.ui.device_picker import DevicePicker, candidate_line, ordered, signal, with_address
from oxi_assist.ui.event_log import EventLog
from oxi_assist.ui.launch import LiveOptions, build_app
from oxi_assist.ui.link_status import StatusBar
from oxi_assist.ui.live_screen import MainScreen
from simulators.ble.bleak_backend import VirtualAir
from simulators.ble.peripheral import VirtualPeripheral

#: (profile, address, name, rssi, SpO2 it sends): listed weakest first on purpose
DEVICES = [
    ("berrymed", "AA:00:00:00:33:33", "BerryMed", -82, 91),
    ("pc60f", "AA:00:00:00:11:11", "PC-60FW 1234", -66, 93),
    ("plx", "AA:00:00:00:22:22", "Oxi PLX", -48, 97),
]
BY_SPO2 = {spo2: (name, address) for _p, address, name, _r, spo2 in DEVICES}


def readings(spo2: int, n: int = 120) -> list[Reading]:
    return [Reading(t=float(i), spo2=spo2, pulse=70, pi=2.0, status=Status.BEAT)
            for i in range(n)]


class Air:
    def __init__(self, clock: VirtualClock, devices: list[tuple[str, str, str, int, int]]) -> None:
        self.clock = clock
        self.air = VirtualAir(clock)
        self.peripherals = [
            self.air.add(VirtualPeripheral(profile, readings(spo2), clock=clock, address=addr,
                                           name=name, rssi=rssi))
            for profile, addr, name, rssi, spo2 in devices]
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """The devices start sending (in the app's event loop)."""
        self.tasks = [asyncio.create_task(p.run()) for p in self.peripherals]

    def connections(self) -> dict[str, int]:
        return {p.name: p.connections for p in self.peripherals}


@pytest.fixture
def cfg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This machine's config folder, in a temporary place."""
    folder = tmp_path / "cfg"
    monkeypatch.setenv(CONFIG_DIR_ENV, str(folder))
    return folder


@pytest.fixture
def air(monkeypatch: pytest.MonkeyPatch, cfg: Path) -> Air:
    """Three oximeters in range; `open_ble` (as the URI opener finds it) uses their radio."""
    clock = VirtualClock()
    a = Air(clock, DEVICES)
    monkeypatch.setattr(ble_transport, "open_ble", functools.partial(
        ble_transport.open_ble, scanner_backend=a.air.scanner_backend(),
        client_backend=a.air.client_backend()))
    return a


def app_on(a: Air, uri: str = "ble:auto?scan=1") -> OxiApp:
    return build_app(uri, LiveOptions(record=False), clock=a.clock, debrief_on_end=False,
                     redraw_hz=0.5, tick_every=0.5)


async def settle(app: OxiApp, a: Air, pilot: Pilot, seconds: float) -> None:
    await a.clock.run_for(seconds)
    await pilot.pause()
    app.redraw()
    await pilot.pause()


def status_line(app: OxiApp) -> str:
    main = next(s for s in app.screen_stack if isinstance(s, MainScreen))
    return str(main.query_one(StatusBar).render())


async def test_pick_second_connects_to_it_and_remembers(air: Air, cfg: Path) -> None:
    app = app_on(air)
    async with app.run_test(size=(80, 24)) as pilot:
        air.start()
        await settle(app, air, pilot, 2)
        picker = app.screen
        assert isinstance(picker, DevicePicker)
        assert [c.name for c in picker.candidates] == ["Oxi PLX", "PC-60FW 1234", "BerryMed"]
        assert "3 oximeters in range" in app.session.link_reason
        assert air.connections() == {"BerryMed": 0, "PC-60FW 1234": 0, "Oxi PLX": 0}

        await pilot.press("2")
        await settle(app, air, pilot, 6)
        assert isinstance(app.screen, MainScreen)
        assert app.session.link is LinkState.CONNECTED
        assert app.session.device == "PC-60FW 1234 (11:11)"
        assert "PC-60FW 1234 (11:11)" in status_line(app)
        assert air.connections() == {"BerryMed": 0, "PC-60FW 1234": 1, "Oxi PLX": 0}
        assert app.session.readings >= 3
        assert app.session.vitals is not None and app.session.vitals.spo2 == 93
        assert app.source.chosen.address == "AA:00:00:00:11:11"
    assert DeviceChoice(cfg).get() == Chosen("AA:00:00:00:11:11", "PC-60FW 1234")
    assert (cfg / "ble-device.json").is_file()

    # next time on this machine: the remembered oximeter, without asking
    again = app_on(air)
    async with again.run_test(size=(80, 24)) as pilot:
        await settle(again, air, pilot, 4)
        assert isinstance(again.screen, MainScreen)
        assert again.session.link is LinkState.CONNECTED
        assert again.session.device == "PC-60FW 1234 (11:11)"
        assert air.connections() == {"BerryMed": 0, "PC-60FW 1234": 2, "Oxi PLX": 0}
        assert "PC-60FW 1234 (11:11)" in status_line(again)
        assert not any(isinstance(s, DevicePicker) for s in again.screen_stack)
    for t in air.tasks:
        t.cancel()


async def test_escape_goes_on_without_an_oximeter(air: Air, cfg: Path) -> None:
    app = app_on(air)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, air, pilot, 2)
        assert isinstance(app.screen, DevicePicker)
        await pilot.press("escape")
        await settle(app, air, pilot, 3)
        assert isinstance(app.screen, MainScreen)
        assert app.session.link is LinkState.CLOSED
        assert "no oximeter chosen" in app.session.link_reason
        assert air.connections() == {"BerryMed": 0, "PC-60FW 1234": 0, "Oxi PLX": 0}
        assert app.session.running and app.session.guide_state is not None  # guidance goes on
        assert "no oximeter" in status_line(app) and "LINK LOST" not in status_line(app)
        assert app.model is not None and app.model.alarm is None  # a decision, not a fault
        await settle(app, air, pilot, 60)
        assert app.model.alarm is None and app.bells == 0
    assert DeviceChoice(cfg).get() is None


async def test_responder_keys_work_over_the_picker(air: Air) -> None:
    app = app_on(air)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, air, pilot, 2)
        assert isinstance(app.screen, DevicePicker)
        await pilot.press("9")  # three devices: 9 is "911 called", not a device
        await pilot.press("n")
        await air.clock.run_for(1)
        drawn = app.stats.redraws
        app.poll()  # the timer's redraw: the live screen under the picker stays current
        await pilot.pause()
        assert app.stats.redraws == drawn + 1
        assert isinstance(app.screen, DevicePicker)
        assert app.session.guide_state.called_911
        assert app.session.doses == 1
        main = next(s for s in app.screen_stack if isinstance(s, MainScreen))
        # the live log under the picker is current: its newest line is drawn (the guide's new
        # step is in the log before it); the dose itself is in the session's log
        newest = list(app.session.log)[-1].text
        assert " ".join(newest.split()[:4]) in " ".join(str(main.query_one(EventLog).render())
                                                      .split())
        assert any("Evaluate and support" in ln.text for ln in app.session.log)
        assert any("aloxone" in ln.text for ln in app.session.log)
        await pilot.press("4")  # no fourth device: nothing happens
        await pilot.pause()
        assert isinstance(app.screen, DevicePicker)
        await pilot.press("1")
        await settle(app, air, pilot, 3)
        assert app.session.device == "Oxi PLX (22:22)"


async def test_one_oximeter_in_range_connects_without_asking(
        monkeypatch: pytest.MonkeyPatch, cfg: Path) -> None:
    a = Air(VirtualClock(), DEVICES[1:2])
    monkeypatch.setattr(ble_transport, "open_ble", functools.partial(
        ble_transport.open_ble, scanner_backend=a.air.scanner_backend(),
        client_backend=a.air.client_backend()))
    app = app_on(a)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, a, pilot, 3)
        assert isinstance(app.screen, MainScreen)
        assert app.session.device == "PC-60FW 1234 (11:11)"
    assert DeviceChoice(cfg).get() is None  # nothing was chosen, nothing remembered


def test_rows_strongest_first_with_bars_for_the_signal() -> None:
    clock = VirtualClock()
    a = Air(clock, DEVICES)
    cands = [type("C", (), {"name": p.name, "rssi": p.rssi, "short": p.address[-5:],
                            "profile": p.profile, "address": p.address})()
             for p in a.peripherals]
    assert [c.rssi for c in ordered(cands)] == [-48, -66, -82]
    line = candidate_line(1, ordered(cands)[0]).plain
    assert line.startswith(" 1  Oxi PLX") and "22:22  ▮▮▮▮  -48 dBm" in line
    assert line.endswith("Bluetooth SIG Pulse Oximeter") and len(line) <= 74
    assert signal(-66) == ("▮▮▮▯", "good") and signal(-95)[1] == "very weak"
    assert len(ordered(cands * 4)) == 9  # one number key per device


def test_address_replaces_any_earlier_one_and_keeps_options() -> None:
    assert with_address("ble:auto", "AA:BB") == "ble:auto?address=AA:BB"
    assert with_address("ble:auto?scan=1&address=X", "AA:BB") == "ble:auto?scan=1&address=AA:BB"


async def test_choose_device_asks_again_despite_a_remembered_one(air: Air, cfg: Path) -> None:
    DeviceChoice().remember("AA:00:00:00:22:22", "Oxi PLX")  # via OXI_ASSIST_CONFIG_DIR
    args = build_parser().parse_args(["monitor", "ble:auto?scan=1", "--choose-device"])
    assert args.choose_device
    app = app_on(air, choose_again(args.uri))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, air, pilot, 2)
        assert isinstance(app.screen, DevicePicker)
        await pilot.press("3")
        await settle(app, air, pilot, 3)
        assert app.session.device == "BerryMed (33:33)"
        assert air.connections() == {"BerryMed": 1, "PC-60FW 1234": 0, "Oxi PLX": 0}
    assert DeviceChoice(cfg).get() == Chosen("AA:00:00:00:33:33", "BerryMed")


def test_choose_again_touches_only_ble_auto() -> None:
    assert choose_again("ble:auto") == "ble:auto?prefer="
    assert choose_again("ble:auto?scan=2") == "ble:auto?scan=2&prefer="
    for uri in ("ble:AA:00:00:00:11:11", "ble:auto?address=AA:00:00:00:11:11",
                "ble:auto?prefer=AA:00:00:00:11:11", "sim:opioid-overdose", "serial:auto"):
        assert choose_again(uri) == uri


def test_snapshot_device_picker(snap_compare, air: Air) -> None:  # type: ignore[no-untyped-def]
    app = app_on(air)

    async def run_before(pilot: Pilot) -> None:
        await air.clock.run_for(2)
        await pilot.pause()
        app.redraw()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)


def test_the_remembered_choice_is_private(tmp_path: Path) -> None:
    import os
    import stat

    from oxi_assist.device_choice import DeviceChoice

    old = os.umask(0o022)
    try:
        DeviceChoice(tmp_path).remember("AA:BB:CC:DD:EE:FF", "PC-60F")
        DeviceChoice(tmp_path).remember("11:22:33:44:55:66", "O2Ring")
    finally:
        os.umask(old)
    p = tmp_path / "ble-device.json"
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert DeviceChoice(tmp_path).get().address == "11:22:33:44:55:66"  # type: ignore[union-attr]
    assert sorted(x.name for x in tmp_path.iterdir()) == ["ble-device.json"]
