"""The patient: a small, fast model of breathing, oxygen, heart rate and sedation.

It is built to reproduce the course of an overdose as DOMAIN.md §11 describes it, not to be a
clinical model. Pieces:

* Gas exchange. Alveolar PO2 follows an O2 mass balance over the lung store (FRC) plus the
  blood O2 that tracks it on the steep part of the dissociation curve. Its steady state is the
  alveolar gas equation (PAO2 = PIO2 − PACO2/R at the current ventilation) and its time constant
  is store / alveolar ventilation, so apnea drains it at the O2 consumption rate. Arterial
  saturation comes from the Severinghaus curve. CO2 has a larger, slower store.
* Drugs. One-compartment kinetics with first-order absorption (onset) and one or two
  elimination phases (redistribution, elimination) per drug. Opioid and naloxone compete for
  the same receptor (occupancy = x / (1 + x + n)), so naloxone reverses the opioid while it
  lasts and the opioid returns when it wears off. Benzodiazepines and xylazine sedate and
  depress breathing somewhat, and naloxone does nothing to them; xylazine slows the heart.
* Breathing. Drive falls with opioid occupancy down to apnea; the CO2 and hypoxic reflexes push
  it back up, blunted by the same occupancy. Rate falls more than depth. A deeply sedated person
  on their back partly obstructs their airway; the recovery position helps a little.
* Heart. A slow fall with opioid, a sympathetic rise with hypoxia and hypercapnia, a rise when
  naloxone precipitates withdrawal, bradycardia with xylazine, and after minutes of severe
  hypoxia a progressive hypoxic bradycardia ending in arrest (no pulse, no finger perfusion).
* Cardiac arrest and chest compressions (a training model, not a clinical one; every number
  below is ours [app-defined], chosen to be simple, monotone and deterministic):

  - Arrest is a state (`arrested`). It begins when the severe-hypoxia load reaches
    `arrest_after_s`: about 5.5 min after breathing stops, inside the 3–8 min lay reviews give
    and close to the ~320 s to pulseless electrical activity in rat asphyxia (DOMAIN §11.4,
    https://doi.org/10.1186/s12872-022-02996-w).
    The heart rate is 0, breathing stops, the person is unresponsive and the finger has no
    perfusion, so the oximeter shows no number (DOMAIN §7).
  - Without compressions nothing circulates: the arterial saturation stays where it was (no
    device can measure it then), and drugs already given (naloxone too) stay where they are:
    absorption and elimination stop.
  - Compressions (`compressions_on`) give `cpr_output` = 0.3 of the normal cardiac output. The
    arterial saturation then moves towards a ceiling with the time constant of one circulation
    (`circulation_s` = 60 s) divided by that fraction, so about 200 s: with rescue breaths
    towards `cpr_sao2_air` = 85 % (with oxygen on, `cpr_sao2_oxygen` = 95 %), never to normal;
    without breaths towards 0 %, because compressions alone bring in little air. Breaths
    without compressions move nothing: the oxygen does not reach the blood. Drug kinetics run at
    the same fraction of their normal pace, so naloxone given in arrest acts only as it is
    circulated.
  - The finger gets less than the core: `cpr_finger_perfusion` = 0.1 of normal, pulsing at the
    compression rate (`cpr_rate` = 110/min), and the compressions shake the hand.
  - Return of spontaneous circulation (ROSC) comes after compressions and breaths have held the
    arterial saturation at or above `rosc_sao2` = 70 % for `rosc_after_s` = 60 s in a row; a
    pause in compressions starts that minute again. From an arrest at about 8 % that takes
    about 6–7 minutes of compressions with breaths. After ROSC the heart restarts slow (half
    way down the hypoxic bradycardia) and the ordinary model takes over: if the opioid still
    stops the breathing and nobody breathes for the person, the heart stops again. Naloxone
    is not needed for ROSC; it is what brings the person's own breathing back afterwards.
  - Untreated, arrest stays arrest.

All rates are per minute in the parameters (as the literature gives them); the model steps in
seconds. Pure Python floats: one step is a few dozen operations, so an hour takes milliseconds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

#: STPD → BTPS volume factor at 37 °C (O2 consumption is quoted STPD, lung volumes BTPS).
BTPS = 1.21
#: Water vapour pressure at 37 °C, mmHg.
PH2O = 47.0
#: mL O2 bound per g haemoglobin.
HUFNER = 1.34


def severinghaus(po2: float) -> float:
    """Haemoglobin O2 saturation (0–1) at PO2 mmHg (Severinghaus 1979, pH 7.4, 37 °C)."""
    if po2 <= 0.0:
        return 0.0
    return 1.0 / (23400.0 / (po2 * po2 * po2 + 150.0 * po2) + 1.0)


def severinghaus_slope(po2: float) -> float:
    """dS/dPO2 per mmHg: how much blood O2 moves with the alveolar PO2."""
    if po2 <= 0.0:
        return 0.0
    g = po2 * po2 * po2 + 150.0 * po2
    s = 1.0 / (23400.0 / g + 1.0)
    return s * s * 23400.0 * (3.0 * po2 * po2 + 150.0) / (g * g)


def severinghaus_inverse(sat: float) -> float:
    """PO2 mmHg at saturation `sat` (0–1): the exact inverse of `severinghaus` (the cubic
    P³ + 150·P = 23400 / (1/S − 1) solved by Cardano's formula, as Ellis 1989 gives it)."""
    if sat <= 0.0:
        return 0.0
    if sat >= 1.0:
        sat = 0.999999
    a = 11700.0 / (1.0 / sat - 1.0)
    b = math.sqrt(50.0 ** 3 + a * a)
    return (a + b) ** (1.0 / 3.0) - (b - a) ** (1.0 / 3.0)


def _clamp01(x: float) -> float:
    return 0.0 if x < 0.0 else 1.0 if x > 1.0 else x


# --------------------------------------------------------------------------------------------
# Drugs


@dataclass(frozen=True)
class DrugProfile:
    """How one drug enters and leaves. `routes` maps a route to its absorption rate (/min) and
    bioavailability; `phases` splits each dose into (fraction, half-life in minutes) parts, so
    fentanyl can redistribute quickly and still linger."""

    name: str
    kind: str  # "opioid" | "benzo" | "xylazine" | "naloxone"
    routes: dict[str, tuple[float, float]]
    phases: tuple[tuple[float, float], ...]
    default_route: str
    #: effect units per dose unit (naloxone: per mg; the others are dosed in effect units)
    potency: float = 1.0
    #: a dose given without `dose=` (naloxone: mg per standard dose by route)
    default_dose: dict[str, float] | None = None
    about: str = ""
    #: phases for a route that differs (a smoked puff is a small, quickly redistributed bolus)
    route_phases: dict[str, tuple[tuple[float, float], ...]] | None = None
    #: minutes before absorption starts (nasal naloxone must cross the mucosa first)
    route_lag_min: dict[str, float] | None = None

    def phases_for(self, route: str) -> tuple[tuple[float, float], ...]:
        if self.route_phases and route in self.route_phases:
            return self.route_phases[route]
        return self.phases


#: Opioid, benzodiazepine and xylazine doses are in effect units: 1 ≈ the concentration that
#: half-occupies the target (clearly drowsy); about 6 or more stops breathing in an opioid-naive
#: adult. Naloxone is dosed in mg (0.4 mg IM, 4 mg nasal by default).
DRUGS: dict[str, DrugProfile] = {
    "fentanyl": DrugProfile(
        "fentanyl", "opioid",
        routes={"injected": (1.2, 1.0), "iv": (3.0, 1.0), "smoked": (3.0, 1.0),
                "snorted": (0.5, 0.8)},
        phases=((0.55, 5.0), (0.45, 150.0)), default_route="injected",
        route_phases={"smoked": ((0.8, 4.0), (0.2, 150.0))},
        about="fast onset; quick redistribution, then a long tail (illicit fentanyl lasts 1–3 h)"),
    "heroin": DrugProfile(
        "heroin", "opioid",
        routes={"injected": (0.8, 1.0), "iv": (2.0, 1.0), "smoked": (2.0, 1.0)},
        phases=((0.3, 10.0), (0.7, 180.0)), default_route="injected",
        about="onset in minutes, lasts 3–5 h"),
    "long_opioid": DrugProfile(
        "long_opioid", "opioid",
        routes={"oral": (0.08, 1.0), "injected": (0.6, 1.0), "smoked": (2.0, 1.0)},
        phases=((1.0, 900.0),), default_route="injected",
        about="long-acting opioid (methadone-like): outlasts naloxone by hours"),
    "benzo": DrugProfile(
        "benzo", "benzo",
        routes={"oral": (0.1, 1.0), "injected": (0.8, 1.0), "smoked": (1.5, 1.0)},
        phases=((1.0, 480.0),), default_route="injected",
        about="benzodiazepine: sedation for hours, mild breathing depression, not reversed"),
    "xylazine": DrugProfile(
        "xylazine", "xylazine",
        routes={"injected": (0.8, 1.0), "smoked": (1.5, 1.0)},
        phases=((1.0, 150.0),), default_route="injected",
        about="alpha-2 sedative: sedation ~4 h, bradycardia, hypotension, not reversed"),
    "naloxone": DrugProfile(
        "naloxone", "naloxone",
        routes={"im": (0.55, 1.0), "nasal": (0.06, 0.5), "iv": (4.0, 1.0)},
        route_lag_min={"nasal": 1.5},
        phases=((0.5, 8.0), (0.5, 40.0)), default_route="im", potency=50.0,
        default_dose={"im": 0.4, "nasal": 4.0, "iv": 0.4},
        about="IM onset 2–5 min, nasal slower; effect 20–90 min (DOMAIN §3.2, §11.5)"),
}


class _Kinetics:
    """Amounts in absorption depots and effect compartments, grouped by (kind, ka, ke)."""

    __slots__ = ("_delayed", "_pools", "dt")

    def __init__(self, dt: float) -> None:
        self.dt = dt
        # each pool: [kind, depot, conc, fa, fe, gain]
        self._pools: dict[tuple[str, float, float], list] = {}
        self._delayed: list[list] = []  # [steps left, drug, route, amount]

    def give(self, drug: DrugProfile, route: str, amount_effect: float) -> None:
        lag = (drug.route_lag_min or {}).get(route, 0.0)
        if lag > 0.0:
            self._delayed.append([round(lag * 60.0 / self.dt), drug, route, amount_effect])
            return
        self._absorb(drug, route, amount_effect)

    def _absorb(self, drug: DrugProfile, route: str, amount_effect: float) -> None:
        ka, _ = drug.routes[route]
        for frac, half_life in drug.phases_for(route):
            ke = math.log(2.0) / half_life
            if abs(ke - ka) < 1e-9:
                ke *= 1.0001
            key = (drug.kind, ka, ke)
            pool = self._pools.get(key)
            if pool is None:
                fa = math.exp(-ka * self.dt / 60.0)
                fe = math.exp(-ke * self.dt / 60.0)
                pool = [drug.kind, 0.0, 0.0, fa, fe, ka / (ke - ka) * (fa - fe),
                        ka / (ke - ka)]
                self._pools[key] = pool
            pool[1] += amount_effect * frac

    def step(self, pace: float = 1.0) -> dict[str, float]:
        """One step; with `pace` < 1 (a circulation at that fraction of normal) absorption and
        elimination move only that fraction of a step (exactly: the same solution for a
        shorter time)."""
        if pace != 1.0:
            return self._step_paced(pace)
        if self._delayed:
            for item in self._delayed:
                item[0] -= 1
                if item[0] <= 0:
                    self._absorb(item[1], item[2], item[3])
            self._delayed = [d for d in self._delayed if d[0] > 0]
        out = {"opioid": 0.0, "benzo": 0.0, "xylazine": 0.0, "naloxone": 0.0}
        for pool in self._pools.values():  # a handful at most
            depot, conc = pool[1], pool[2]
            conc = conc * pool[4] + depot * pool[5]
            pool[1] = depot * pool[3]
            pool[2] = conc
            out[pool[0]] += conc
        return out

    def _step_paced(self, pace: float) -> dict[str, float]:
        out = {"opioid": 0.0, "benzo": 0.0, "xylazine": 0.0, "naloxone": 0.0}
        for pool in self._pools.values():
            depot, conc = pool[1], pool[2]
            if pace > 0.0:
                fa, fe = pool[3] ** pace, pool[4] ** pace
                conc = conc * fe + depot * pool[6] * (fa - fe)
                pool[1] = depot * fa
                pool[2] = conc
            out[pool[0]] += conc
        return out


# --------------------------------------------------------------------------------------------
# The patient


@dataclass
class PatientParams:
    """A healthy 70 kg adult unless a scenario says otherwise ([patient] table)."""

    hr: float = 76.0  # resting heart rate, bpm
    rr: float = 14.0  # resting breathing rate, /min
    tidal_volume_l: float = 0.45
    dead_space_l: float = 0.15
    frc_l: float = 3.3  # lung O2 store (functional residual capacity), L BTPS
    blood_l: float = 5.0  # blood whose O2 content follows the alveolar PO2, L
    hb: float = 15.0  # haemoglobin g/dL
    vo2_ml: float = 250.0  # O2 consumption, mL/min STPD
    rq: float = 0.8  # respiratory quotient
    aa_gradient: float = 8.0  # alveolar–arterial PO2 difference, mmHg
    fio2: float = 0.21
    barometric: float = 760.0  # mmHg (sea level, BC coast)
    co2_store_l: float = 30.0  # effective CO2 capacitance, L
    co2_sensitivity: float = 0.3  # fractional drive increase per mmHg PaCO2 above set point
    hypoxic_sensitivity: float = 0.03  # per mmHg PaO2 below 60
    opioid_tolerance: float = 1.0  # > 1: more opioid needed for the same effect
    oxygen_fio2: float = 0.5  # FiO2 while oxygen is on
    rescue_rate: float = 12.0  # breaths/min given by a responder (1 every 5 s)
    rescue_tidal_l: float = 0.55  # effective volume per rescue breath (mask leak included)
    brady_after_s: float = 150.0  # severe-hypoxia load (s) before hypoxic bradycardia starts
    arrest_after_s: float = 300.0  # severe-hypoxia load (s) at which the heart stops
    perfusion: float = 1.0  # peripheral perfusion (cold hands < 1)
    # cardiac arrest and compressions: a training model, all ours [app-defined] (module doc)
    cpr_output: float = 0.3  # cardiac output with compressions, fraction of normal
    cpr_finger_perfusion: float = 0.1  # finger perfusion with compressions, fraction of normal
    cpr_rate: float = 110.0  # compressions per minute (the pulse a finger probe may count)
    circulation_s: float = 60.0  # one circulation of the blood at normal output, s
    cpr_sao2_air: float = 85.0  # arterial saturation compressions + breaths tend to, %
    cpr_sao2_oxygen: float = 95.0  # the same with oxygen on, %
    rosc_sao2: float = 70.0  # saturation compressions + breaths must hold for ROSC, %
    rosc_after_s: float = 60.0  # … for this long in a row

    @classmethod
    def field_types(cls) -> dict[str, type]:
        return {f.name: float for f in fields(cls)}


@dataclass(frozen=True, slots=True)
class PatientState:
    """The patient as they truly are at `t` (what no oximeter measures directly)."""

    t: float
    sao2: float  # arterial saturation, %
    pao2: float  # arterial PO2, mmHg
    paco2: float  # arterial PCO2, mmHg
    hr: float  # heart rate, bpm (0 in arrest)
    breathing_rate: float  # spontaneous breaths/min (0 = apnea)
    tidal_volume_l: float
    alveolar_ventilation: float  # L/min including rescue breaths
    responsive: float  # 0 = unresponsive … 1 = alert
    perfusion: float  # finger perfusion: 0 = none (arrest) … 1 = normal
    arrested: bool  # cardiac arrest: no heartbeat (compressions may still move some blood)
    breaths_on: bool
    oxygen_on: bool
    recovery_position: bool
    opioid_occupancy: float  # 0–1, after naloxone competition
    naloxone: float  # naloxone effect units
    sedation_other: float  # 0–1 from benzodiazepine / xylazine
    compressions_on: bool = False
    circulation: float = 1.0  # blood flow, fraction of normal (compressions in arrest: 0.3)

    @property
    def responsiveness(self) -> str:
        """AVPU-style word for `responsive`."""
        if self.responsive >= 0.75:
            return "alert"
        if self.responsive >= 0.45:
            return "voice"
        if self.responsive >= 0.15:
            return "pain"
        return "unresponsive"

    @property
    def breathing_normally(self) -> bool:
        """BC: about one breath every 5 s or more (DOMAIN §2.1), and not in arrest."""
        return not self.arrested and self.breathing_rate >= 10.0


class PatientModel:
    """Steps the person in fixed `dt` seconds; interventions act from the next step."""

    def __init__(self, params: PatientParams | None = None, dt: float = 1.0) -> None:
        self.p = p = params or PatientParams()
        self.dt = dt
        self.t = 0.0
        self.kin = _Kinetics(dt)
        self.breaths_on = False
        self.oxygen_on = False
        self.recovery_position = False
        self.arrested = False
        self.compressions_on = False
        #: seconds in a row that compressions + breaths have held the saturation for ROSC
        self.rosc_held = 0.0
        #: blood flow, fraction of normal: 1, 0 in arrest, `cpr_output` with compressions
        self.circulation = 1.0
        #: airway fully blocked / breath held: no spontaneous ventilation whatever the drive
        self.forced_apnea = False
        # resting steady state
        va0 = p.rr * max(0.0, p.tidal_volume_l - p.dead_space_l)
        if va0 <= 0.2:
            raise ValueError("resting alveolar ventilation too small (tidal volume ≤ dead space?)")
        self._vco2 = p.rq * p.vo2_ml  # mL/min
        self.paco2_set = 0.863 * self._vco2 / va0
        self.paco2 = self.paco2_set
        self.pAo2 = self._pio2() - BTPS * p.vo2_ml / 1000.0 * (p.barometric - PH2O) / va0
        self.hr = p.hr
        self.responsive = 1.0
        self.hypoxic_load = 0.0
        self.rr = p.rr
        self.vt = p.tidal_volume_l
        self.va = va0
        self.perf = p.perfusion
        self.theta = 0.0
        self.conc = {"opioid": 0.0, "benzo": 0.0, "xylazine": 0.0, "naloxone": 0.0}
        self.sed_other = 0.0
        self._o2cap = HUFNER * p.hb / 100.0  # L O2 per L blood at full saturation
        self._fr = 1.0 - math.exp(-dt / 8.0)  # heart-rate relaxation per step
        self._fresp_down = 1.0 - math.exp(-dt / 10.0)
        self._fresp_up = 1.0 - math.exp(-dt / 40.0)
        self._fload = math.exp(-dt / 600.0)
        self._k = self._constants()

    # -- interventions -------------------------------------------------------------------

    def give(self, drug: str, dose: float | None = None, route: str | None = None) -> None:
        prof = DRUGS.get(drug)
        if prof is None:
            raise ValueError(f"unknown drug {drug!r} (known: {', '.join(DRUGS)})")
        route = route or prof.default_route
        if route not in prof.routes:
            raise ValueError(f"{drug}: unknown route {route!r} (known: {', '.join(prof.routes)})")
        if dose is None:
            if prof.default_dose is None:
                raise ValueError(f"{drug}: a dose is needed")
            dose = prof.default_dose[route]
        if not (isinstance(dose, int | float) and math.isfinite(dose) and dose >= 0):
            raise ValueError(f"{drug}: bad dose {dose!r}")
        _, bio = prof.routes[route]
        self.kin.give(prof, route, float(dose) * bio * prof.potency)

    # -- the step -------------------------------------------------------------------------

    def _pio2(self) -> float:
        fio2 = self.p.oxygen_fio2 if self.oxygen_on else self.p.fio2
        return fio2 * (self.p.barometric - PH2O)

    def _constants(self) -> tuple[float, ...]:
        """Per-step constants, computed once (the step runs millions of times in a soak)."""
        p = self.p
        span = p.barometric - PH2O
        return (p.dead_space_l, p.rescue_rate * max(0.0, p.rescue_tidal_l - p.dead_space_l),
                span, p.frc_l / span, BTPS * p.blood_l * self._o2cap,
                BTPS * p.vo2_ml / 1000.0, 0.863 * self._vco2, self.dt / 60.0)

    def step(self) -> None:
        p = self.p
        dead, va_resc, span, lung_cap, blood_cap, vo2b, k_co2, dt_min = self._k
        if self.arrested:
            self.circulation = p.cpr_output if self.compressions_on else 0.0
            c = self.conc = self.kin.step(self.circulation)
        else:
            c = self.conc = self.kin.step()
        x = c["opioid"] / p.opioid_tolerance
        n = c["naloxone"]
        theta = x / (1.0 + x + n)
        theta_unopposed = x / (1.0 + x)
        b = c["benzo"]
        tb = b / (1.0 + b)
        xy = c["xylazine"]
        tx = xy / (1.0 + xy)
        self.theta = theta
        self.sed_other = 1.0 - (1.0 - tb) * (1.0 - tx)

        pao2_art = self.pAo2 - p.aa_gradient
        sa = severinghaus(pao2_art)
        sa_pct = 100.0 * sa
        paco2 = self.paco2

        # breathing drive: opioid occupancy down to apnea at 0.9; sedatives add a little
        r = theta / 0.9
        d = 1.0 - r * r * r
        if d < 0.0 or self.arrested:
            d = 0.0
        if tb or tx:
            d *= (1.0 - 0.4 * tb) * (1.0 - 0.2 * tx)
        chem = 1.0
        if d > 0.0:
            blunt = 1.0 - theta
            dco2 = paco2 - self.paco2_set
            if dco2 > 0.0:
                chem += p.co2_sensitivity * blunt * dco2
            if pao2_art < 60.0:
                chem += p.hypoxic_sensitivity * blunt * (60.0 - pao2_art)
            if chem > 4.0:
                chem = 4.0
        if d * chem < 0.06 or self.forced_apnea:
            rr = vt = 0.0
        elif d == 1.0 and chem == 1.0:
            rr, vt = p.rr, p.tidal_volume_l
        else:
            # opioids slow the rate most; the chemoreflex mainly deepens the breaths
            rr = p.rr * d ** 0.7 * chem ** 0.3
            vt = p.tidal_volume_l * d ** 0.3 * chem ** 0.7
            if rr > 40.0:
                rr = 40.0
            if vt > 2.0:
                vt = 2.0
        depth = 1.0 - self.responsive
        airway = 1.0 - (0.1 if self.recovery_position else 0.35) * depth
        va = rr * (vt - dead) * airway if vt > dead else 0.0
        if self.breaths_on:
            va = va_resc + 0.25 * va if va_resc >= va else va + 0.25 * va_resc
        self.rr, self.vt, self.va = rr, vt, va

        if self.arrested:
            self._arrest_step(sa_pct)
        else:
            # O2: lung store plus the blood O2 that moves with PO2 on the steep part of the
            # curve
            pA = self.pAo2
            u = pA / 40.0 if pA < 40.0 else 1.0  # extraction fails as stores run out
            cap = lung_cap + blood_cap * severinghaus_slope(pao2_art)
            pio2 = (p.oxygen_fio2 if self.oxygen_on else p.fio2) * span
            pA += (va * (pio2 - pA) / span - vo2b * u) / cap * dt_min
            self.pAo2 = pA if pA > 1.0 else 1.0
        # CO2: large slow store
        self.paco2 = paco2 + (k_co2 - va * paco2) / p.co2_store_l * dt_min

        # heart
        if sa_pct < 65.0:
            load = 0.5 + (65.0 - sa_pct) / 30.0
            self.hypoxic_load += self.dt * (load if load < 1.5 else 1.5)
        elif sa_pct > 85.0 and self.hypoxic_load > 0.0 and not self.arrested:
            self.hypoxic_load *= self._fload
        if self.hypoxic_load >= p.arrest_after_s and not self.arrested:
            self.arrested = True
            self.rosc_held = 0.0
            self.circulation = p.cpr_output if self.compressions_on else 0.0
        if self.arrested:
            self.hr = 0.0
        else:
            hr_target = p.hr * (1.0 - 0.12 * theta) * (1.0 - 0.6 * tx)
            if sa_pct < 92.0:
                hr_target += 0.8 * (92.0 - sa_pct if sa_pct > 62.0 else 30.0)
            hc = paco2 - self.paco2_set - 5.0
            if hc > 0.0:
                hr_target += 0.5 * (hc if hc < 30.0 else 30.0)
            if x > 0.0:
                hr_target += 28.0 * (theta_unopposed - theta) * (x if x < 1.0 else 1.0)
            over = self.hypoxic_load - p.brady_after_s
            if over > 0.0:
                frac = _clamp01(over / (p.arrest_after_s - p.brady_after_s))
                hr_target *= 1.0 - 0.75 * frac
            self.hr += (hr_target - self.hr) * self._fr

        # peripheral perfusion: xylazine hypotension, hypoxic vasoconstriction, failing heart
        if self.arrested:
            self.perf = p.perfusion * p.cpr_finger_perfusion if self.compressions_on else 0.0
        else:
            perf = p.perfusion
            if tx:
                perf *= 1.0 - 0.45 * tx
            if sa_pct < 88.0:
                perf *= 1.0 - 0.5 * _clamp01((88.0 - sa_pct) / 40.0)
            if self.hr < 45.0:
                perf *= self.hr / 45.0
            self.perf = perf

        # responsiveness
        if self.arrested:
            target = 0.0
        else:
            target = 1.0
            if theta > 0.35:
                target *= 1.0 - _clamp01((theta - 0.35) / 0.4)
            if tb > 0.15:
                target *= 1.0 - 0.8 * _clamp01((tb - 0.15) / 0.55)
            if tx > 0.15:
                target *= 1.0 - 0.8 * _clamp01((tx - 0.15) / 0.55)
            if sa_pct < 80.0:
                target *= 1.0 - _clamp01((80.0 - sa_pct) / 30.0)
            if paco2 > 75.0:
                target *= 1.0 - _clamp01((paco2 - 75.0) / 40.0)
        resp = self.responsive
        if target != resp:
            f = self._fresp_up if target > resp else self._fresp_down
            self.responsive = resp + (target - resp) * f
        self.t += self.dt

    def _arrest_step(self, sa_pct: float) -> None:
        """Oxygen in cardiac arrest (module doc): the arterial saturation moves only with the
        flow compressions make, towards what the breaths (or no breaths) allow; held long
        enough, circulation returns."""
        p = self.p
        f = self.circulation
        sa = sa_pct
        if f > 0.0:
            if self.breaths_on:
                target = p.cpr_sao2_oxygen if self.oxygen_on else p.cpr_sao2_air
            else:
                target = 0.0
            sa += (target - sa) * (1.0 - math.exp(-self.dt * f / p.circulation_s))
            self.pAo2 = severinghaus_inverse(sa / 100.0) + p.aa_gradient
        if f > 0.0 and self.breaths_on and sa >= p.rosc_sao2:
            self.rosc_held += self.dt
            if self.rosc_held >= p.rosc_after_s:
                self._rosc()
        else:
            self.rosc_held = 0.0

    def _rosc(self) -> None:
        """Return of spontaneous circulation: the heart restarts slow (half way down the
        hypoxic bradycardia), and the ordinary model carries on from the saturation reached."""
        p = self.p
        self.arrested = False
        self.rosc_held = 0.0
        self.circulation = 1.0
        self.hypoxic_load = p.brady_after_s + 0.5 * (p.arrest_after_s - p.brady_after_s)

    @property
    def sao2(self) -> float:
        """Arterial saturation in % (what the finger sees after transport lag)."""
        return 100.0 * severinghaus(self.pAo2 - self.p.aa_gradient)

    def state(self) -> PatientState:
        return PatientState(
            t=self.t, sao2=self.sao2, pao2=self.pAo2 - self.p.aa_gradient, paco2=self.paco2,
            hr=self.hr, breathing_rate=self.rr, tidal_volume_l=self.vt,
            alveolar_ventilation=self.va, responsive=self.responsive, perfusion=self.perf,
            arrested=self.arrested, breaths_on=self.breaths_on, oxygen_on=self.oxygen_on,
            recovery_position=self.recovery_position, opioid_occupancy=self.theta,
            naloxone=self.conc["naloxone"], sedation_other=self.sed_other,
            compressions_on=self.compressions_on, circulation=self.circulation)
