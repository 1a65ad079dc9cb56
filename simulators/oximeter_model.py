"""The fingertip oximeter on top of the patient: what a real device would show.

A finger probe sees arterial blood 10–30 s after the lungs do (transport lag, DOMAIN §11.3);
the device then averages over its window (2–16 s, default 8 s, §10.3), adds its own error
(larger at low values and with motion, §7) and reports whole numbers once a second. It shows no
number at all when the finger is out, while it searches for a pulse after re-insertion, and when
there is no perfusion (cardiac arrest): a person in arrest gives no reading (§1 rule 2), only
the device's "searching" and "low perfusion" flags, as monitors show "Pulse Search" and dashes
(§10.5).

Very low values. Devices state their accuracy only from 70 % up (±2 % at 70–100 %, unspecified
below 70–80 %, §7): they are calibrated on people whose saturation was lowered to about 70 %,
so a lower figure is an extrapolation, and a person that low is vasoconstricted with a failing
pulse. What the simulated device does below 70 % (our choices, [app-defined]):

* more error: the spread of its error grows as the value falls, by (85 − value) / 15 times the
  normal spread from 85 % down and by another (70 − value) / 10 below 70 % (`LOW_RANGE_ERROR`):
  twice the normal at 70 %, 4.5 times at 55 %, so successive readings jump by several points;
* more dropouts: each second below 70 % it loses the pulse (no number, "searching") with a
  chance of (70 − value) / 100, at most 1 in 2, so about 1 second in 5 at 50 % and 1 in 3 at 35 %;
* a display floor: it never shows less than `display_min` = 35 %. A number such as 6 % is not a
  measurement any fingertip device is calibrated for; the true saturation (which the trainer
  can see) falls further, while the display stays at its floor or shows no number. The floor
  sits well above the app's plausibility floor (20 %, oxi_assist/monitor/alarm_config.py), so a
  simulated number is never discarded as implausible; a scenario can set another floor for a
  device whose display goes lower (some show 0–100 %, e.g. the Nonin 7500 manual,
  https://manualshive.com/ru/manual/nonin/7500fo/1700062?page=41).

Chest compressions (`compressions=True`) shake the hand: every second is flagged as motion,
with the motion error. In arrest the finger also gets only a weak flow pulsing at the
compression rate (low perfusion), and with a weak signal shaken like this the device loses the
pulse in most seconds (it locks on in 2 seconds out of 5, `CPR_LOCK`); when it does show
numbers they are erratic, flagged as doubtful (motion, low perfusion), and the "pulse" it shows
is the compression rate, not the heart. So in arrest with compressions the finger shows no
reading or a poor-signal, erratic one — never a trustworthy number — which is why the reading
must never be used to judge CPR (§7: arrest gives no finger perfusion).

The pleth waveform is generated per block with numpy: beats at the pulse rate with a dicrotic
shape, amplitude from perfusion, a small respiratory baseline swing, and noise.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, fields

import numpy as np

from drivers.reading import Status

_FINGER_OUT = int(Status.FINGER_OUT)
_SEARCHING = int(Status.SEARCHING)
_LOW_PERF = int(Status.LOW_PERFUSION)
_MOTION = int(Status.MOTION)
_BEAT = int(Status.BEAT)

#: Below this the device's accuracy is not stated (DOMAIN §7); the simulated device then loses
#: the pulse more often. [app-defined] figures, see the module doc.
LOW_RANGE = 70.0
LOW_RANGE_ERROR = 0.1  # extra error spread (× the normal) per point below LOW_RANGE
DROP_PER_POINT = 0.01  # chance of no number in a second, per point below LOW_RANGE
DROP_MAX = 0.5
#: With compressions, the chance that the device shows numbers in a given second.
CPR_LOCK = 0.4
_SQRT2 = math.sqrt(2.0)


@dataclass
class OximeterParams:
    """The device ([oximeter] table of a scenario)."""

    lag_s: float = 15.0  # finger-probe transport lag
    averaging_s: float = 8.0  # device averaging window (2–16 s)
    pulse_averaging_s: float = 4.0
    spo2_noise: float = 0.6  # SD of the SpO2 error, % (correlated over seconds)
    pulse_noise: float = 1.0  # SD of the pulse error, bpm
    pi: float = 3.0  # perfusion index at normal perfusion, %
    searching_s: float = 6.0  # no values after the finger goes back in
    spo2_bias: float = 0.0  # > 0 reads high (darker skin, carbon monoxide: DOMAIN §7)
    low_perfusion_factor: float = 0.1  # perfusion multiplier during a low-perfusion event
    display_min: float = 35.0  # the lowest SpO2 the display shows, % [app-defined]

    @classmethod
    def field_types(cls) -> dict[str, type]:
        return {f.name: float for f in fields(cls)}

    def validate(self) -> None:
        if not 0.0 <= self.lag_s <= 120.0:
            raise ValueError("lag_s must be within 0–120 s")
        if not 1.0 <= self.averaging_s <= 30.0:
            raise ValueError("averaging_s must be within 1–30 s")
        if self.pi <= 0.0:
            raise ValueError("pi must be positive")
        if not 0.0 <= self.display_min <= 70.0:
            raise ValueError("display_min must be within 0–70 %")


class Oximeter:
    """The 1 Hz vitals path. `update()` is called once per simulated second."""

    def __init__(self, params: OximeterParams, rng: np.random.Generator, sao2: float,
                 hr: float) -> None:
        params.validate()
        self.p = params
        self.rng = rng
        lag = round(params.lag_s)
        self._hist: deque[float] = deque([sao2] * (lag + 1), maxlen=lag + 1)
        self._avg_n = max(1, round(params.averaging_s))
        self._avg: deque[float] = deque([sao2] * self._avg_n, maxlen=self._avg_n)
        self._avg_sum = sao2 * self._avg_n
        self._pulse = hr
        self._fp = 1.0 - math.exp(-1.0 / max(0.5, params.pulse_averaging_s))
        self._err = 0.0
        self._z = np.empty(0)
        self._zi = 0
        # artefact windows: [start, end) in seconds; end may be inf
        self.finger_out_until = -1.0
        self.finger_out_since = math.inf
        self.search_until = -1.0
        self.motion_until = -1.0
        self.lowperf_until = -1.0
        self.dropout_until = -1.0
        self._had_pulse = True
        self.last_status = 0

    # -- artefacts (called by the simulator's inject) -------------------------------------

    def finger_out(self, t: float, seconds: float | None) -> None:
        self.finger_out_since = t
        self.finger_out_until = math.inf if seconds is None else t + seconds

    def finger_in(self, t: float) -> None:
        if self.finger_out_until > t:
            self.finger_out_until = t

    def motion(self, t: float, seconds: float) -> None:
        self.motion_until = max(self.motion_until, t + seconds)

    def low_perfusion(self, t: float, seconds: float) -> None:
        self.lowperf_until = max(self.lowperf_until, t + seconds)

    def dropout(self, t: float, seconds: float) -> None:
        self.dropout_until = max(self.dropout_until, t + seconds)

    # -- the update ------------------------------------------------------------------------

    def _normal(self) -> float:
        if self._zi >= len(self._z):
            self._z = self.rng.standard_normal(512)
            self._zi = 0
        z = self._z[self._zi]
        self._zi += 1
        return float(z)

    def _uniform(self) -> float:
        """A uniform draw from the same normal stream (one generator keeps a run
        deterministic for its seed however the draws interleave)."""
        return 0.5 * (1.0 + math.erf(self._normal() / _SQRT2))

    def _restart(self, value: float) -> None:
        """A fresh acquisition: the averaging window starts over from the current value."""
        self._avg.clear()
        self._avg.append(value)
        self._avg_sum = value

    def update(self, t: float, sao2: float, hr: float, perfusion: float,
               compressions: bool = False
               ) -> tuple[float | None, float | None, float | None, int, float]:
        """One second: (spo2, pulse, pi, status, pleth amplitude 0–1) for the reading at `t`.
        `hr` is the pulsing the finger sees (in arrest with compressions, their rate);
        `compressions` says chest compressions are shaking the person this second."""
        p = self.p
        hist = self._hist
        hist.append(sao2)
        delayed = hist[0]
        status = 0
        if t < self.finger_out_until:
            # finger out: nothing measured; when it returns the device searches first
            if self.finger_out_until != math.inf:
                self.search_until = self.finger_out_until + p.searching_s
            self.last_status = _FINGER_OUT
            return None, None, None, _FINGER_OUT, 0.0
        if self.finger_out_since <= t:
            # the finger has just gone back in
            self.finger_out_since = math.inf
            self.search_until = max(self.search_until, t + p.searching_s)
        lowperf = t < self.lowperf_until
        perf = perfusion * (p.low_perfusion_factor if lowperf else 1.0)
        pi = p.pi * perf
        if pi < 0.08 or hr < 15.0:
            # no pulsatile signal (arrest, shock, very cold): the device keeps searching
            self._had_pulse = False
            self.last_status = _SEARCHING | _LOW_PERF
            return None, None, None, _SEARCHING | _LOW_PERF, 0.0
        if not self._had_pulse:
            self._had_pulse = True
            self.search_until = max(self.search_until, t + p.searching_s)
        amp = min(1.0, pi / 5.0)
        if t < self.search_until:
            self._restart(delayed)
            self._pulse = hr
            self.last_status = _SEARCHING
            return None, None, None, _SEARCHING, amp
        # averaging
        if len(self._avg) == self._avg_n:
            self._avg_sum -= self._avg[0]
        self._avg.append(delayed)
        self._avg_sum += delayed
        avg = self._avg_sum / len(self._avg)
        self._pulse += (hr - self._pulse) * self._fp
        # device error: correlated, larger at low saturation, with low perfusion and motion
        sd = p.spo2_noise * (1.0 + max(0.0, 85.0 - avg) / 15.0)
        if avg < LOW_RANGE:
            sd += p.spo2_noise * (LOW_RANGE - avg) * LOW_RANGE_ERROR
        psd = p.pulse_noise
        bias = p.spo2_bias
        if pi < 0.4:
            status |= _LOW_PERF
            sd *= 3.0
            psd *= 3.0
        if compressions or t < self.motion_until:
            status |= _MOTION
            sd = sd * 2.0 + 4.0
            psd = psd * 2.0 + 0.12 * self._pulse
            bias -= 3.0
        self._err = 0.8 * self._err + 0.6 * sd * self._normal()
        # losing the pulse for a second: a weak signal shaken by compressions, or a value below
        # the calibrated range (module doc)
        if compressions and pi < 0.4:
            lost = self._uniform() >= CPR_LOCK
        elif avg < LOW_RANGE:
            lost = self._uniform() < min(DROP_MAX, (LOW_RANGE - avg) * DROP_PER_POINT)
        else:
            lost = False
        if lost:
            status |= _SEARCHING
            self.last_status = status
            return None, None, None, status, amp
        spo2 = avg + bias + self._err
        # whole numbers like a real display (values are ≥ 0 here, so floor(x + 0.5) rounds),
        # never below the display's floor
        spo2 = 100.0 if spo2 >= 99.5 else 0.0 if spo2 < 0.5 else float(int(spo2 + 0.5))
        if spo2 < p.display_min:
            spo2 = float(p.display_min)
        pulse = self._pulse + psd * self._normal()
        # the device's pulse-rate range (25–240 bpm, DOMAIN §7)
        pulse = 25.0 if pulse < 25.0 else 240.0 if pulse > 240.0 else float(int(pulse + 0.5))
        self.last_status = status
        return spo2, pulse, int(pi * 10.0 + 0.5) / 10.0, status, amp

    def dropped(self, t: float) -> bool:
        """True while a dropout hides this second (no reading reaches the app at all)."""
        return t < self.dropout_until


# --------------------------------------------------------------------------------------------
# Pleth


def _pulse_shape(n: int = 512) -> np.ndarray:
    """One beat, 0–1: a quick systolic upstroke, a rounded peak, the dicrotic notch and wave,
    then the diastolic run-off back to the foot of the next beat."""
    ph = np.arange(n) / n
    up = np.exp(-((ph - 0.2) / 0.085) ** 2)
    down = (np.exp(-((ph - 0.2) / 0.14) ** 2)
            + 0.38 * np.exp(-((ph - 0.5) / 0.09) ** 2)
            + 0.22 * np.exp(-((ph - 0.2) / 0.45) ** 2))
    w = np.where(ph < 0.2, up * down[int(0.2 * n)], down)  # joined at the peak
    w -= w.min()
    return w / w.max()


PULSE_SHAPE = _pulse_shape()
_SINE = np.sin(2.0 * np.pi * np.arange(len(PULSE_SHAPE)) / len(PULSE_SHAPE))


class PlethGenerator:
    """Waveform samples for whole seconds, vectorized per block; phase carries across blocks."""

    def __init__(self, rate: float, rng: np.random.Generator,
                 motion_rng: np.random.Generator) -> None:
        self.rate = rate
        self.n = round(rate)
        self.rng = rng
        self.motion_rng = motion_rng
        self.beat_phase = 0.0
        self.resp_phase = 0.0
        self.sample = 0  # samples generated so far (motion artefact phase is absolute)
        self._frac = (np.arange(1, self.n + 1) / self.n) if self.n else np.empty(0)

    def generate(self, hr0: np.ndarray, hr1: np.ndarray, rr: np.ndarray, amp: np.ndarray,
                 flat: np.ndarray, motion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Samples for len(hr0) seconds (second k covers (k-1, k]) and the number of beats
        that started in each second. Per-second inputs: heart rate at the start and end,
        breathing rate, amplitude 0–1, finger-out (flat) and motion masks.

        Heart rate is linear within a second, so the beat phase is its exact integral: no
        per-sample cumulative sum, and the random draws are consumed sample by sample, so how
        the seconds are split into blocks changes nothing but float rounding."""
        n, secs = self.n, len(hr0)
        if n == 0 or secs == 0:
            return np.empty(0), np.zeros(secs, dtype=np.int64)
        frac = self._frac[None, :]
        dh = (hr1 - hr0)[:, None]
        # beat phase (in beats) at the start of each second, then within the second
        inc = (hr0 + hr1) / 120.0
        starts = np.empty(secs + 1)
        starts[0] = self.beat_phase
        np.cumsum(inc, out=starts[1:])
        starts[1:] += self.beat_phase
        phase = starts[:-1, None] + (hr0[:, None] * frac + 0.5 * dh * frac * frac) / 60.0
        rstart = self.resp_phase + np.concatenate(([0.0], np.cumsum(rr[:-1]))) / 60.0
        resp = rstart[:, None] + rr[:, None] * frac / 60.0
        self.beat_phase = float(starts[-1])
        self.resp_phase = float((rstart[-1] + rr[-1] / 60.0) % 1.0)
        size = len(PULSE_SHAPE)
        idx = (phase * size).astype(np.int64) & (size - 1)
        ridx = (resp * size).astype(np.int64) & (size - 1)
        a = amp[:, None] * 70.0
        wave = 15.0 + a * (PULSE_SHAPE[idx] + 0.06 * _SINE[ridx])
        wave += self.rng.standard_normal((secs, n)) * (0.6 + 0.01 * a)
        wave = wave.ravel()
        start = self.sample
        self.sample += n * secs
        if motion.any():
            m = np.repeat(motion, n)
            t = (start + np.flatnonzero(m)) / self.rate
            jolt = 14.0 * np.sin(2.0 * np.pi * 1.7 * t + 3.0 * np.sin(2.0 * np.pi * 0.4 * t))
            wave[m] += jolt + self.motion_rng.standard_normal(len(t)) * 5.0
        if flat.any():
            wave[np.repeat(flat, n)] = 0.0
        np.clip(wave, 0.0, 100.0, out=wave)
        np.rint(wave, out=wave)
        fl = np.floor(starts).astype(np.int64)
        return wave, np.diff(fl)


def beat_flags(beats: np.ndarray) -> np.ndarray:
    """Status.BEAT where at least one beat started in the second."""
    return np.where(beats > 0, _BEAT, 0)
