"""The engine's safety rules as pure functions, each boundary pinned (guide/safety.py).

These are the run-time net under every guidance file, so every number and operator in them
has a test on each side of its boundary.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from oxi_assist.actions import Action as A
from oxi_assist.guide import safety as gs
from oxi_assist.guide.conditions import Facts

#: A person who does not respond and is not known to breathe normally, 911 not called.
DOWN = Facts(signal="good", spo2=88.0, spo2_trusted=True, pulse=70.0, band="low",
             responsive="no", breathing="unknown", breathing_ok=False)
#: A person who is awake, responds and breathes normally, 911 called, on a good reading.
WELL = Facts(signal="good", spo2=97.0, spo2_trusted=True, pulse=70.0, band="normal",
             responsive="yes", awake=True, breathing="normal", breathing_ok=True,
             called_911=True, minutes_since_911=10.0)


def forbidden(intent: str, facts: Facts) -> bool:
    return not gs.may_show(frozenset({intent}), facts)


@pytest.mark.parametrize("answer, rate, ok", [
    ("not_normal", None, False), ("not_normal", 20.0, False),
    ("normal", None, True), ("unknown", None, False),
    ("unknown", 12.0, True), ("unknown", 11.99, False),
    ("normal", 11.99, False), ("normal", 12.0, True), ("normal", 30.0, True),
    ("unknown", 0.0, False),
])
def test_breathing_ok_needs_evidence(answer: str, rate: float | None, ok: bool) -> None:
    assert gs.breathing_ok(answer, rate) is ok


def test_naloxone_push_forbidden_regions() -> None:
    due = replace(DOWN, doses=1, minutes_since_naloxone=3.0)
    assert not forbidden("naloxone", DOWN)  # never given, not breathing normally
    assert not forbidden("naloxone", due)
    assert forbidden("naloxone", replace(due, minutes_since_naloxone=2.99))
    assert forbidden("naloxone", replace(due, minutes_since_naloxone=0.0))
    assert forbidden("naloxone", replace(due, breathing_ok=True))
    assert forbidden("naloxone", replace(due, awake=True))
    assert forbidden("naloxone", replace(due, withdrawal=True))
    assert forbidden("naloxone", replace(due, out_of_naloxone=True))
    # the SpO2 number never makes a push allowed or forbidden
    assert not forbidden("naloxone", replace(due, spo2=99.0, band="normal"))
    assert forbidden("naloxone", replace(due, breathing_ok=True, spo2=70.0, band="severe"))


def test_holding_naloxone_back_is_forbidden_only_when_a_dose_is_due() -> None:
    assert forbidden("no_naloxone", DOWN)  # no dose yet, not breathing normally
    after = replace(DOWN, doses=1, minutes_since_naloxone=4.99)
    assert not forbidden("no_naloxone", after)  # waiting for the dose to work
    assert forbidden("no_naloxone", replace(after, minutes_since_naloxone=5.0))
    due = replace(after, minutes_since_naloxone=6.0)
    assert not forbidden("no_naloxone", replace(due, breathing_ok=True))
    assert not forbidden("no_naloxone", replace(due, awake=True))
    assert not forbidden("no_naloxone", replace(due, withdrawal=True))
    assert not forbidden("no_naloxone", replace(due, out_of_naloxone=True))


def test_stopping_breaths() -> None:
    assert forbidden("stop_breaths", DOWN)
    assert not forbidden("stop_breaths", replace(DOWN, breathing_ok=True))


def test_stopping_compressions() -> None:
    assert forbidden("stop_compressions", DOWN)
    assert forbidden("stop_compressions", replace(DOWN, pulse_check="none"))
    assert not forbidden("stop_compressions", replace(DOWN, pulse_check="felt"))
    assert not forbidden("stop_compressions", WELL)
    assert forbidden("stop_compressions", replace(WELL, breathing_ok=False))
    assert forbidden("stop_compressions", replace(WELL, responsive="unknown", awake=False))
    assert not forbidden("stop_compressions",
                         replace(WELL, breathing_ok=False, pulse_check="felt"))


def test_skipping_911() -> None:
    assert forbidden("skip_911", DOWN)
    assert not forbidden("skip_911", replace(DOWN, called_911=True))
    assert not forbidden("skip_911", replace(WELL, called_911=False))
    assert forbidden("skip_911", replace(WELL, called_911=False, responsive="unknown"))
    assert forbidden("skip_911", replace(WELL, called_911=False, breathing_ok=False))


def test_leaving() -> None:
    assert forbidden("leave", DOWN)
    assert not forbidden("leave", WELL)
    assert forbidden("leave", replace(WELL, responsive="unknown"))
    assert forbidden("leave", replace(WELL, responsive="no"))
    assert forbidden("leave", replace(WELL, breathing_ok=False))


def test_reassuring() -> None:
    assert not forbidden("reassure", WELL)
    assert forbidden("reassure", replace(WELL, signal="poor"))
    assert forbidden("reassure", replace(WELL, signal="none"))
    assert forbidden("reassure", replace(WELL, responsive="unknown"))
    assert forbidden("reassure", replace(WELL, responsive="no"))
    assert forbidden("reassure", replace(WELL, breathing_ok=False))
    assert forbidden("reassure", replace(WELL, oxygen=True))


def test_keep_giving_breaths_only_while_on() -> None:
    assert forbidden("keep_breaths", DOWN)
    assert not forbidden("keep_breaths", replace(DOWN, breaths_on=True))


def test_unprotected_intents_are_never_forbidden() -> None:
    for intent in ("911", "breaths", "compressions", "check", "recovery"):
        assert not forbidden(intent, DOWN) and not forbidden(intent, WELL)


def test_forbidding_names_the_first_intent_and_why() -> None:
    assert gs.forbidding(frozenset(), DOWN) is None
    hit = gs.forbidding(("check", "stop_breaths", "leave"), DOWN)
    assert hit is not None
    intent, region = hit
    assert intent == "stop_breaths" and region.why == "breathing is not normal"
    hit = gs.forbidding(("naloxone",), replace(DOWN, doses=1, minutes_since_naloxone=1.0))
    assert hit is not None and hit[1].why == "it is under 3 min since a naloxone dose"


def test_intents_read_the_text_and_add_the_declared() -> None:
    assert gs.intents("You can stop breaths now.") == frozenset({"stop_breaths"})
    assert gs.intents("Keep watching.", ("check",)) == frozenset({"check"})
    assert gs.intents("No need to call 911.", ("reassure",)) == frozenset({"skip_911",
                                                                         "reassure"})


def test_action_items_see_only_trusted_numbers() -> None:
    poor = replace(DOWN, signal="poor", spo2_trusted=False, spo2=82.0, pulse=40.0, band="low")
    seen = gs.facts_for(frozenset({"naloxone"}), poor)
    assert seen.spo2 is None and seen.pulse is None and seen.band == "unknown"
    for intent in ("breaths", "keep_breaths", "911", "compressions"):
        assert gs.facts_for(frozenset({intent}), poor).spo2 is None
    assert gs.facts_for(frozenset({"check"}), poor) is poor  # a low number leads to a check
    assert gs.facts_for(frozenset({"naloxone"}), DOWN) is DOWN  # a good signal counts


def test_check_warning_is_needed_without_a_good_reading() -> None:
    assert not gs.needs_check_warning(DOWN, [])
    for signal in ("poor", "none"):
        f = replace(DOWN, signal=signal)
        assert gs.needs_check_warning(f, [])
        assert gs.needs_check_warning(f, [frozenset({"911"})])
        assert not gs.needs_check_warning(f, [frozenset({"911"}), frozenset({"check"})])


def test_911_reminder() -> None:
    assert gs.needs_911_reminder(DOWN, [])
    assert gs.needs_911_reminder(DOWN, [frozenset({"check"})])
    assert not gs.needs_911_reminder(DOWN, [frozenset({"check"}), frozenset({"911"})])
    assert not gs.needs_911_reminder(replace(DOWN, called_911=True), [])
    assert not gs.needs_911_reminder(replace(DOWN, responsive="unknown"), [])
    assert not gs.needs_911_reminder(replace(DOWN, responsive="yes"), [])


@pytest.mark.parametrize("breaths, cpr, want", [
    (False, False, (A.CALLED_911, A.BREATHS_START, A.COMPRESSIONS_START, A.NALOXONE)),
    (True, False, (A.CALLED_911, A.BREATHS_STOP, A.COMPRESSIONS_START, A.NALOXONE)),
    (False, True, (A.CALLED_911, A.BREATHS_START, A.COMPRESSIONS_STOP, A.NALOXONE)),
    (True, True, (A.CALLED_911, A.BREATHS_STOP, A.COMPRESSIONS_STOP, A.NALOXONE)),
])
def test_core_offers(breaths: bool, cpr: bool, want: tuple[A, ...]) -> None:
    assert gs.core_offers(breaths, cpr) == want


@pytest.mark.parametrize("doses, kit, left", [
    ({"im": 0, "nasal": 0}, {"im": 3, "nasal": 2}, None),
    ({"im": 1}, {}, None),
    ({"im": 1}, {"im": 3, "nasal": 2}, 2),
    ({"im": 2}, {"im": 3}, 1),
    ({"im": 3}, {"im": 3}, 0),
    ({"im": 4}, {"im": 3}, 2),  # a fourth dose opened a second kit
    ({"im": 6}, {"im": 3}, 0),
    ({"nasal": 1}, {"im": 3, "nasal": 2}, 1),
    ({"nasal": 2}, {"im": 3, "nasal": 2}, 0),
    ({"im": 3, "nasal": 1}, {"im": 3, "nasal": 2}, 1),
    ({"im": 1, "nasal": 0}, {"im": 3, "nasal": 2}, 2),
    ({"nasal": 1}, {"im": 3}, None),  # a route of unknown kit size
    ({"im": 1, "nasal": 0}, {"im": 3}, 2),  # ...but one with no dose does not matter
    ({"im": 1, "nasal": 1}, {"im": 3, "nasal": 2}, 3),  # what is left in both kits
])
def test_kit_left(doses: dict[str, int], kit: dict[str, int], left: int | None) -> None:
    assert gs.kit_left(doses, kit) == left


def test_an_action_tied_to_a_number_is_ours() -> None:
    from oxi_assist.guide.conditions import cond

    assert gs.tied_to_a_number(frozenset({"keep_breaths"}), cond(spo2_below=90))
    assert gs.tied_to_a_number(frozenset({"compressions"}), cond(pulse_below=50))
    assert gs.tied_to_a_number(frozenset({"911"}), cond(band="low"))
    assert not gs.tied_to_a_number(frozenset({"check"}), cond(spo2_below=90))
    assert not gs.tied_to_a_number(frozenset({"keep_breaths"}), cond(breaths="on"))
    assert not gs.tied_to_a_number(frozenset(), cond(spo2_below=90))
