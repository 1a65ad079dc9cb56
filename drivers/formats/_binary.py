"""Reading a small binary recording whole, but only after its header looks right, so a huge
or foreign file is refused after a few kilobytes instead of being loaded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from drivers.errors import FormatError

HEAD = 65536
MAX_SIZE = 256 * 1024 * 1024  # a month of 1 Hz samples is a few MB


def read_checked(path: Path, check: Callable[[bytes], None], what: str) -> bytes:
    """The file's bytes. `check(head)` raises FormatError for a header that is not `what`."""
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD)
            if not head:
                raise FormatError(path, "empty file")
            check(head)
            size = path.stat().st_size
            if size > MAX_SIZE:
                raise FormatError(path, f"{size} bytes is far too large for {what}")
            return head + f.read()
    except IsADirectoryError:
        raise FormatError(path, "is a directory, not a recording") from None
    except OSError as e:
        raise FormatError(path, e.strerror or str(e)) from None
