"""The trainer's words for the simulated patient at each phase of an overdose and a CPR."""

from __future__ import annotations

import dataclasses

import pytest

from simulators.patient_status import patient_status
from simulators.physiology import PatientModel
from simulators.scenario import load_scenario
from simulators.simulator import Simulator


def _status_at(sim: Simulator, t: int) -> str:
    list(sim.run(t))
    return patient_status(sim.state())


def test_words_through_an_overdose_cpr_and_return_of_circulation() -> None:
    sim = Simulator(load_scenario("opioid-overdose"), seed=0)
    assert _status_at(sim, 20) == "breathing 14/min · awake"
    # breathing slows over a minute after the injection at 30 s
    slow = _status_at(sim, 50)
    assert slow.startswith("breathing ") and not slow.startswith("breathing 14/min")
    rate = int(slow.split()[1].split("/")[0])
    assert 1 <= rate < 10
    assert _status_at(sim, 180) == "NOT BREATHING · unresponsive"
    sim.inject("breaths")
    assert _status_at(sim, 182) == "NOT BREATHING · unresponsive · rescue breaths on"
    sim.inject("breaths_stop")
    assert _status_at(sim, 450) == "CARDIAC ARREST"
    sim.inject("cpr")
    assert _status_at(sim, 452) == "CARDIAC ARREST · CPR: compressions on"
    sim.inject("breaths")
    assert _status_at(sim, 454) == "CARDIAC ARREST · CPR: compressions on · rescue breaths on"
    sim.inject("naloxone")
    for t in range(455, 1200):
        list(sim.run(t))
        if not sim.state().arrested:
            break
    words = patient_status(sim.state())
    assert "CARDIAC ARREST" not in words and words.endswith(
        "· CPR: compressions on · rescue breaths on")
    sim.inject("compressions_stop")
    sim.inject("breaths_stop")
    later = _status_at(sim, int(sim.t) + 600)
    assert later.startswith("breathing ") and "CPR" not in later and "rescue" not in later


@pytest.mark.parametrize(("responsive", "word"), [(1.0, "awake"), (0.5, "drowsy"),
                                                  (0.2, "responds to pain only"),
                                                  (0.0, "unresponsive")])
def test_responsiveness_words(responsive: float, word: str) -> None:
    s = dataclasses.replace(PatientModel().state(), responsive=responsive)
    assert patient_status(s) == f"breathing 14/min · {word}"


def test_a_slow_breath_is_never_shown_as_zero() -> None:
    s = dataclasses.replace(PatientModel().state(), breathing_rate=0.3)
    assert patient_status(s).startswith("breathing 1/min")
