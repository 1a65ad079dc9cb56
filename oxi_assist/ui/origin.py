"""Where a line of guidance comes from, in the short words the screen prints beside it.

A number or an instruction that is not BC guidance must say so on screen (DOMAIN.md §1 rule 4):
BC-official and BC-derived wording reads "BC", the program's own rules read "ours", and the
other labels keep their own words. This is the screen's one place for that mapping; the guide
will carry the same label on each prompt, and the screen will then read it from there.
"""

from __future__ import annotations

from collections.abc import Iterable

from oxi_assist.guide_state import SourceRef

ORIGIN_WORDS: dict[str, str] = {
    "BC-official": "BC",
    "BC-derived": "BC",
    "app-defined": "ours",
    "other-jurisdiction": "other jurisdiction",
    "research": "research",
    "clinical-ref": "clinical",
    "unverified": "unverified",
}


def origin_label(sources: Iterable[SourceRef]) -> str:
    """"BC", "ours", "BC + ours", … for a prompt's or a line's sources ("" for none)."""
    words = dict.fromkeys(ORIGIN_WORDS.get(s.label, s.label) for s in sources)
    return " + ".join(words)
