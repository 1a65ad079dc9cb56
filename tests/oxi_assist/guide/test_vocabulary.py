"""The closed vocabulary: what a guidance text tells the responder to do."""

from __future__ import annotations

import pytest

from oxi_assist.guide import schema as guidance_schema
from oxi_assist.guide.vocabulary import (
    INTENTS,
    MEANING,
    PATTERNS,
    PROTECTED,
    intents_of,
    read_text,
)

FOUND = [
    ("Give naloxone again now.", "naloxone"),
    ("Still not breathing normally? Give another dose.", "naloxone"),
    ("Inject 1 mL of naloxone into a big muscle.", "naloxone"),
    ("Nasal kit? Spray one dose into a nostril.", "naloxone"),
    ("Re-dose if needed.", "naloxone"),
    ("More naloxone now.", "naloxone"),
    ("Give more only if under 10 breaths a minute.", "naloxone"),
    ("Give breaths and naloxone.", "naloxone"),
    ("No more naloxone.", "no_naloxone"),
    ("Do not give naloxone for withdrawal.", "no_naloxone"),
    ("Don't give another dose.", "no_naloxone"),
    ("Naloxone is not needed.", "no_naloxone"),
    ("You can stop breaths now.", "stop_breaths"),
    ("Stop giving breaths.", "stop_breaths"),
    ("No more rescue breaths.", "stop_breaths"),
    ("Breaths are no longer needed.", "stop_breaths"),
    ("Stop compressions.", "stop_compressions"),
    ("Stop CPR now.", "stop_compressions"),
    ("No need to call 911.", "skip_911"),
    ("Don't call 911.", "skip_911"),
    ("Wait before calling 911.", "skip_911"),
    ("Call 911 later.", "skip_911"),
    ("Hang up.", "skip_911"),
    ("You can leave now.", "leave"),
    ("Leave them here.", "leave"),
    ("Walk away.", "leave"),
    ("Have to step away? Put them on their side.", "leave"),
    ("No need to stay.", "leave"),
    ("Oxygen 95–100% is the normal range.", "reassure"),
    ("They are fine.", "reassure"),
    ("Everything is OK.", "reassure"),
    ("No need to worry.", "reassure"),
    ("Good sign.", "reassure"),
    ("Through clothes is OK.", "reassure"),
    ("Keep giving breaths.", "keep_breaths"),
    ("Keep breaths going until EMS arrives.", "keep_breaths"),
    ("Continue rescue breaths.", "keep_breaths"),
    ("Call 911 now.", "911"),
    ("Give breaths: 1 every 5 seconds.", "breaths"),
    ("Start chest compressions and breaths.", "compressions"),
    ("Check their breathing.", "check"),
    ("Roll them onto their side.", "recovery"),
]

NOT_FOUND = [
    ("Don't stop breaths.", "stop_breaths"),
    ("Never stop compressions before help comes.", "stop_compressions"),
    ("Never leave them alone.", "leave"),
    ("Do not walk away.", "leave"),
    ("More naloxone won't wake them.", "naloxone"),
    ("No more naloxone.", "naloxone"),
    ("Get the naloxone ready.", "naloxone"),
    ("Their breathing: 8 a minute — not normal breathing.", "reassure"),
    ("Normal breathing is about 1 breath every 5 seconds.", "reassure"),
    ("It is not normal.", "reassure"),
    ("Called 911.", "911"),
    ("No good reading.", "reassure"),
    ("Not a good reading: check the person.", "reassure"),
    ("Stopped breaths.", "stop_breaths"),
    ("Don't call 911.", "911"),
]


@pytest.mark.parametrize("text, intent", FOUND)
def test_phrases_are_read(text: str, intent: str) -> None:
    assert intent in intents_of(text), (text, read_text(text))


@pytest.mark.parametrize("text, intent", NOT_FOUND)
def test_negations_and_statements_are_not_instructions(text: str, intent: str) -> None:
    assert intent not in intents_of(text), (text, read_text(text))


def test_a_question_or_if_clause_is_no_guard() -> None:
    """Text carries no conditions of its own: the item's `when` decides when it shows."""
    for text in ("Breathing normally? You can stop breaths.",
                 "If they breathe normally, stop breaths.",
                 "Only if they respond: leave them."):
        assert intents_of(text) & {"stop_breaths", "leave"}


def test_claims_carry_the_phrase() -> None:
    claims = read_text("Pulse felt: stop compressions and keep giving breaths.")
    assert {(c.intent, c.phrase) for c in claims} == {
        ("stop_compressions", "stop compressions"), ("keep_breaths", "keep giving breaths")}


def test_every_intent_has_patterns_and_words() -> None:
    assert set(PATTERNS) == set(INTENTS) == set(MEANING)
    assert set(PROTECTED) < set(INTENTS)


def test_the_bc_file_reads_as_its_authors_declared() -> None:
    """Every protected instruction in the BC file is declared and can only show when it is
    allowed (the checker passes); and the file uses most of the protected vocabulary."""
    proto = guidance_schema.load("bc-save-me")
    said: set[str] = set()
    texts = [ln.text for s in proto.steps.values() for ln in s.lines]
    texts += [p.text for p in proto.prompts] + [p.text for s in proto.steps.values()
                                                 for p in s.prompts]
    texts += [a.text for t in proto.timers for a in t.alerts]
    for t in texts:
        said |= intents_of(t)
    assert {"naloxone", "no_naloxone", "stop_breaths", "stop_compressions", "reassure",
            "keep_breaths", "911", "breaths", "compressions", "check", "recovery"} <= said
