"""Hand-edited TOML files (guidance, alarm configs, scenarios): reading, positions, problems.

People write these files by hand, so every problem must point at its line. tomllib keeps no
positions and tomlkit does not offer them either, so `positions()` scans the text once for
table headers (`[a.b]`, `[[a.b]]`, the latest element of an array of tables as the parent),
`key =` lines (dotted keys too) and the items of a multi-line array, and maps each path of
the parsed document — e.g. ("step", 2, "next", 0, "goto") — to the first line that defines
it. A path that was not written (a missing key) falls back to its nearest written parent.

`Problems` collects what is wrong at those paths: a checker that reports every problem adds
them all, one that stops at the first raises `error()`; both give `FILE:LINE: message`.

Each kind of file is read with drivers/safe_files.py (a bounded regular file); decoding and
parsing it here raise `NotToml` with the line (when known) and tomllib's own words, and each
kind words that answer itself (its messages are part of its format).
This module lives in drivers/ because the simulators read scenarios with it and may import
nothing above drivers/.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from drivers.errors import ConfigError

#: A path in a parsed document: table and key names, and indices into arrays.
KeyPath = tuple[Any, ...]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\" ]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY = re.compile(r'^\s*([A-Za-z0-9_\-."]+)\s*=\s*(.*)$')
_AT_LINE = re.compile(r"\s*\(at line (?P<line>\d+), column \d+\)")


class NotToml(Exception):
    """Why a file's bytes are not a TOML document. `line` is where (None when tomllib gives
    no line), `reason` tomllib's words without their position, `detail` its whole message,
    `nesting` whether the parser gave up on nesting (it recurses)."""

    def __init__(self, line: int | None, reason: str, detail: str = "", *,
                 nesting: bool = False) -> None:
        super().__init__(detail or reason)
        self.line = line
        self.reason = reason
        self.detail = detail or reason
        self.nesting = nesting


def decode(data: bytes) -> str:
    """The UTF-8 text of a file; NotToml names the line of the first bad byte and the
    decoder's reason."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise NotToml(data[:e.start].count(b"\n") + 1, str(e.reason)) from None


def parse(text: str, *, max_depth: int | None = None) -> dict[str, Any]:
    """The parsed document. With `max_depth`, brackets nested deeper than that are refused
    (NotToml with `nesting` set and the line) before the recursive parser sees them."""
    if max_depth is not None:
        deep = deepest_line(text, max_depth)
        if deep is not None:
            raise NotToml(deep, f"nested deeper than {max_depth} levels", nesting=True)
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        msg = str(e)
        m = _AT_LINE.search(msg)
        line = int(m["line"]) if m else None
        raise NotToml(line, _AT_LINE.sub("", msg), msg) from None
    except RecursionError:
        raise NotToml(None, "nested too deeply", nesting=True) from None


def deepest_line(text: str, limit: int) -> int | None:
    """The line where brackets outside strings and comments first nest deeper than
    `limit`, or None. Linear in the text, so it can run before the (recursive) parser."""
    depth, line, i, n = 0, 1, 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\n":
            line += 1
        elif text.startswith('"""', i) or text.startswith("'''", i):
            end = text.find(text[i:i + 3], i + 3)
            if end < 0:
                return None  # the parser reports the unterminated string
            line += text.count("\n", i, end)
            i = end + 3
            continue
        elif ch in "\"'":
            j = i + 1
            while j < n and text[j] not in (ch, "\n"):
                j += 2 if (ch == '"' and text[j] == "\\") else 1
            i = j + 1 if j < n and text[j] == ch else j
            continue
        elif ch == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            continue
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return line
        elif ch in "]}":
            depth -= 1
        i += 1
    return None


# ---------------------------------------------------------------- positions

class Positions:
    """The first line of each path written in a TOML text (see the module docstring)."""

    def __init__(self, text: str) -> None:
        self.lines: dict[KeyPath, int] = {}
        self._arrays: dict[KeyPath, int] = {}  # array-of-tables path → elements so far
        self._current: KeyPath = ()
        self._array_key: KeyPath | None = None  # the multi-line array being read
        self._items = 0
        self._depth = 0
        for no, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            if line and not line.startswith("#"):
                self._scan(no, line)

    def _scan(self, no: int, line: str) -> None:
        if self._depth > 0 and self._array_key is not None:
            if line[0] in "{\"'" or line[0].isdigit():
                self.lines.setdefault((*self._array_key, self._items), no)
                self._items += 1
            self._depth += _bracket_delta(line)
            if self._depth <= 0:
                self._array_key, self._depth = None, 0
            return
        key = _KEY.match(line)
        head = None if key else _HEADER.match(line)
        if head:
            self._header(no, head.group(1) == "[[", _names(head.group(2)))
        elif key:
            self._key(no, (*self._current, *_names(key.group(1))), key.group(2).strip())

    def _header(self, no: int, array: bool, names: list[str]) -> None:
        parent = self._resolve(names[:-1])
        path = (*parent, names[-1])
        if array:
            self.lines.setdefault(path, no)
            idx = self._arrays.get(path, 0)
            self._arrays[path] = idx + 1
            path = (*path, idx)
        self._current = path
        self.lines.setdefault(path, no)

    def _resolve(self, names: list[str]) -> KeyPath:
        """A header's parent: the latest element of each array of tables it names."""
        out: KeyPath = ()
        for n in names:
            out = (*out, n)
            if out in self._arrays:
                out = (*out, self._arrays[out] - 1)
        return out

    def _key(self, no: int, path: KeyPath, rest: str) -> None:
        self.lines.setdefault(path, no)
        if rest.startswith("["):
            d = _bracket_delta(rest)
            if d > 0:  # a multi-line array: its items are found on the lines that follow
                self._array_key, self._items, self._depth = path, 0, d
                inner = rest[1:].strip()
                if inner and inner[0] in "{\"'":
                    self.lines.setdefault((*path, 0), no)
                    self._items = 1

    def line_of(self, path: Iterable[Any]) -> int:
        """The line of `path`, else of its nearest written parent, else 1."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return 1


def _names(dotted: str) -> list[str]:
    return [n.strip().strip('"') for n in dotted.split(".")]


def _bracket_delta(s: str) -> int:
    depth, q = 0, ""
    for ch in s:
        if q:
            if ch == q:
                q = ""
            continue
        if ch in "\"'":
            q = ch
        elif ch == "#":
            break
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
    return depth


# ---------------------------------------------------------------- problems

@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with a file, at a line."""

    line: int
    message: str


class Problems:
    """What is wrong with one file, each at the line of the path it concerns."""

    def __init__(self, positions: Positions, name: object) -> None:
        self.positions = positions
        self.name = str(name)
        self.found: list[Problem] = []

    def at(self, where: Iterable[Any], message: str) -> Problem:
        return Problem(self.positions.line_of(where), message)

    def add(self, where: Iterable[Any], message: str) -> None:
        """Notes a problem; the check goes on."""
        self.found.append(self.at(where, message))

    def error(self, where: Iterable[Any], message: str) -> ConfigError:
        """A problem that ends the check: `FILE:LINE: message`, to raise."""
        return ConfigError(self.text(self.at(where, message)))

    def text(self, problem: Problem) -> str:
        return f"{self.name}:{problem.line}: {problem.message}"

    def sorted(self) -> list[Problem]:
        """Every distinct problem, in line order."""
        return sorted(set(self.found))

    def __bool__(self) -> bool:
        return bool(self.found)
