"""Property: whatever a trainer or responder does, and in whatever order, the simulated
oximeter never shows a missing value as a number (DOMAIN §1 rule 2)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drivers.reading import INVALIDATING, Status
from simulators.scenario import load_scenario
from simulators.simulator import Simulator

ACTIONS = ["finger_out", "finger_in", "motion", "motion_off", "low_perfusion",
           "low_perfusion_off", "dropout", "naloxone", "breaths_on", "breaths_off", "oxygen",
           "recovery"]
SCENARIOS = ["opioid-overdose", "xylazine", "artifacts"]

events = st.lists(st.tuples(st.integers(0, 400), st.sampled_from(ACTIONS),
                            st.one_of(st.none(), st.integers(1, 60))), max_size=12)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=st.sampled_from(SCENARIOS), seed=st.integers(0, 2**32 - 1), evs=events,
       rate=st.sampled_from([0, 25]))
def test_no_reading_is_never_a_number(scenario: str, seed: int, evs, rate: int) -> None:
    sim = Simulator(load_scenario(scenario), seed=seed, pleth_rate=rate)
    for t, action, secs in evs:
        params = {"seconds": secs} if secs and action in ("finger_out", "motion",
                                                          "low_perfusion", "dropout") else {}
        sim.schedule(t, action, **params)
    last_t = 0.0
    for r in sim.run(420):
        assert r.t > last_t
        last_t = r.t
        invalid = bool(r.status & INVALIDATING)
        assert (r.spo2 is None) == invalid and (r.pulse is None) == invalid
        if not invalid:
            assert r.spo2 == int(r.spo2) and 0 <= r.spo2 <= 100
            assert r.pulse == int(r.pulse) and 25 <= r.pulse <= 240
            assert r.pi is not None and r.pi > 0
        if rate:
            assert len(r.pleth) == rate and all(0 <= v <= 100 for v in r.pleth)
            if r.status & Status.FINGER_OUT:
                assert not any(r.pleth)
        else:
            assert r.pleth == ()
