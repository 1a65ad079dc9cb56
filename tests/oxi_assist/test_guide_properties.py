"""Safety invariants of the guide over random sequences of actions, vitals and time steps.

- calling 911, giving breaths and giving naloxone are offered in every state until the end;
- a poor, missing or stale signal never yields a reassuring prompt and always a warning;
- more naloxone is never suggested once breathing is marked normal with SpO2 ≥ 90 on a good
  signal (the prolonged-sedation branch);
- timers never go negative; time in the guide never runs backwards;
- any action in any state is accepted without an exception.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oxi_assist import guidance_schema
from oxi_assist.actions import Action
from oxi_assist.guide import Guide, GuideState
from oxi_assist.vitals import Band, Quality, VitalsState

settings.register_profile("guide", max_examples=80, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])

GUIDANCE = sorted(p.stem for p in guidance_schema.GUIDANCE_DIR.glob("*.toml"))
PROTOCOLS = {name: guidance_schema.load(name) for name in GUIDANCE}

actions = st.one_of(
    st.sampled_from(list(Action)).map(lambda a: ("action", a, {})),
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
)
ticks = st.tuples(st.just("tick"), st.floats(min_value=-30, max_value=400))
events = st.lists(st.one_of(actions, actions, vitals, ticks), min_size=1, max_size=40)


def make_vitals(t: float, spo2: float | None, q: Quality, stale: bool) -> VitalsState:
    band = Band.UNKNOWN if spo2 is None else (Band.NORMAL if spo2 >= 95 else Band.LOW)
    return VitalsState(t, spo2, 80.0, 1.0, band, q, None, stale=stale)


def good_signal(v: VitalsState | None) -> bool:
    return (v is not None and v.spo2 is not None and v.quality is Quality.GOOD
            and not v.stale)


def check(s: GuideState, v: VitalsState | None, last_t: float) -> None:
    assert s.t >= last_t
    acts = {o.action for o in s.offered}
    if not s.ended:
        assert Action.CALLED_911 in acts
        assert Action.NALOXONE in acts
        assert (Action.BREATHS_STOP in acts) if s.breaths_on else (Action.BREATHS_START in acts)
    prompts = (*s.warnings, *s.suggestions)
    if not good_signal(v):
        assert not any(p.reassuring for p in prompts)
        if not s.ended:
            assert s.warnings, "a poor or missing signal must warn"
    if (s.breathing_answer == "normal" and good_signal(v) and v is not None
            and v.spo2 is not None and v.spo2 >= 90):
        assert not any(p.suggests == "naloxone" for p in s.suggestions)
        assert not any("another dose" in p.text.lower() for p in s.suggestions)
        assert not any(t.due and "another dose" in t.message.lower() for t in s.timers)
    for t in s.timers:
        assert t.elapsed >= 0
        assert t.remaining is None or t.remaining >= 0
        assert t.phase is None or 0.0 <= t.phase <= 1.0
    for e in s.log:
        assert e.t >= 0


@pytest.mark.parametrize("name", GUIDANCE)
@settings(settings.get_profile("guide"))
@given(seq=events)
def test_invariants_hold_for_any_sequence(name: str, seq: list[tuple[Any, ...]]) -> None:
    g = Guide(PROTOCOLS[name])
    t = 0.0
    v: VitalsState | None = None
    last_t = 0.0
    for ev in seq:
        if ev[0] == "action":
            t += 1.0
            s = g.on_action(ev[1], t=t, **ev[2])
        elif ev[0] == "vitals":
            t += 1.0
            v = make_vitals(t, ev[1], ev[2], ev[3])
            s = g.on_vitals(v)
        else:
            t = max(0.0, t + ev[1])
            s = g.tick(t)
        check(s, v, last_t)
        last_t = s.t


@settings(settings.get_profile("guide"))
@given(seq=events)
def test_safety_actions_reachable_in_one_action(seq: list[tuple[Any, ...]]) -> None:
    """From any state before the end, each safety action is accepted and takes effect."""
    proto = PROTOCOLS["bc-save-me"]
    g = Guide(proto)
    t = 0.0
    for ev in seq:
        t += 1.0
        if ev[0] == "action":
            g.on_action(ev[1], t=t, **ev[2])
        elif ev[0] == "vitals":
            g.on_vitals(make_vitals(t, ev[1], ev[2], ev[3]))
        if g.state.ended:
            return
    before = g.state
    after = Guide.__new__(Guide)
    after.__dict__ = {k: _copy(v) for k, v in g.__dict__.items()}
    s = after.on_action(Action.NALOXONE, t=t + 1)
    assert s.doses == before.doses + 1
    s = g.on_action(Action.BREATHS_START, t=t + 1)
    assert s.breaths_on
    s = g.on_action(Action.CALLED_911, t=t + 2)
    assert s.called_911


def _copy(v: Any) -> Any:
    import copy
    return copy.deepcopy(v)
