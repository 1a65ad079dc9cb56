"""Text files read a block of whole lines at a time: bounded memory, any line ends, UTF-8 or
UTF-16, and bad bytes named by line and offset. The text readers share it, so every one of
them refuses a binary or damaged file the same way.
"""

from __future__ import annotations

import codecs
from collections.abc import Callable, Iterator
from pathlib import Path

from drivers.errors import FormatError

CHUNK = 1 << 20
MAX_LINE = 1 << 16  # a "line" longer than this is not a CSV row

Progress = Callable[[int, int], None] | None


class Block:
    """Whole lines of a text file, as read: `data` the raw bytes (None when the file had to be
    decoded as a whole, UTF-16), `first` the number of its first line, `base` its byte offset.
    `lines()` decodes them (once), raising FormatError for bad bytes with line and offset."""

    __slots__ = ("_lines", "base", "data", "first", "source")

    def __init__(self, source: TextLines, first: int, data: bytes | None, base: int,
                 lines: list[str] | None = None) -> None:
        self.source, self.first, self.data, self.base = source, first, data, base
        self._lines = lines

    def lines(self) -> list[str]:
        if self._lines is None:
            assert self.data is not None
            self._lines = self.source._decode(self.data, self.first, self.base)
        return self._lines

    @property
    def count(self) -> int:
        """The number of lines, without decoding them."""
        if self._lines is not None:
            return len(self._lines)
        assert self.data is not None
        return self.data.count(b"\n") + (0 if self.data.endswith(b"\n") else 1)


class TextLines:
    """Iterates `(line_number, list_of_lines)` blocks of a text file, decoded and without line
    ends, reading 1 MB at a time (`blocks()` gives them undecoded, for readers that can use
    the bytes as they are). A UTF-8 BOM is dropped; UTF-16 (with a BOM) is decoded.
    Bad bytes raise FormatError naming the line and byte offset. `complete` says afterwards
    whether the file ended with a line end (False: the last line may be half-written)."""

    def __init__(self, path: Path, progress: Progress = None) -> None:
        self.path = path
        self.progress = progress
        self.complete = True
        try:
            self.size = path.stat().st_size
        except OSError as e:
            raise FormatError(path, e.strerror or str(e)) from None

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        for b in self.blocks():
            yield b.first, b.lines()

    def blocks(self) -> Iterator[Block]:
        try:
            f = open(self.path, "rb")  # noqa: SIM115
        except IsADirectoryError:
            raise FormatError(self.path, "is a directory, not a recording") from None
        except OSError as e:
            raise FormatError(self.path, e.strerror or str(e)) from None
        with f:
            head = f.read(4)
            f.seek(0)
            if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
                for first, lines in self._utf16(f):
                    yield Block(self, first, None, 0, lines)
                return
            yield from self._utf8(f)

    def _utf8(self, f: object) -> Iterator[Block]:
        lineno = 1
        done = 0
        rest = b""
        first = True
        cr_only = False
        while True:
            chunk = f.read(CHUNK)  # type: ignore[attr-defined]
            if first:
                if chunk.startswith(codecs.BOM_UTF8):
                    chunk = chunk[3:]
                    done += 3
                first = False
                cr_only = b"\r" in chunk and b"\n" not in chunk  # classic Mac line ends
            if cr_only:
                chunk = chunk.replace(b"\r", b"\n")
            if not chunk:
                break
            buf = rest + chunk
            cut = buf.rfind(b"\n")
            if cut < 0:
                if len(buf) > MAX_LINE:
                    raise FormatError(self.path, f"no line end within {MAX_LINE} bytes: "
                                                 "not a text table", line=lineno)
                rest = buf
                continue
            block, rest = buf[: cut + 1], buf[cut + 1:]
            b = Block(self, lineno, block, done)
            done += len(block)
            yield b
            lineno += b.count
            if self.progress is not None:
                self.progress(done, self.size)
        if rest:
            if len(rest) > MAX_LINE:
                raise FormatError(self.path, f"no line end within {MAX_LINE} bytes: "
                                             "not a text table", line=lineno)
            self.complete = False
            yield Block(self, lineno, rest, done)
        if self.progress is not None:
            self.progress(self.size, self.size)

    def _decode(self, block: bytes, lineno: int, base: int) -> list[str]:
        if b"\x00" in block:
            pos = block.index(b"\x00")
            raise FormatError(self.path, "binary data (NUL byte) in a text file",
                              line=lineno + block.count(b"\n", 0, pos), )
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError as e:
            line = lineno + block.count(b"\n", 0, e.start)
            raise FormatError(self.path, f"not UTF-8 text (byte 0x{block[e.start]:02x} at "
                                         f"offset {base + e.start})", line=line) from None
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]

    def _utf16(self, f: object) -> Iterator[tuple[int, list[str]]]:
        import io

        tw = io.TextIOWrapper(f, encoding="utf-16", newline=None)  # type: ignore[arg-type]
        lineno = 1
        rest = ""
        try:
            while True:
                chunk = tw.read(CHUNK // 2)
                if not chunk:
                    break
                buf = rest + chunk
                cut = buf.rfind("\n")
                if cut < 0:
                    rest = buf
                    continue
                lines = buf[:cut].split("\n")
                rest = buf[cut + 1:]
                yield lineno, lines
                lineno += len(lines)
        except UnicodeDecodeError as e:
            raise FormatError(self.path, f"not valid UTF-16 text ({e.reason})",
                              line=lineno) from None
        if rest:
            self.complete = False
            yield lineno, [rest]


def head_lines(head: bytes, n: int = 60) -> list[str]:
    """The first lines of a sniffed head, decoded leniently (for detection only)."""
    if head[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        text = head.decode("utf-16", errors="replace")
    else:
        if b"\x00" in head:
            return []
        text = head.removeprefix(codecs.BOM_UTF8).decode("utf-8", errors="replace")
    lines = text.splitlines()
    if len(lines) > 1 and not head.endswith((b"\n", b"\r")):
        lines.pop()  # cut off mid-line by the sniff window
    return lines[:n]
