"""Finding Bluetooth LE oximeters: a timed scan, matched against the catalogue.

`scan_ble()` is what `oxi-assist scan` prints and what a device picker shows: every advertising
device the catalogue recognises, strongest signal first, each with its name, a short address
(the last two octets, enough to tell two units apart on a screen) and its RSSI. Bluetooth that
is missing, off or forbidden becomes one `SourceError` line, never a traceback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bleak import BleakScanner
from bleak.backends.device import BLEDevice
from bleak.exc import (
    BleakBluetoothNotAvailableError,
    BleakBluetoothNotAvailableReason,
    BleakDBusError,
    BleakError,
)

from drivers.catalogue_ble import BleProfile, match
from drivers.clock import Clock, RealClock
from drivers.errors import SourceError


def short_address(address: str) -> str:
    """`AA:BB:CC:DD:EE:FF` → `EE:FF`; a macOS device UUID → its last 4 characters."""
    if ":" in address:
        return ":".join(address.upper().split(":")[-2:])
    return address[-4:].upper()


@dataclass(frozen=True)
class Candidate:
    """One oximeter in range, as a picker shows it."""

    name: str
    address: str
    rssi: int
    profile: BleProfile | None  # None: not a known oximeter (listed only on request)
    device: BLEDevice | None = field(default=None, compare=False, repr=False)
    service_uuids: tuple[str, ...] = ()

    @property
    def short(self) -> str:
        return short_address(self.address)

    @property
    def label(self) -> str:
        """What the screen shows in every link event: name and short address."""
        return f"{self.name} ({self.short})"

    def describe(self) -> str:
        kind = self.profile.label if self.profile else "not a known oximeter"
        return f"{self.name} ({self.short}, {self.rssi} dBm, {kind})"


_REASONS = {
    BleakBluetoothNotAvailableReason.NO_BLUETOOTH: "no Bluetooth adapter found",
    BleakBluetoothNotAvailableReason.NO_BLE_CENTRAL_ROLE:
        "the Bluetooth adapter cannot act as a BLE central",
    BleakBluetoothNotAvailableReason.POWERED_OFF: "Bluetooth is turned off",
    BleakBluetoothNotAvailableReason.DENIED_BY_USER:
        "no permission to use Bluetooth (allow it in the system settings)",
    BleakBluetoothNotAvailableReason.DENIED_BY_SYSTEM:
        "no permission to use Bluetooth (blocked by the system)",
    BleakBluetoothNotAvailableReason.DENIED_BY_UNKNOWN: "no permission to use Bluetooth",
}


def bluetooth_error(e: BaseException) -> SourceError:
    """Any error from the platform's Bluetooth stack → one line a person can act on."""
    if isinstance(e, SourceError):
        return e
    if isinstance(e, BleakBluetoothNotAvailableError):
        return SourceError(f"ble: {_REASONS.get(e.reason, 'Bluetooth is not available')}")
    if isinstance(e, PermissionError):
        return SourceError("ble: no permission to use Bluetooth")
    if isinstance(e, BleakDBusError):
        if "NotReady" in str(e.dbus_error) or "NotPowered" in str(e.dbus_error):
            return SourceError("ble: Bluetooth is turned off")
        if "AccessDenied" in str(e.dbus_error) or "NotPermitted" in str(e.dbus_error):
            return SourceError("ble: no permission to use Bluetooth")
        return SourceError(f"ble: Bluetooth error ({e.dbus_error})")
    if isinstance(e, (FileNotFoundError, ConnectionRefusedError)):
        # BlueZ is reached over the D-Bus system bus; no socket means no Bluetooth service
        return SourceError("ble: Bluetooth is not available (no BlueZ service on D-Bus)")
    if isinstance(e, BleakError):
        text = str(e.args[0]) if e.args else type(e).__name__
        return SourceError(f"ble: {text.splitlines()[0] if text else 'Bluetooth error'}")
    if isinstance(e, OSError):
        return SourceError(f"ble: Bluetooth is not available ({e.strerror or e})")
    return SourceError(f"ble: Bluetooth error ({type(e).__name__}: {e})")


async def scan_ble(timeout: float = 5.0, *, clock: Clock | None = None,
                   backend: type[Any] | None = None,
                   include_unknown: bool = False) -> list[Candidate]:
    """Scan for `timeout` seconds (on `clock`) and return the recognised oximeters, strongest
    first; `include_unknown` adds every other advertising device after them."""
    found = await scan_all(timeout, clock=clock, backend=backend)
    return found if include_unknown else [c for c in found if c.profile is not None]


async def scan_all(timeout: float = 5.0, *, clock: Clock | None = None,
                   backend: type[Any] | None = None) -> list[Candidate]:
    clock = clock or RealClock()
    seen: dict[str, Candidate] = {}

    def on_adv(device: BLEDevice, adv: Any) -> None:
        name = adv.local_name or device.name or ""
        prof = match(name, adv.service_uuids, device.address)
        prev = seen.get(device.address)
        if prof is None and prev is not None:
            prof = prev.profile
        seen[device.address] = Candidate(name or (prev.name if prev else "?"), device.address,
                                         adv.rssi, prof, device,
                                         tuple(adv.service_uuids))

    try:
        scanner = BleakScanner(on_adv, backend=backend)
        await scanner.start()
        try:
            await clock.sleep(timeout)
        finally:
            await scanner.stop()
    except Exception as e:  # the platform stack raises many kinds; all become one line
        raise bluetooth_error(e) from None
    return sorted(seen.values(), key=lambda c: (c.profile is None, -c.rssi))


#: The name a device picker uses.
candidates = scan_ble
