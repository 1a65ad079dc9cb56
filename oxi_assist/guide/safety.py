"""The safety rules the engine keeps whatever a guidance file says (DOMAIN.md §1).

Each protected intent of the vocabulary (oxi_assist/guide/vocabulary.py) has a forbidden
region: the situations in which text with that intent must never be shown. A region is a
disjunction of conditions written in the same condition language as the files, so
`guidance check` can decide whether an item's `when` can meet it (guide/analysis.py) and
the engine can test it on the live facts with the very same `Condition.holds`.

The functions below are small and pure on purpose: they are the whole run-time net, and the
tests (tests/oxi_assist/guide/test_safety.py) pin each boundary so that a changed number or
operator fails a test.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from oxi_assist.actions import Action
from oxi_assist.guide.conditions import (
    BREATHS_NORMAL_PER_MIN,
    QUANTITIES,
    VITAL_FACTS,
    Condition,
    Facts,
    cond,
)
from oxi_assist.guide.vocabulary import ACTION_INTENTS, intents_of

#: BC: naloxone takes 3–5 minutes to work (gov.bc.ca naloxone kit page, DOMAIN §3.2); nothing
#: pushes another dose within this many minutes of the last one.
NALOXONE_WAIT_MIN = 3.0
#: BC re-doses after about 5 minutes without normal breathing (DOMAIN §2.1): holding
#: naloxone back is never said once a dose is this many minutes due.
NALOXONE_DUE_MIN = 5.0


@dataclass(frozen=True)
class Region:
    """One situation in which an intent is forbidden, and how to say it in a message."""

    when: Condition
    why: str  # completes "can show while …"


_NOT_RESPONDING = ("unknown", "no")
_NO_PULSE_FELT = ("unknown", "none")

#: intent → the situations it must never show in.
REGIONS: dict[str, tuple[Region, ...]] = {
    "naloxone": (
        Region(cond(breathing_ok=True), "breathing is normal"),
        Region(cond(minutes_since_naloxone_below=NALOXONE_WAIT_MIN),
               f"it is under {NALOXONE_WAIT_MIN:g} min since a naloxone dose"),
        Region(cond(awake=True), "the person is awake"),
        Region(cond(withdrawal=True), "there are withdrawal signs"),
        Region(cond(out_of_naloxone=True), "every dose of the kit has been given"),
    ),
    "no_naloxone": (
        Region(cond(breathing_ok=False, awake=False, withdrawal=False, out_of_naloxone=False,
                    minutes_without_naloxone_at_least=NALOXONE_DUE_MIN),
               "breathing is not normal and a dose is due"),
    ),
    "stop_breaths": (Region(cond(breathing_ok=False), "breathing is not normal"),),
    "stop_compressions": (
        Region(cond(pulse_check=_NO_PULSE_FELT, responsive=_NOT_RESPONDING),
               "no pulse was felt and the person does not respond"),
        Region(cond(pulse_check=_NO_PULSE_FELT, breathing_ok=False),
               "no pulse was felt and breathing is not normal"),
    ),
    "skip_911": (
        Region(cond(called_911=False, responsive=_NOT_RESPONDING),
               "911 is not called and the person does not respond"),
        Region(cond(called_911=False, breathing_ok=False),
               "911 is not called and breathing is not normal"),
    ),
    "leave": (
        Region(cond(responsive=_NOT_RESPONDING), "the person does not respond"),
        Region(cond(breathing_ok=False), "breathing is not normal"),
    ),
    "reassure": (
        Region(cond(signal=("poor", "none")), "there is no good reading"),
        Region(cond(responsive=_NOT_RESPONDING), "the person does not respond"),
        Region(cond(breathing_ok=False), "breathing is not normal"),
        Region(cond(oxygen=True), "they are on oxygen"),
    ),
    "keep_breaths": (Region(cond(breaths="off"), "breaths are off"),),
}

#: The responder actions offered in every state until the response ends (rule 1): a
#: toggle offers the half that applies (breaths on when off, off when on).
CORE = (Action.CALLED_911, Action.BREATHS_START, Action.BREATHS_STOP,
        Action.COMPRESSIONS_START, Action.COMPRESSIONS_STOP, Action.NALOXONE)


def breathing_ok(answer: str, rate: float | None) -> bool:
    """Breathing counts as normal only on evidence: a counted rate of at least 12 a minute,
    or the answer "normal" with no count against it; an answer "not normal" always wins."""
    if answer == "not_normal":
        return False
    if rate is not None:
        return rate >= BREATHS_NORMAL_PER_MIN
    return answer == "normal"


def forbidding(does: Iterable[str], facts: Facts) -> tuple[str, Region] | None:
    """The first intent of `does` that is forbidden in these facts, with the reason."""
    for intent in does:
        for region in REGIONS.get(intent, ()):
            if region.when.holds(facts):
                return intent, region
    return None


def may_show(does: frozenset[str], facts: Facts) -> bool:
    """True when no intent of an item is forbidden now."""
    return forbidding(does, facts) is None


def intents(text: str, declared: Iterable[str] = ()) -> frozenset[str]:
    """What an item does: what its text says, plus what the file declares."""
    return intents_of(text) | frozenset(declared)


def facts_for(does: frozenset[str], facts: Facts) -> Facts:
    """An item that asks for an action on the person sees no number from a doubtful
    signal: a low reading on a poor signal leads to checking the person, never to naloxone."""
    return facts.trusted() if does & frozenset(ACTION_INTENTS) else facts


def tied_to_a_number(does: frozenset[str], when: Condition) -> bool:
    """An item that asks for an action on a condition over SpO2, pulse or band: not BC
    guidance, so it must show as ours (DOMAIN §6.1, §12)."""
    return bool(does & frozenset(ACTION_INTENTS)) and any(
        QUANTITIES[q].fact in VITAL_FACTS for q, _ in when.checks)


def needs_check_warning(facts: Facts, warnings: Iterable[frozenset[str]]) -> bool:
    """No good reading and no warning that says to check the person: the engine adds one."""
    return facts.signal != "good" and not any("check" in w for w in warnings)


def needs_911_reminder(facts: Facts, shown: Iterable[frozenset[str]]) -> bool:
    """911 not called for a person who does not respond, and nothing on screen says to call
    it: the engine adds a reminder."""
    return (not facts.called_911 and facts.responsive == "no"
            and not any("911" in d for d in shown))


def core_offers(breaths_on: bool, compressions_on: bool) -> tuple[Action, ...]:
    """The core actions to offer now: 911, naloxone, and each toggle's applicable half."""
    return tuple(a for a in CORE
                 if not (a is Action.BREATHS_START and breaths_on)
                 and not (a is Action.BREATHS_STOP and not breaths_on)
                 and not (a is Action.COMPRESSIONS_START and compressions_on)
                 and not (a is Action.COMPRESSIONS_STOP and not compressions_on))


def kit_left(doses_by_route: dict[str, int], kit: dict[str, int]) -> int | None:
    """Doses left in the kits opened so far (None before any dose, or with no kit sizes).

    A route's doses open ceil(doses / size) kits of that route; what is left is what those
    kits still hold. Recording one more dose than the kit held means another kit was opened:
    it is never refused."""
    if not kit or not any(doses_by_route.values()):
        return None
    left = 0
    for route, n in doses_by_route.items():
        if n <= 0:
            continue
        size = kit.get(route)
        if size is None:
            return None  # a route of unknown kit size: how much is left is not known
        opened = -(-n // size)
        left += opened * size - n
    return left
