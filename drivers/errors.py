"""Errors that carry a one-line, user-facing message.

The CLI turns any `OxiError` into `oxi-assist: <message>` on stderr and exit code 2, so the
message must name the problem (and the file with line or byte offset where there is one)
without needing a traceback to be understood.
"""

from __future__ import annotations


class OxiError(Exception):
    """Bad input from the outside world: a file, bytes, a URI, a config or guidance file."""


class FormatError(OxiError):
    """A recorded file that cannot be read; names the file and the line or byte offset."""

    def __init__(self, path: object, message: str, *, line: int | None = None,
                 offset: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        self.offset = offset
        self.reason = message
        where = self.path
        if line is not None:
            where += f":{line}"
        elif offset is not None:
            where += f": byte {offset}"
        super().__init__(f"{where}: {message}")


class ProtocolError(OxiError):
    """An unknown protocol name or a device that does not speak what was asked of it."""


class SourceError(OxiError):
    """A source URI that names nothing usable, or a device that cannot be opened."""


class ConfigError(OxiError):
    """A configuration file (alarm limits, scenario, guidance) that does not validate."""
