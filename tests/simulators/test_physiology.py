"""The patient model against the physiology it is meant to reproduce (DOMAIN §11)."""

from __future__ import annotations

import itertools

import pytest

from simulators.physiology import DRUGS, PatientModel, PatientParams, severinghaus


@pytest.mark.parametrize(("po2", "sat"), [(60, 0.906), (40, 0.75), (27, 0.50), (100, 0.975)])
def test_severinghaus_anchors(po2: float, sat: float) -> None:
    assert severinghaus(po2) == pytest.approx(sat, abs=0.01)


def test_severinghaus_is_monotonic_and_bounded() -> None:
    vals = [severinghaus(p) for p in range(0, 600, 5)]
    assert vals[0] == 0.0
    assert all(b > a for a, b in itertools.pairwise(vals))
    assert vals[-1] < 1.0


def _steps(m: PatientModel, seconds: int) -> None:
    for _ in range(seconds):
        m.step()


def test_resting_adult_is_steady_and_normal() -> None:
    m = PatientModel()
    _steps(m, 600)
    s = m.state()
    assert 96.0 <= s.sao2 <= 98.5
    assert 38 <= s.paco2 <= 44
    assert s.breathing_rate == pytest.approx(14, abs=0.5)
    assert s.hr == pytest.approx(76, abs=1)
    assert s.responsiveness == "alert" and s.breathing_normally


def test_room_air_apnea_desaturates_below_90_in_45_to_60_s() -> None:
    m = PatientModel()
    _steps(m, 60)
    m.forced_apnea = True
    sec = 0
    while m.sao2 >= 90.0 and sec < 300:
        m.step()
        sec += 1
    assert 40 <= sec <= 62, sec


def test_oxygen_slows_apnea_desaturation() -> None:
    times = []
    for oxygen in (False, True):
        m = PatientModel()
        m.oxygen_on = oxygen
        _steps(m, 300)
        m.forced_apnea = True
        sec = 0
        while m.sao2 >= 90.0 and sec < 1200:
            m.step()
            sec += 1
        times.append(sec)
    assert times[1] > 2 * times[0]


def test_prolonged_apnea_ends_in_bradycardia_then_arrest() -> None:
    m = PatientModel()
    m.forced_apnea = True
    hr_peak, arrest_at = 0.0, None
    for sec in range(900):
        m.step()
        hr_peak = max(hr_peak, m.hr)
        if m.arrested:
            arrest_at = sec
            break
    assert hr_peak > 90  # sympathetic rise first
    assert arrest_at is not None and 180 <= arrest_at <= 480  # DOMAIN §11.4: 3–8 min
    assert m.state().perfusion == 0.0 and m.state().hr == 0.0


def test_opioid_depresses_breathing_to_apnea_and_naloxone_reverses_it() -> None:
    m = PatientModel()
    m.give("fentanyl", 14, "injected")
    _steps(m, 120)
    assert m.state().breathing_rate == 0.0
    m.breaths_on = True
    m.give("naloxone", route="im")
    hr_before = m.hr
    _steps(m, 300)
    m.breaths_on = False
    _steps(m, 120)
    s = m.state()
    assert s.breathing_rate >= 10 and s.sao2 > 94
    assert s.hr > hr_before  # withdrawal / catecholamine rise after naloxone


def test_naloxone_onset_im_faster_than_nasal_but_nasal_dose_lasts() -> None:
    levels: dict[str, list[float]] = {}
    for route in ("im", "nasal"):
        m = PatientModel()
        m.give("naloxone", route=route)
        levels[route] = []
        for _ in range(60):
            _steps(m, 60)
            levels[route].append(m.conc["naloxone"])
    assert levels["im"][1] > 2 * levels["nasal"][1]  # at 2 min
    assert levels["nasal"][59] > levels["im"][59]  # at 60 min (4 mg vs 0.4 mg)
    im = levels["im"]
    assert im.index(max(im)) < 15 and im[59] < 0.5 * max(im)  # wears off within the hour


def test_naloxone_does_not_reverse_benzo_sedation() -> None:
    m = PatientModel()
    m.give("benzo", 5)
    _steps(m, 600)
    before = m.responsive
    m.give("naloxone", route="im")
    _steps(m, 600)
    assert before < 0.45 and m.responsive < 0.45
    assert m.state().breathing_rate >= 10  # benzo alone: sedated but breathing


def test_xylazine_slows_the_heart() -> None:
    m = PatientModel()
    m.give("xylazine", 8)
    _steps(m, 900)
    assert m.hr < 50


def test_rescue_breaths_oxygenate_an_apneic_person() -> None:
    m = PatientModel()
    m.forced_apnea = True
    _steps(m, 90)
    low = m.sao2
    m.breaths_on = True
    _steps(m, 90)
    assert low < 85 and m.sao2 > 94


def test_recovery_position_helps_the_airway_of_a_sedated_person() -> None:
    va = []
    for recovery in (False, True):
        m = PatientModel()
        m.give("benzo", 6)
        m.recovery_position = recovery
        _steps(m, 900)
        va.append(m.va)
    assert va[1] > va[0]


def test_unknown_drug_and_route_are_rejected() -> None:
    m = PatientModel()
    with pytest.raises(ValueError, match="unknown drug"):
        m.give("coffee", 1)
    with pytest.raises(ValueError, match="unknown route"):
        m.give("naloxone", route="oral")
    assert "naloxone" in DRUGS


def test_params_are_validated() -> None:
    with pytest.raises(ValueError):
        PatientModel(PatientParams(tidal_volume_l=0.1, dead_space_l=0.15))
