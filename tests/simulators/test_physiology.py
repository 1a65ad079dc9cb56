"""The patient model against the physiology it is meant to reproduce (DOMAIN §11)."""

from __future__ import annotations

import itertools
import math

import pytest

from simulators.physiology import (
    DRUGS,
    PatientModel,
    PatientParams,
    severinghaus,
    severinghaus_inverse,
)


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


# --------------------------------------------------------------------------------------------
# Cardiac arrest and compressions (the training model in the module doc)


def test_severinghaus_inverse_is_exact() -> None:
    for po2 in (0.5, 5.0, 20.0, 27.0, 40.0, 60.0, 100.0, 400.0):
        assert severinghaus_inverse(severinghaus(po2)) == pytest.approx(po2, rel=1e-9)
    assert severinghaus_inverse(0.0) == 0.0


def _arrested(seconds_after: int = 0) -> PatientModel:
    """A person whose airway is blocked until the heart stops, then `seconds_after` more."""
    m = PatientModel()
    m.forced_apnea = True
    for _ in range(900):
        m.step()
        if m.arrested:
            break
    assert m.arrested
    _steps(m, seconds_after)
    return m


def test_untreated_arrest_stays_arrest() -> None:
    m = _arrested()
    m.forced_apnea = False
    sat = m.sao2
    for _ in range(30 * 60):
        m.step()
        assert m.arrested and m.hr == 0.0 and m.state().perfusion == 0.0
    assert m.sao2 == pytest.approx(sat)  # nothing circulates: nothing changes
    assert m.state().breathing_rate == 0.0 and m.state().responsiveness == "unresponsive"


def test_breaths_without_compressions_bring_no_oxygen_to_the_blood() -> None:
    m = _arrested(30)
    m.forced_apnea = False
    m.breaths_on = True
    sat = m.sao2
    _steps(m, 600)
    assert m.arrested and m.sao2 == pytest.approx(sat)


def test_compressions_with_breaths_raise_saturation_slowly_and_not_to_normal() -> None:
    m = _arrested(30)
    m.forced_apnea = False
    m.compressions_on = m.breaths_on = True
    p = m.p
    start = m.sao2
    seen = [start]
    for _ in range(330):  # before circulation can return
        m.step()
        seen.append(m.sao2)
        s = m.state()
        assert s.arrested and s.hr == 0.0
        assert s.perfusion == pytest.approx(p.perfusion * p.cpr_finger_perfusion)
        assert s.circulation == pytest.approx(p.cpr_output)
    assert all(b >= a for a, b in itertools.pairwise(seen))  # monotone
    # the documented time constant: circulation_s / cpr_output (200 s)
    tau = p.circulation_s / p.cpr_output
    expected = p.cpr_sao2_air - (p.cpr_sao2_air - start) * math.exp(-180 / tau)
    assert seen[180] == pytest.approx(expected, abs=0.5)
    assert 40 < seen[180] < 70  # slowly: about half way after three minutes
    assert max(seen) < p.cpr_sao2_air  # never to normal


def test_compressions_without_breaths_bring_little_oxygen() -> None:
    m = _arrested(30)
    m.forced_apnea = False
    m.compressions_on = True
    sat = m.sao2
    _steps(m, 15 * 60)
    assert m.arrested and m.sao2 <= sat  # no recovery, no return of circulation
    assert m.state().perfusion > 0.0  # but some flow while they last


def test_oxygen_with_breaths_raises_the_ceiling() -> None:
    sats = []
    for oxygen in (False, True):
        m = _arrested(30)
        m.forced_apnea = False
        m.compressions_on = m.breaths_on = True
        m.oxygen_on = oxygen
        _steps(m, 200)
        sats.append(m.sao2)
    assert sats[1] > sats[0]


def test_circulation_returns_after_the_saturation_is_held_and_a_pause_restarts_the_minute(
        ) -> None:
    def rosc_time(pause_at: int | None) -> int:
        m = _arrested(30)
        m.forced_apnea = False
        m.compressions_on = m.breaths_on = True
        for sec in range(1, 1200):
            if pause_at is not None:
                m.compressions_on = not (pause_at <= sec < pause_at + 10)
            m.step()
            if not m.arrested:
                return sec
        raise AssertionError("no return of circulation in 20 min of CPR")

    p = PatientParams()
    plain = rosc_time(None)
    # from ~8 % the saturation reaches 70 % after ~5.5 min, then must hold for a minute
    assert 5 * 60 <= plain <= 8 * 60
    # a pause in compressions during the held minute starts it again
    paused = rosc_time(plain - int(p.rosc_after_s / 2))
    assert paused >= plain + p.rosc_after_s / 2


def test_after_rosc_the_heart_restarts_slow_and_stops_again_without_breaths() -> None:
    m = PatientModel()
    m.give("fentanyl", 14, "injected")
    for _ in range(900):
        m.step()
        if m.arrested:
            break
    m.compressions_on = m.breaths_on = True
    for _ in range(900):
        m.step()
        if not m.arrested:
            break
    assert not m.arrested
    m.compressions_on = False
    _steps(m, 60)
    # half way down the hypoxic bradycardia: well below the resting 76 with breaths going on
    assert 30 < m.hr < 60 and m.state().perfusion > 0.3
    m.breaths_on = False  # the opioid still stops the breathing: nobody breathes for them
    sec = 0
    while not m.arrested and sec < 600:
        m.step()
        sec += 1
    # a heart that has just restarted stops again sooner than a fresh one (DOMAIN §11.4)
    assert m.arrested and sec < 240


def test_naloxone_in_arrest_moves_only_as_compressions_circulate_it() -> None:
    levels = []
    for compressions in (False, True):
        m = _arrested(10)
        m.compressions_on = compressions
        m.give("naloxone", route="iv")
        _steps(m, 60)
        levels.append(m.conc["naloxone"])
    ref = PatientModel()
    ref.give("naloxone", route="iv")
    _steps(ref, 60)
    assert levels[0] == 0.0  # no circulation: it stays where it was given
    assert 0.0 < levels[1] < ref.conc["naloxone"]
    # the same as 18 s (0.3 × 60 s) at a normal circulation
    ref18 = PatientModel()
    ref18.give("naloxone", route="iv")
    _steps(ref18, 18)
    assert levels[1] == pytest.approx(ref18.conc["naloxone"], rel=1e-6)
