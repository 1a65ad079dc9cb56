"""What a line of guidance text tells the responder to do: a closed, documented vocabulary.

The engine does not trust a guidance file's own word for what a prompt does. It reads the
text: each sentence is matched against the phrase patterns below and yields `Claim`s — an
intent ("give naloxone", "stop breaths", "skip 911", "leave", "reassure", …) with the phrase
that carries it. A file declares the intents of each item (`does = [...]`); the declaration
must agree with what the text says, and the union of both is what the checker analyses and
the engine enforces (docs/GUIDANCE.md, docs/SAFETY.md).

Text carries no conditions of its own: "Still not breathing normally? Give another dose."
is a naloxone instruction, and only the item's `when` table decides when it may show. Reading
"if …" or a question as a guard would let "Breathing normally? You can stop breaths." show
while the recorded answer is "not normal"; the checker refuses that instead.

Patterns err toward finding an intent: a false find costs a file author a rewording; a missed
one would let unsafe text through, which is why the engine also enforces the declared intents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: Intents whose text the engine holds to safety rules (guide.safety.REGIONS).
PROTECTED = ("naloxone", "no_naloxone", "stop_breaths", "stop_compressions", "skip_911",
             "leave", "reassure", "keep_breaths")
#: Intents that ask for an action on the person: numbers from a doubtful signal never count
#: toward them, and tying one to an SpO2 or pulse number needs our own (app-defined) source.
ACTION_INTENTS = ("naloxone", "breaths", "keep_breaths", "911", "compressions")
#: Every intent the vocabulary knows (the values `does` may list).
INTENTS = (*PROTECTED, "911", "breaths", "compressions", "check", "recovery")

#: What each intent means, for messages and the docs.
MEANING: dict[str, str] = {
    "naloxone": "give naloxone / another dose",
    "no_naloxone": "hold back naloxone",
    "stop_breaths": "stop rescue breaths",
    "stop_compressions": "stop chest compressions",
    "skip_911": "not call (or delay calling) 911",
    "leave": "leave the person",
    "reassure": "reassure (normal, fine, OK)",
    "keep_breaths": "keep giving breaths",
    "911": "call 911",
    "breaths": "give rescue breaths",
    "compressions": "start chest compressions",
    "check": "check the person",
    "recovery": "use the recovery position",
}

_NEG_WORDS = r"don't|do not|never|not|no need to|needn't|there's no need to|you don't need to"
_NEG = rf"(?:{_NEG_WORDS})"
_W = r"(?:\s+[\w'{}%.-]+)"  # one more word

#: intent → phrase patterns (lower-case text, apostrophes straightened). A match of a
#: "negatable" pattern right after a negation ("don't give naloxone") is not that intent;
#: the negated forms that matter have their own patterns (no_naloxone, skip_911).
PATTERNS: dict[str, tuple[str, ...]] = {
    "naloxone": (
        rf"\b(?:give|inject|spray|use|try){_W}{{0,4}}?\s+(?:naloxone|narcan|dose)\b",
        r"\b(?:another|second|2nd|third|3rd|next|one more|extra) dose\b",
        r"\bre-?dose\b",
        r"\bnaloxone (?:again|now)\b",
        r"(?<!no )\bmore naloxone\b(?! (?:won't|will not|doesn't|does not|is not|isn't|can't"
        r"|cannot))",
        r"\bgive (?:some |a little )?more\b(?! breaths)(?! rescue)",
    ),
    "no_naloxone": (
        r"\bno more naloxone\b",
        rf"\b{_NEG}{_W}{{0,2}}?\s+(?:give|use|inject|spray){_W}{{0,3}}?\s+"
        r"(?:naloxone|narcan|dose)\b",
        r"\b(?:stop|hold off on|skip|wait with|withhold) (?:giving )?naloxone\b",
        r"\bnaloxone (?:is )?(?:not|no longer) needed\b",
        r"\bno need for (?:more )?naloxone\b",
        r"\bnever more naloxone\b",
    ),
    "stop_breaths": (
        rf"\b(?:stop|pause|end|quit|hold off on|skip|cut){_W}{{0,3}}?\s+(?:rescue )?breaths\b",
        r"\bno more (?:rescue )?breaths\b",
        r"\bno need (?:for|to give) (?:more )?(?:rescue )?breaths\b",
        r"\bbreaths (?:are )?(?:no longer|not) needed\b",
        r"\bstop breathing for them\b",
    ),
    "stop_compressions": (
        rf"\b(?:stop|pause|end|quit|hold off on|skip){_W}{{0,3}}?\s+(?:chest )?"
        r"(?:compressions|cpr)\b",
        r"\bno more (?:chest )?(?:compressions|cpr)\b",
        r"\bno need for (?:chest )?(?:compressions|cpr)\b",
        r"\b(?:compressions|cpr) (?:are |is )?(?:no longer|not) needed\b",
    ),
    "skip_911": (
        rf"\b(?:{_NEG_WORDS}|wait (?:before|to)|hold off on|delay){_W}{{0,3}}?\s+"
        r"call(?:ing)?(?: for)? (?:911|an ambulance|paramedics|emergency)",
        r"\bno need (?:for|to call) 911\b",
        r"\b911 (?:is )?(?:not|no longer) needed\b",
        r"\b(?:cancel|skip|hang up)\b",
        r"\bwithout (?:calling )?911\b",
        r"\bcall 911 (?:later|afterwards|if it gets worse)\b",
    ),
    "leave": (
        r"\b(?:you can|you may|ok to|okay to|fine to|free to|safe to)\s+(?:leave|go|go home|"
        r"walk away|step away|head out)\b",
        r"\b(?:leave|walk away from|abandon)\s+(?:them|the person|him|her)\b",
        r"\bwalk away\b",
        r"\bstep away\b",
        r"\bno need to stay\b",
        rf"\b{_NEG}{_W}{{0,2}}?\s+stay\b",
    ),
    "reassure": (
        r"\bnormal range\b",
        r"\b(?:is|are|looks?|seems?|reads?|they're|they are|all|everything's|it's)\s+"
        r"(?:normal|fine|ok|okay|good|safe|alright|all right|well)\b",
        r"\b(?:all|everything) (?:is )?(?:fine|ok|okay|good|well)\b",
        r"\b(?:no need to|don't|nothing to) worry\b",
        r"(?<!no )(?<!not a )\b(?:good|great|safe|normal) "
        r"(?:sign|news|number|reading|level|oxygen|band)\b",
        r"\b(?:out of danger|in the clear|past the danger)\b",
    ),
    "keep_breaths": (
        r"\bkeep (?:on )?(?:giving |up the |going with )?(?:rescue )?breaths\b",
        r"\bkeep (?:the )?breaths going\b",
        r"\bkeep breathing for them\b",
        r"\bcontinue (?:giving |the )?(?:rescue )?breaths\b",
    ),
    "911": (r"\bcall 911\b",),
    "breaths": (
        rf"\b(?:give|start|begin){_W}{{0,3}}?\s+(?:rescue )?breaths\b",
        r"\bbreathe for them\b",
        r"\b1 breath every 5 seconds\b",
    ),
    "compressions": (
        rf"\b(?:start|begin|do|give){_W}{{0,2}}?\s+(?:chest )?(?:compressions|cpr)\b",
    ),
    "check": (r"\bcheck(?:ing)?\b", r"\blook, listen\b", r"\bcount (?:their )?breaths\b"),
    "recovery": (r"\brecovery position\b", r"\bonto their side\b"),
}

#: Patterns that do not count right after a negation ("don't stop breaths", "never leave
#: them alone", "do not give naloxone": the last is no_naloxone's own pattern).
NEGATABLE = ("naloxone", "stop_breaths", "stop_compressions", "leave", "911", "breaths",
             "compressions", "keep_breaths", "reassure")
_NEGATION_BEFORE = re.compile(rf"{_NEG}(?:\s+\w+)?\s*$")

_SENTENCE = re.compile(r"[^.?!;:]+[.?!;:]*")


@dataclass(frozen=True)
class Claim:
    """One thing a text tells the responder: the intent and the words that say it."""

    intent: str
    phrase: str


def normalise(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").replace("‘", "'").split())


def _find(sentence: str) -> list[Claim]:
    found: list[Claim] = []
    for intent, patterns in PATTERNS.items():
        for p in patterns:
            m = next((m for m in re.finditer(p, sentence)
                      if not (intent in NEGATABLE
                              and _NEGATION_BEFORE.search(sentence[:m.start()]))), None)
            if m is not None:
                found.append(Claim(intent, m.group(0)))
                break
    return found


def read_text(text: str) -> tuple[Claim, ...]:
    """Every intent the text carries, each with the first phrase that says it."""
    claims: dict[str, Claim] = {}
    for sentence in _SENTENCE.findall(normalise(text)):
        for c in _find(sentence):
            claims.setdefault(c.intent, c)
    return tuple(claims.values())


def intents_of(text: str) -> frozenset[str]:
    return frozenset(c.intent for c in read_text(text))
