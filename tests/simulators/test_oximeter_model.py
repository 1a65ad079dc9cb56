"""The oximeter on top of the patient: lag, averaging, quantisation, artefacts, pleth,
determinism (DOMAIN §1 rule 2, §7, §11.3)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from drivers.reading import INVALIDATING, Status
from simulators.oximeter_model import Oximeter, OximeterParams, PlethGenerator
from simulators.scenario import load_scenario
from simulators.simulator import Simulator


def quiet(**kw: float) -> Oximeter:
    p = OximeterParams(spo2_noise=0.0, pulse_noise=0.0, **kw)
    return Oximeter(p, np.random.default_rng(0), 97.0, 75.0)


def test_step_change_shows_after_the_probe_lag_and_averaging() -> None:
    ox = quiet(lag_s=15, averaging_s=8)
    shown = []
    for t in range(1, 61):
        sao2 = 97.0 if t <= 10 else 80.0
        spo2, *_ = ox.update(float(t), sao2, 75.0, 1.0)
        shown.append(spo2)
    # nothing moves for the lag after the change at 11 s
    assert all(v == 97.0 for v in shown[:25])
    first_move = next(i for i, v in enumerate(shown, 1) if v < 97.0)
    assert first_move == 11 + 15
    settled = next(i for i, v in enumerate(shown, 1) if v == 80.0)
    assert settled == first_move + 8 - 1
    assert all(isinstance(v, float) and v == int(v) for v in shown)  # whole numbers


def test_finger_out_then_searching_then_values() -> None:
    ox = quiet(searching_s=6)
    out = []
    for t in range(1, 60):
        if t == 10:
            ox.finger_out(float(t), 20)
        out.append(ox.update(float(t), 97.0, 75.0, 1.0))
    fo = out[9:29]  # t = 10 … 29
    assert all(o[0] is None and o[1] is None and o[2] is None and o[3] == Status.FINGER_OUT
               for o in fo)
    search = out[29:35]
    assert all(o[0] is None and o[3] == Status.SEARCHING for o in search)
    assert out[35][0] == 97.0 and out[35][3] == 0


def test_no_perfusion_gives_no_reading() -> None:
    ox = quiet()
    spo2, pulse, pi, st, amp = ox.update(1.0, 40.0, 0.0, 0.0)
    assert (spo2, pulse, pi, amp) == (None, None, None, 0.0)
    assert st & Status.SEARCHING and st & Status.LOW_PERFUSION


def test_motion_and_low_perfusion_are_flagged() -> None:
    ox = Oximeter(OximeterParams(), np.random.default_rng(3), 97.0, 75.0)
    ox.motion(0.0, 30)
    vals = [ox.update(float(t), 97.0, 75.0, 1.0) for t in range(1, 30)]
    assert all(v[3] & Status.MOTION and v[0] is not None for v in vals)
    assert np.std([v[0] for v in vals]) > 1.0  # motion makes the numbers jump
    ox.low_perfusion(30.0, 10)
    v = ox.update(31.0, 97.0, 75.0, 1.0)
    assert v[3] & Status.LOW_PERFUSION and v[2] is not None and v[2] < 0.5


def test_pleth_beats_at_the_pulse_rate_with_amplitude_from_perfusion() -> None:
    gen = PlethGenerator(100, np.random.default_rng(0), np.random.default_rng(1))
    secs = 60
    hr = np.full(secs, 72.0)
    wave, beats = gen.generate(hr, hr, np.full(secs, 14.0), np.full(secs, 0.6),
                               np.zeros(secs, bool), np.zeros(secs, bool))
    assert wave.shape == (6000,) and wave.min() >= 0 and wave.max() <= 100
    assert beats.sum() in (71, 72, 73)
    # dominant frequency of the wave is the pulse rate
    spec = np.abs(np.fft.rfft(wave - wave.mean()))
    f = np.fft.rfftfreq(len(wave), 1 / 100)[spec.argmax()]
    assert f == pytest.approx(1.2, abs=0.05)
    gen2 = PlethGenerator(100, np.random.default_rng(0), np.random.default_rng(1))
    weak, _ = gen2.generate(hr, hr, np.full(secs, 14.0), np.full(secs, 0.06),
                            np.zeros(secs, bool), np.zeros(secs, bool))
    assert np.ptp(weak) < 0.3 * np.ptp(wave)


def test_pleth_is_flat_while_finger_out() -> None:
    sc = load_scenario("artifacts")
    sim = Simulator(sc, seed=2, pleth_rate=100)
    rs = list(sim.run(200))
    fo = [r for r in rs if r.status & Status.FINGER_OUT]
    assert fo and all(r.pleth == (0.0,) * 100 for r in fo)
    ok = [r for r in rs if not r.status & INVALIDATING]
    assert all(len(r.pleth) == 100 and r.pleth_rate == 100 for r in ok)
    assert sum(1 for r in ok if r.status & Status.BEAT) > 0.8 * len(ok)


def _vitals(rs):
    return [(r.t, r.spo2, r.pulse, r.pi, int(r.status)) for r in rs if not r.wave_only]


def test_same_seed_same_readings_other_seed_differs() -> None:
    sc = load_scenario("opioid-overdose")

    def run(seed: int):
        sim = Simulator(sc, seed=seed, pleth_rate=50)
        sim.schedule(120, "naloxone")
        return list(sim.run(600))

    a, b, c = run(5), run(5), run(6)
    assert a == b
    assert _vitals(a) != _vitals(c)


def test_chunked_stream_matches_whole_seconds() -> None:
    sc = load_scenario("artifacts")
    whole = list(Simulator(sc, seed=4, pleth_rate=100).run(400))
    sim = Simulator(sc, seed=4, pleth_rate=100)
    chunked = list(itertools.chain.from_iterable(sim.step(1).readings(0.1)
                                                 for _ in range(400)))
    assert _vitals(whole) == _vitals(chunked)
    wave_only = [r for r in chunked if r.wave_only]
    assert wave_only and all(r.spo2 is None and len(r.pleth) == 10 for r in wave_only)
    w1 = np.concatenate([r.pleth for r in whole])
    w2 = np.concatenate([r.pleth for r in chunked if r.t <= whole[-1].t and r.t > 0])
    n = min(len(w1), len(w2))
    assert np.mean(np.abs(w1[:n] - w2[:n]) <= 1) > 0.999


def test_inject_vocabulary() -> None:
    sim = Simulator(load_scenario("baseline"), seed=0)
    for action in ("breaths", "breaths_stop", "breaths_on", "breaths_off", "oxygen",
                   "oxygen_off", "recovery", "finger_out", "finger_in", "low_perfusion"):
        sim.inject(action)
    sim.inject("motion", seconds=5)
    sim.inject("naloxone", route="nasal", dose="2")
    sim.inject("naloxone", route="IM")
    with pytest.raises(ValueError, match="unknown simulator action"):
        sim.inject("defibrillate")
    with pytest.raises(ValueError, match="unknown route"):
        sim.inject("naloxone", route="oral")
    with pytest.raises(ValueError, match="unknown parameter"):
        sim.inject("motion", minutes=3)
    with pytest.raises(ValueError, match="number"):
        sim.inject("motion", seconds="long")
    list(sim.run(5))
    assert [name for _, name, _ in sim.log][:2] == ["breaths_on", "breaths_off"]


def test_motion_without_seconds_lasts_until_motion_off() -> None:
    sim = Simulator(load_scenario("baseline"), seed=0)
    list(sim.run(30))
    sim.inject("motion")
    sim.inject("low_perfusion")
    during = list(sim.run(90))
    assert all(r.status & Status.MOTION and r.status & Status.LOW_PERFUSION
               for r in during[1:])
    sim.inject("motion_off")
    sim.inject("low_perfusion_off")
    after = list(sim.run(100))
    assert not any(r.status & (Status.MOTION | Status.LOW_PERFUSION) for r in after[1:])


# --------------------------------------------------------------------------------------------
# Very low values, arrest and compressions (module doc; DOMAIN §7, §10.5)


def test_very_low_values_are_shown_at_the_display_floor_never_as_absurd_numbers() -> None:
    ox = quiet()
    shown = [ox.update(float(t), 6.0, 60.0, 0.6)[0] for t in range(1, 200)]
    numbers = [v for v in shown[40:] if v is not None]
    assert numbers and all(v == OximeterParams().display_min == 35.0 for v in numbers)
    # a device whose display goes lower shows lower numbers, still never below its floor
    low = Oximeter(OximeterParams(spo2_noise=0.0, pulse_noise=0.0, display_min=0.0),
                   np.random.default_rng(0), 97.0, 75.0)
    lows = [low.update(float(t), 6.0, 60.0, 0.6)[0] for t in range(1, 200)]
    assert min(v for v in lows if v is not None) == 6.0


@pytest.mark.parametrize("bad", [-1.0, 80.0])
def test_display_floor_is_validated(bad: float) -> None:
    with pytest.raises(ValueError, match="display_min"):
        OximeterParams(display_min=bad).validate()


def test_below_70_percent_the_device_drops_out_more_as_the_value_falls() -> None:
    def missing(sao2: float) -> float:
        ox = Oximeter(OximeterParams(), np.random.default_rng(11), sao2, 90.0)
        out = [ox.update(float(t), sao2, 90.0, 0.8) for t in range(1, 3001)]
        assert all(o[3] & Status.SEARCHING for o in out if o[0] is None)
        return sum(o[0] is None for o in out) / len(out)

    normal, at_60, at_50, at_35 = missing(95.0), missing(60.0), missing(50.0), missing(35.0)
    assert normal == 0.0
    assert at_60 == pytest.approx(0.10, abs=0.03)  # (70 − 60) / 100
    assert at_50 == pytest.approx(0.20, abs=0.03)
    assert at_35 == pytest.approx(0.35, abs=0.03)


def test_error_grows_below_the_calibrated_range() -> None:
    def spread(sao2: float) -> float:
        ox = Oximeter(OximeterParams(), np.random.default_rng(5), sao2, 90.0)
        vals = [ox.update(float(t), sao2, 90.0, 1.0)[0] for t in range(1, 2001)]
        return float(np.std([v for v in vals[30:] if v is not None]))

    assert spread(55.0) > 3 * spread(96.0)


def test_arrest_gives_no_number_through_the_whole_simulator() -> None:
    sim = Simulator(load_scenario("opioid-overdose"), seed=3, record_states=True)
    states: list = []
    rs = [r for r in sim.run(900, states=states) if not r.wave_only]
    arrest = next(s.t for s in states if s.arrested)
    after = [r for r in rs if r.t >= arrest]
    assert len(after) > 400
    assert all(r.spo2 is None and r.pulse is None and r.pi is None
               and r.status & Status.SEARCHING and r.status & Status.LOW_PERFUSION
               for r in after)
    assert sim.events and sim.events[0].name == "cardiac_arrest" and sim.events[0].t == arrest


def test_compressions_in_arrest_give_no_reading_or_an_erratic_doubtful_one() -> None:
    sim = Simulator(load_scenario("opioid-overdose"), seed=4, record_states=True)
    list(sim.run(420))
    assert sim.patient.arrested
    sim.inject("compressions")
    sim.inject("breaths")
    states: list = []
    rs = [r for r in sim.run(720, states=states) if not r.wave_only]
    cpr = [r for r, s in zip(rs, states, strict=True) if s.arrested and r.t > 430]
    assert len(cpr) > 200
    numbers = [r for r in cpr if r.spo2 is not None]
    # every second shaken (motion) and weak (low perfusion); mostly no number
    assert all(r.status & Status.MOTION and r.status & Status.LOW_PERFUSION for r in cpr)
    assert 0.5 < 1 - len(numbers) / len(cpr) < 0.7  # it locks on 2 seconds in 5
    assert all(not r.valid or r.status & (Status.MOTION | Status.LOW_PERFUSION)
               for r in numbers)
    # the pulse it shows is the compressions, not the stopped heart
    assert 90 <= float(np.median([r.pulse for r in numbers])) <= 130
    assert all(s.hr == 0.0 for s in states if s.arrested)
    assert all(r.spo2 >= OximeterParams().display_min for r in numbers)


def test_display_floor_is_above_the_monitors_plausibility_floor() -> None:
    """A simulated number is never one the app throws away as implausible (which would show
    "signal poor" where the device showed a very low value)."""
    from oxi_assist.monitor.alarm_config import SPO2_PLAUSIBLE

    assert OximeterParams().display_min >= SPO2_PLAUSIBLE[0]
