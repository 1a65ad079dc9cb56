"""The engine's invariants over random sequences of actions, vitals and time, for the
built-in guidance and for every hostile file that loads (with the checker bypassed):

(a) 911, breaths on/off, compressions on/off and naloxone (injection and nasal) are offered in
    every state until the response ends, and each takes effect in one action;
(b) no reading, a poor, stale or lost signal never reassures, and always shows a warning to
    check the person;
(c) nothing on screen pushes naloxone while breathing is adequate, within 3 minutes of a
    dose, while awake or in withdrawal, or once the kit is used up;
(d) nothing on screen says to stop breaths while breathing is not normal, or to skip 911 or
    leave while the person does not respond or does not breathe normally;
and timers never go negative, time never runs backwards, nothing raises.

What is "on screen" is read back with the vocabulary from the words actually shown, so the
check does not rely on what a file declared.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oxi_assist.actions import Action
from oxi_assist.guide import schema as guidance_schema
from oxi_assist.guide.conditions import Facts
from oxi_assist.guide.engine import Guide, GuideState
from oxi_assist.guide.model import OWN_INTENTS
from oxi_assist.guide.vocabulary import intents_of
from oxi_assist.monitor.vitals import Band, Quality, VitalsState

settings.register_profile("guide", max_examples=40, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])

HOSTILE = Path(__file__).parent / "guidance_hostile"


def _protocols() -> dict[str, guidance_schema.Guidance]:
    out = {p.stem: guidance_schema.load(p.stem)
           for p in sorted(guidance_schema.GUIDANCE_DIR.glob("*.toml"))}
    for p in sorted(HOSTILE.glob("*.toml")):
        proto, _ = guidance_schema.validate_text(p.read_text(encoding="utf-8"), str(p),
                                                 safety=False)
        if proto is not None:
            out[f"hostile/{p.stem}"] = proto
    return out


PROTOCOLS = _protocols()

actions = st.one_of(
    st.sampled_from(list(Action)).map(lambda a: ("action", a, {})),
    st.sampled_from([Action.UNRESPONSIVE, Action.BREATHS_START, Action.NALOXONE,
                     Action.BREATHING_NORMAL, Action.BREATHING_NOT_NORMAL,
                     Action.BREATH_TAP, Action.AWAKE]).map(lambda a: ("action", a, {})),
    st.just(("action", Action.NALOXONE, {"route": "nasal"})),
    st.just(("action", Action.NALOXONE, {"route": "oral", "dose": "x"})),
    st.text(max_size=8).map(lambda s: ("action", s, {})),
    st.just(("action", 42, {})),
)
vitals = st.tuples(
    st.just("vitals"),
    st.one_of(st.none(), st.floats(min_value=40, max_value=100)),
    st.sampled_from(list(Quality)),
    st.booleans(),
    st.one_of(st.none(), st.floats(min_value=20, max_value=180)),
)
ticks = st.tuples(st.just("tick"), st.floats(min_value=-30, max_value=400))
waits = st.tuples(st.just("wait"), st.floats(min_value=1, max_value=20))
events = st.lists(st.one_of(actions, actions, vitals, ticks, waits), min_size=1, max_size=50)


def make_vitals(t: float, spo2: float | None, q: Quality, stale: bool,
                pulse: float | None) -> VitalsState:
    band = Band.UNKNOWN if spo2 is None else (Band.NORMAL if spo2 >= 95 else Band.LOW)
    return VitalsState(t, spo2, pulse, 1.0, band, q, None, stale=stale)


def on_screen(s: GuideState) -> frozenset[str]:
    """The intents of every text a responder can read now."""
    texts = [s.step.title, *s.step.lines, *(p.text for p in (*s.warnings, *s.suggestions)),
             *(t.message for t in s.timers if t.due), *(ln for n in s.notes for ln in n.lines)]
    out: set[str] = set()
    for t in texts:
        out |= intents_of(t)
    # a button may name its own action ("Stop breaths" is a choice, not an instruction);
    # anything else its label says counts as said
    for o in s.offered:
        out |= intents_of(o.label) - OWN_INTENTS.get(o.action, frozenset())
    for p in (*s.warnings, *s.suggestions):
        out |= p.does
    return frozenset(out)


def check(s: GuideState, f: Facts, last_t: float) -> None:
    assert s.t >= last_t
    acts = [o.action for o in s.offered]
    if not s.ended:  # (a)
        assert Action.CALLED_911 in acts
        routes = {o.params_dict.get("route") for o in s.offered if o.action is Action.NALOXONE}
        assert routes == {"im", "nasal"}
        assert (Action.BREATHS_STOP in acts) if s.breaths_on else (Action.BREATHS_START in acts)
        assert ((Action.COMPRESSIONS_STOP in acts) if s.compressions_on
                else (Action.COMPRESSIONS_START in acts))
    said = on_screen(s)
    if f.signal != "good":  # (b)
        assert "reassure" not in said
        if not s.ended:
            assert any("check" in p.does for p in s.warnings), "no reading must warn"
    wait = f.minutes_since_naloxone is not None and f.minutes_since_naloxone < 3
    if f.breathing_ok or wait or f.awake or f.withdrawal or f.out_of_naloxone:  # (c)
        assert "naloxone" not in said, (f, s.suggestions, s.step.lines)
    if not f.breathing_ok:  # (d)
        assert "stop_breaths" not in said
        assert "leave" not in said
    if f.responsive != "yes":
        assert "leave" not in said
        if not f.called_911:
            assert "skip_911" not in said
    if f.pulse_check != "felt" and (f.responsive != "yes" or not f.breathing_ok):
        assert "stop_compressions" not in said
    if not s.breaths_on:
        assert "keep_breaths" not in said
    for t in s.timers:
        assert t.elapsed >= 0
        assert t.remaining is None or t.remaining >= 0
        assert t.phase is None or 0.0 <= t.phase <= 1.0
    for e in s.log:
        assert e.t >= 0


def play(g: Guide, seq: list[tuple[Any, ...]]) -> None:
    t = 0.0
    last_t = 0.0
    for ev in seq:
        if ev[0] == "action":
            t += 1.0
            s = g.on_action(ev[1], t=t, **ev[2])
        elif ev[0] == "vitals":
            t += 1.0
            s = g.on_vitals(make_vitals(t, *ev[1:]))
        elif ev[0] == "wait":
            t += ev[1] * 10
            s = g.tick(t)
        else:
            t = max(0.0, t + ev[1])
            s = g.tick(t)
        check(s, g._facts_now or g._facts(), last_t)
        last_t = s.t


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
@settings(settings.get_profile("guide"))
@given(seq=events)
def test_invariants_hold_for_any_sequence(name: str, seq: list[tuple[Any, ...]]) -> None:
    play(Guide(PROTOCOLS[name]), seq)


@settings(settings.get_profile("guide"))
@given(seq=events)
def test_safety_actions_take_effect_in_one_action(seq: list[tuple[Any, ...]]) -> None:
    """From any state before the end, each core action is accepted and takes effect."""
    g = Guide(PROTOCOLS["bc-save-me"])
    t = 0.0
    for ev in seq:
        t += 1.0
        if ev[0] == "action":
            g.on_action(ev[1], t=t, **ev[2])
        elif ev[0] == "vitals":
            g.on_vitals(make_vitals(t, *ev[1:]))
        if g.state.ended:
            return
    before = g.state
    for route in ("im", "nasal"):
        other = copy.deepcopy(g)
        s = other.on_action(Action.NALOXONE, t=t + 1, route=route)
        assert s.doses == before.doses + 1
        assert dict(s.doses_by_route)[route] == dict(before.doses_by_route)[route] + 1
    other = copy.deepcopy(g)
    s = other.on_action(Action.COMPRESSIONS_STOP if before.compressions_on
                        else Action.COMPRESSIONS_START, t=t + 1)
    assert s.compressions_on is not before.compressions_on
    s = g.on_action(Action.BREATHS_START, t=t + 1)
    assert s.breaths_on
    s = g.on_action(Action.CALLED_911, t=t + 2)
    assert s.called_911
