"""Where a line of guidance comes from, in the short words the screen prints beside it.

A number or an instruction that is not BC guidance must say so on screen (DOMAIN.md §1 rule 4):
BC-official and BC-derived wording reads "BC", the program's own rules read "ours", and the
other labels keep their own words. This is the screen's one place for that mapping; the guide
will carry the same label on each prompt, and the screen will then read it from there.
"""

from __future__ import annotations

from collections.abc import Iterable

from oxi_assist.guide_state import SourceRef

#: How each source label reads, in the order origins are listed ("BC + ours").
ORIGIN_WORDS: tuple[tuple[str, str], ...] = (
    ("BC-official", "BC"),
    ("BC-derived", "BC"),
    ("app-defined", "ours"),
    ("other-jurisdiction", "other jurisdiction"),
    ("clinical-ref", "clinical"),
    ("research", "research"),
    ("unverified", "unverified"),
)


def origin_label(sources: Iterable[SourceRef]) -> str:
    """"BC", "ours", "BC + ours", … for a prompt's or a line's sources ("" for none); a label
    not in the list keeps its own words, last."""
    labels = list(dict.fromkeys(s.label for s in sources))
    words: list[str] = []
    for label, word in ORIGIN_WORDS:
        if label in labels and word not in words:
            words.append(word)
    known = {label for label, _ in ORIGIN_WORDS}
    words += [label for label in labels if label not in known]
    return " + ".join(words)
