"""The facts a guidance condition sees, derived from the vitals, the breath count and what
the responder reported (a `Response`).

One function makes them, so the prompts, the offered actions and the step changes all judge
the same moment the same way: no reading (none, stale, lost, doubtful) gives no numbers; a
poor signal gives numbers that are not trusted.
"""

from __future__ import annotations

from typing import Any

from oxi_assist.guide import safety
from oxi_assist.guide.breathing import BreathCount, CountState
from oxi_assist.guide.conditions import Facts, band_of
from oxi_assist.guide.response import Response
from oxi_assist.monitor.vitals import Quality, VitalsState

#: Link states in which the oximeter is gone (connecting or stale still counts as one in use).
LINK_GONE = frozenset({"lost", "reconnecting", "closed"})


def signal_of(v: VitalsState | None) -> str:
    """"none", "poor" or "good": how far a reading may be gone by."""
    if v is None or v.stale or v.quality is Quality.NONE or v.spo2 is None:
        return "none"
    if v.link.value != "connected":
        return "none"
    return "poor" if v.quality is Quality.POOR else "good"


def vitals_key(v: VitalsState | None, alarm_kinds: frozenset[str]) -> tuple[Any, ...]:
    """What of the vitals the rules depend on: a change here runs them at once."""
    if v is None:
        return ()
    return (signal_of(v), v.band, v.link, v.stale, alarm_kinds)


def derive(r: Response, v: VitalsState | None, count: BreathCount, t: float,
           step_since: float, kit: dict[str, int]) -> Facts:
    """The facts at guide time `t`."""
    signal = signal_of(v)
    spo2 = v.spo2 if (v is not None and signal != "none") else None
    pulse = v.pulse if (v is not None and signal != "none") else None
    rate = count.per_min if count.state is CountState.READY else None
    last = r.last_dose_t()
    gap = r.dose_gap()
    left = safety.kit_left(r.doses_by_route(), kit)
    oximeter = "none" if v is None else (
        "lost" if v.link.value in LINK_GONE else "on")
    return Facts(
        spo2=spo2, spo2_trusted=signal == "good", pulse=pulse, signal=signal,
        band=band_of(spo2, signal), oximeter=oximeter,
        breathing=r.breathing, breath_rate=rate, breath_count=count.state.value,
        breathing_ok=safety.breathing_ok(r.breathing, rate),
        breaths_on=r.breaths_on, compressions_on=r.compressions_on,
        pulse_check=r.pulse_check, called_911=r.called_911,
        responsive=r.responsive, awake=r.awake, oxygen=r.oxygen,
        withdrawal=r.withdrawal, recovery=r.recovery, ems=r.ems,
        doses=len(r.doses), out_of_naloxone=left == 0,
        minutes_since_naloxone=(t - last) / 60 if last is not None else None,
        dose_gap_minutes=gap / 60 if gap is not None else None,
        minutes_since_911=(t - r.t_911) / 60 if r.t_911 is not None else None,
        minutes_in_step=max(0.0, t - step_since) / 60,
    )
