"""The class record: every station's events on one timeline, kept by the trainer.

One JSON-lines file per class in the user data folder (`classes/` beside `sessions/`; the same
`OXI_ASSIST_DATA_DIR` moves both), created 0600 in a 0700 folder and never over an existing
file; each line is flushed as it is written, so a crash loses nothing already received. Lines:

    {"k":"class", "v":1, "class_id", "scenario", "seed", "vary_seed", "start_wall", ...}
    {"k":"command", "rt", "seq", "channel", "station", "name", "value"}
    {"k":"event", "rt", "station", "name_shown", "seq", "t", "kind", "name", "text", "params"}
    {"k":"presence", "rt", "station", "state"}
    {"k":"end", "rt", "reason"}

`rt` is seconds since the class opened on the trainer's clock; an event's `t` is the station's
own session time (its patient's scenario seconds).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import IO, Any

from drivers.errors import ConfigError
from oxi_assist.recordings import data_dir

RECORD_VERSION = 1


def classes_dir(base: str | os.PathLike[str] | None = None) -> Path:
    d = Path(base) if base is not None else data_dir() / "classes"
    try:
        d.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(f"{d}: cannot create the class records folder "
                          f"({e.strerror or e})") from None
    with contextlib.suppress(OSError):
        os.chmod(d, 0o700)
    return d


class ClassRecord:
    """An open class record (see the module docstring)."""

    def __init__(self, path: Path, header: dict[str, Any]) -> None:
        self.path = path
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._f: IO[str] | None = os.fdopen(fd, "w", encoding="utf-8")
        self.error = ""
        self.write({"k": "class", "v": RECORD_VERSION, **header})

    @classmethod
    def create(cls, header: dict[str, Any], *, start_wall: float,
               base: str | os.PathLike[str] | None = None) -> ClassRecord:
        d = classes_dir(base)
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(start_wall))
        n = 1
        while True:
            p = d / (f"{stamp}-class.jsonl" if n == 1 else f"{stamp}-class-{n}.jsonl")
            try:
                return cls(p, header)
            except FileExistsError:
                n += 1
            except OSError as e:
                raise ConfigError(f"{p}: cannot write the class record "
                                  f"({e.strerror or e})") from None

    def write(self, obj: dict[str, Any]) -> None:
        """One line; a failing disk stops the record (said in `error`), never the class."""
        f = self._f
        if f is None:
            return
        try:
            f.write(json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n")
            f.flush()
        except OSError as e:
            self.error = f"class record stopped: {e}"
            self.close()

    def close(self) -> None:
        f, self._f = self._f, None
        if f is not None:
            with contextlib.suppress(OSError):
                f.close()

    @property
    def closed(self) -> bool:
        return self._f is None
