"""The checker's safety analysis: exact over its abstraction, with honest witnesses."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from oxi_assist.guide.analysis import Item, Space, analyse
from oxi_assist.guide.conditions import (
    BREATH_COUNT,
    BREATHING,
    OXIMETER,
    QUANTITIES,
    Condition,
    Facts,
    band_of,
    cond,
)
from oxi_assist.guide.safety import REGIONS, breathing_ok

ALWAYS = Condition()


def item(text: str, when: Condition = ALWAYS, **kw: Any) -> Item:
    kw.setdefault("declared", frozenset(kw.pop("does", ())))
    return Item(("prompt", 0), "prompt 'p'", text, "prompt", when=when, **kw)


def messages(*items: Item, kit: tuple[int, ...] = ()) -> list[str]:
    return [f.message for f in analyse(list(items), kit=kit)]


def test_an_unsafe_item_is_refused_with_a_witness() -> None:
    got = messages(item("You can stop breaths now.", does={"stop_breaths"}))
    assert got == ["prompt 'p' can show while breathing is not normal, and it says "
                   "'stop breaths' (stop rescue breaths) — e.g. breathing_ok=false, "
                   "breathing=unknown, breath_rate=none"]


def test_a_safe_condition_passes() -> None:
    assert messages(item("You can stop breaths now.", cond(breathing_ok=True),
                         does={"stop_breaths"})) == []
    # the answer "normal" alone is not enough: a slow count can contradict it
    assert messages(item("You can stop breaths now.", cond(breathing="normal"),
                         does={"stop_breaths"}))


def test_minutes_since_naloxone_is_missing_exactly_when_no_dose_was_given() -> None:
    text = "Give another dose."
    base = dict(breathing_ok=False, awake=False, withdrawal=False, out_of_naloxone=False)
    # at least 3 minutes since a dose: allowed (the 3-minute rule cannot be met)
    assert messages(item(text, cond(minutes_since_naloxone_at_least=3, **base),
                         does={"naloxone"})) == []
    # "at least 3 minutes without naloxone" holds with no dose at all, and after 3 minutes
    assert messages(item(text, cond(minutes_without_naloxone_at_least=3, **base),
                         does={"naloxone"})) == []
    got = messages(item(text, cond(doses_at_least=1, **base), does={"naloxone"}))
    assert len(got) == 1 and "under 3 min since a naloxone dose" in got[0]
    assert "minutes_since_naloxone=2" in got[0] and "doses=1" in got[0]


def test_awake_implies_responsive_in_witnesses() -> None:
    got = messages(item("You can leave them.", cond(awake=True, breathing_ok=True),
                        does={"leave"}))
    assert got == []  # awake means they respond: leaving is not refused here


def test_band_on_a_poor_signal_is_never_normal() -> None:
    # "band = normal" can only hold on a good signal, so this reassurance cannot show on a
    # poor one; it can still show while the person does not respond
    got = messages(item("Oxygen is in the normal range.", cond(band="normal"),
                        does={"reassure"}))
    assert len(got) == 1 and "the person does not respond" in got[0]
    assert band_of(97.0, "poor") == "unknown" and band_of(84.0, "poor") == "severe"
    assert band_of(92.0, "good") == "watch" and band_of(None, "good") == "unknown"


def test_timer_alerts_know_when_they_can_fire() -> None:
    text = "Give another dose."
    when = cond(breathing_ok=False, awake=False, withdrawal=False)
    early = Item(("timer", 0, "alert", 0), "timer 't' alert at 60 s", text, "alert",
                 declared=frozenset({"naloxone"}), when=when,
                 context=cond(doses_at_least=1, minutes_since_naloxone_at_least=1.0))
    late = replace(early, context=cond(doses_at_least=1, minutes_since_naloxone_at_least=3.0))
    assert any("under 3 min" in m for m in messages(early))
    assert messages(late) == []


def test_kit_awareness() -> None:
    text = "Give another dose."
    when = cond(breathing_ok=False, awake=False, withdrawal=False,
                minutes_without_naloxone_at_least=3)
    it = item(text, when, does={"naloxone"})
    assert messages(it) == []  # no kit declared: the kit is never used up
    got = messages(it, kit=(3, 2))
    assert len(got) == 1 and "every dose of the kit has been given" in got[0]
    assert messages(item(text, when & cond(out_of_naloxone=False), does={"naloxone"}),
                    kit=(3, 2)) == []


def test_declared_and_said_must_agree() -> None:
    got = messages(item("Keep watching.", does={"naloxone"}))
    assert got[0] == ("prompt 'p' declares does = \"naloxone\" but its text says nothing the "
                      "vocabulary reads as give naloxone / another dose")
    # a declared intent is held to the rules like a read one
    assert got[1].startswith("prompt 'p' can show while breathing is normal, and it says "
                             "does = \"naloxone\"")
    got = messages(item("You can stop breaths.", cond(breathing_ok=True)))
    assert got == ["prompt 'p' says 'stop breaths' (stop rescue breaths) but its `does` does "
                   "not list \"stop_breaths\""]


def test_naloxone_is_never_tied_to_the_number() -> None:
    got = messages(item("Give naloxone.", cond(spo2_below=85, breathing_ok=False, awake=False,
                                               withdrawal=False,
                                               minutes_without_naloxone_at_least=3),
                        does={"naloxone"}, labels=("app-defined",)))
    assert got == ["prompt 'p' ties naloxone to spo2_below: BC decides naloxone on breathing, "
                   "never on the oximeter's number"]


def test_actions_tied_to_a_number_must_be_labelled_ours() -> None:
    it = item("Keep giving breaths.", cond(spo2_below=90, breaths="on"),
              does={"keep_breaths"}, labels=("BC-derived", "BC-official"))
    got = messages(it)
    assert got == ["prompt 'p' ties 'keep giving breaths' to spo2_below: an action tied to an "
                   "oximeter number is not BC guidance, so it must cite an app-defined source"]
    assert messages(replace(it, labels=("BC-derived", "app-defined"))) == []


def test_titles_labels_and_notes_only_name_things() -> None:
    title = Item(("step", 0, "title"), "step 'x' title", "You can stop breaths", "title")
    assert messages(title) == ["step 'x' title says 'stop breaths' (stop rescue breaths): "
                               "a step title only names the step"]
    own = Item(("on", 0, "label"), "an [[on]] entry (naloxone)", "Gave another dose", "label",
               own=frozenset({"naloxone"}))
    assert messages(own) == []
    other = replace(own, text="No need to call 911")
    assert "a button only names its own action" in messages(other)[0]
    handout = Item(("note", 0), "note 'n' line 1", "95–100% is the normal range.", "handout")
    assert messages(handout) == []
    shown = replace(handout, role="note")
    assert "a note shown with a step is reference" in messages(shown)[0]


def test_a_reassurance_is_never_a_warning() -> None:
    it = item("They are fine.", cond(signal="good", responsive="yes", breathing_ok=True,
                                     oxygen=False), does={"reassure"}, kind="warning")
    assert messages(it) == ["prompt 'p' reassures, so it cannot be a warning"]


# ---------------------------------------------------------------- exactness, by sampling

_NUMBERS = [q for q, v in QUANTITIES.items() if v.kind in ("number", "count")]
_WORDS = [q for q, v in QUANTITIES.items() if v.kind in ("word", "bool")]


@st.composite
def conditions(draw: st.DrawFn) -> Condition:
    checks: list[tuple[str, Any]] = []
    for q in draw(st.lists(st.sampled_from([*_NUMBERS, *_WORDS]), max_size=4, unique=True)):
        quantity = QUANTITIES[q]
        if quantity.kind == "count":
            checks.append((q, draw(st.integers(0, 4))))
        elif quantity.kind == "number":
            checks.append((q, float(draw(st.sampled_from([1, 3, 5, 10, 12, 50, 85, 90, 95])))))
        elif quantity.kind == "bool":
            checks.append((q, draw(st.booleans())))
        else:
            words = draw(st.lists(st.sampled_from(quantity.words), min_size=1, max_size=2,
                                  unique=True))
            checks.append((q, words[0] if len(words) == 1 else tuple(words)))
    return Condition(tuple(checks))


@st.composite
def facts(draw: st.DrawFn) -> Facts:
    """Facts as the engine can produce them (the same links between facts)."""
    ox = draw(st.sampled_from(OXIMETER))
    signal = draw(st.sampled_from(("good", "poor", "none"))) if ox == "on" else "none"
    spo2 = None if signal == "none" else draw(st.floats(0, 100))
    pulse = None if signal == "none" else draw(st.one_of(st.none(), st.floats(0, 250)))
    answer = draw(st.sampled_from(BREATHING))
    count = draw(st.sampled_from(BREATH_COUNT))
    rate = draw(st.floats(0, 60)) if count == "ready" else None
    awake = draw(st.booleans())
    responsive = "yes" if awake else draw(st.sampled_from(("unknown", "yes", "no")))
    doses = draw(st.integers(0, 6))
    called = draw(st.booleans())
    return Facts(
        spo2=spo2, spo2_trusted=signal == "good", pulse=pulse, signal=signal,
        band=band_of(spo2, signal), oximeter=ox, breathing=answer, breath_rate=rate,
        breath_count=count, breathing_ok=breathing_ok(answer, rate),
        breaths_on=draw(st.booleans()), compressions_on=draw(st.booleans()),
        pulse_check=draw(st.sampled_from(("unknown", "felt", "none"))), called_911=called,
        responsive=responsive, awake=awake, oxygen=draw(st.booleans()),
        withdrawal=draw(st.booleans()), recovery=draw(st.booleans()), ems=draw(st.booleans()),
        doses=doses, out_of_naloxone=doses >= 2 and draw(st.booleans()),
        minutes_since_naloxone=draw(st.floats(0, 100)) if doses else None,
        dose_gap_minutes=draw(st.floats(0, 50)) if doses >= 2 else None,
        minutes_since_911=draw(st.floats(0, 100)) if called else None,
        minutes_in_step=draw(st.floats(0, 100)),
    )


REGION_CONDS = [r.when for rs in REGIONS.values() for r in rs]


@settings(max_examples=300, deadline=None)
@given(c=conditions(), region=st.sampled_from(REGION_CONDS), f=facts(),
       trusted=st.booleans())
def test_no_witness_means_no_situation(c: Condition, region: Condition, f: Facts,
                                       trusted: bool) -> None:
    """If the analysis finds no witness, no situation the engine can be in meets both; if it
    finds one, that witness really meets both."""
    space = Space([c, region, *REGION_CONDS], kit=(2,))
    w = space.witness(c, trusted, region)
    seen = f.trusted() if trusted else f
    if w is None:
        assert not (c.holds(seen) and region.holds(f))
    else:
        wf = replace(Facts(), **w)
        assert c.holds(wf.trusted() if trusted else wf) and region.holds(wf)
