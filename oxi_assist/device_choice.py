"""The Bluetooth oximeter this machine used last, remembered in the user's config folder.

Where several oximeters are in range (a training room, a shared kit), `ble:auto` must not guess:
the responder picks one once, and from then on this machine connects to that one on its own.
The composition root passes the remembered address to `open_ble` as `params["prefer"]`; a
preference is only used when that device is actually in range, so a stale entry is harmless.

The folder is the user's config folder, or `OXI_ASSIST_CONFIG_DIR` when set (a kit that keeps its
settings beside the program, and tests that must not touch the real choice).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_config_dir

from drivers.errors import OxiError
from drivers.safe_files import write_output

FILE_NAME = "ble-device.json"
#: Overrides the config folder when set and not empty.
CONFIG_DIR_ENV = "OXI_ASSIST_CONFIG_DIR"


@dataclass(frozen=True)
class Chosen:
    address: str
    name: str = ""


class DeviceChoice:
    """Load / remember / forget the chosen device. A damaged file counts as no choice (and is
    replaced by the next `remember`): a preference must never stop a session from starting."""

    def __init__(self, folder: Path | str | None = None) -> None:
        folder = folder or os.environ.get(CONFIG_DIR_ENV) or \
            user_config_dir("oxi-assist", appauthor=False)
        self.path = Path(folder) / FILE_NAME

    def get(self) -> Chosen | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("address"), str):
            return None
        name = data.get("name")
        return Chosen(data["address"], name if isinstance(name, str) else "")

    def remember(self, address: str, name: str = "") -> None:
        """Writes the choice whole, private (0600: it names a person's device) and in one
        step. Raises OSError when it cannot be written."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            write_output(self.path, json.dumps({"address": address, "name": name}),
                         force=True)
        except OxiError as e:
            raise OSError(str(e)) from None

    def forget(self) -> None:
        self.path.unlink(missing_ok=True)

    def apply(self, params: dict[str, str]) -> dict[str, str]:
        """`params` for `open_ble` with the remembered device as `prefer` (unless the URI
        already names one)."""
        chosen = self.get()
        out = dict(params)
        if chosen is not None and "address" not in out:
            out.setdefault("prefer", chosen.address)
        return out
