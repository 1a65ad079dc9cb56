"""A few words on how the simulated patient truly is, for the trainer's bar.

The trainer sees what the responder cannot read off the oximeter: whether the person breathes
and how fast, whether the heart has stopped, what is being done to them. The words are short
and in a fixed order (circulation, breathing, responsiveness, what the responder is doing), so
a bar that redraws every second does not jump about. They describe the model's true state,
never a reading: "breathing 4/min" is the person, not a number from the device.
"""

from __future__ import annotations

from simulators.physiology import PatientState

ARREST = "CARDIAC ARREST"
NOT_BREATHING = "NOT BREATHING"
COMPRESSIONS = "CPR: compressions on"
BREATHS = "rescue breaths on"

#: AVPU-style responsiveness (`PatientState.responsiveness`) in the trainer's words.
RESPONSIVENESS_WORDS = {
    "alert": "awake",
    "voice": "drowsy",
    "pain": "responds to pain only",
    "unresponsive": "unresponsive",
}


def patient_status(state: PatientState) -> str:
    """E.g. "breathing 14/min · awake", "NOT BREATHING · unresponsive · rescue breaths on",
    "CARDIAC ARREST · CPR: compressions on · rescue breaths on"."""
    parts: list[str] = []
    if state.arrested:
        parts.append(ARREST)
    else:
        rate = state.breathing_rate
        if rate <= 0.0:
            parts.append(NOT_BREATHING)
        else:
            parts.append(f"breathing {max(1, round(rate))}/min")
        parts.append(RESPONSIVENESS_WORDS[state.responsiveness])
    if state.compressions_on:
        parts.append(COMPRESSIONS)
    if state.breaths_on:
        parts.append(BREATHS)
    return " · ".join(parts)
