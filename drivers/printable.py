"""Text from outside (a file name, a file's metadata, a device's name) made safe to print.

A name can hold any character. Printed raw, an escape sequence in it moves the cursor, recolours
or clears the terminal, a line feed splits one error line into two, and a bidirectional override
makes text read differently from what it is. `printable` writes every such character as a
visible escape (`\\x1b`, `\\n`, `\\u202e`) instead, so what is shown is what is there. Every
place that prints outside text goes through it.
"""

from __future__ import annotations

import unicodedata


def _escape(ch: str) -> str:
    code = ord(ch)
    if ch == "\n":
        return "\\n"
    if ch == "\r":
        return "\\r"
    if ch == "\t":
        return "\\t"
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _unsafe(ch: str) -> bool:
    cat = unicodedata.category(ch)
    # Cc: C0/C1 controls and DEL; Cf: format characters, among them the bidi overrides;
    # Zl/Zp: line and paragraph separators; Cs: lone surrogates from undecodable file names
    return cat in ("Cc", "Cf", "Zl", "Zp", "Cs")


def printable(text: object, *, keep: str = "") -> str:
    """`str(text)` with control and format characters escaped, except those in `keep` (e.g.
    `keep="\\n"` for multi-line output whose lines are ours)."""
    s = str(text)
    if s.isprintable():  # the common case: nothing to escape
        return s
    out = []
    for ch in s:
        if ch in keep or not _unsafe(ch) or ch == " ":
            out.append(ch)
        else:
            out.append(_escape(ch))
    return "".join(out)
