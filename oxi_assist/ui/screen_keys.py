"""The live screen's own keys: alarms, the screen, and the trainer's controls.

The responder's keys come from the action table (oxi_assist.actions); these are the other keys
of the live screen, each written once here. The screen's key bindings, its footer, the device
picker's pass-through keys, the command palette, the help screen, the "more" sheet's chips and
the trainer bar's clickable controls are all derived from `SCREEN_KEYS`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class KeyGroup(enum.Enum):
    """Where a key is listed on the help screen."""

    ALARM = "alarm"
    SCREEN = "screen"
    TRAINER = "trainer"  # simulated sessions only


@dataclass(frozen=True)
class ScreenKey:
    """One key of the live screen (not a responder action).

    `keys` are Textual key names ("" for an entry that is not a binding of the screen, such as
    the "more" chip or Textual's own palette key); `action` is the App's action it runs. The
    other fields are its words in each place it appears ("" where it does not appear)."""

    group: KeyGroup
    shown: str  # how the key is printed ("+", "ctrl+p")
    help: str  # the help screen's words
    keys: str = ""
    action: str = ""  # the App's action, e.g. "acknowledge", "sim_speed(1)"
    footer: str = ""  # the binding's description (the footer's words)
    in_footer: bool = True
    command: str = ""  # the command palette's title
    command_help: str = ""  # the command palette's line under the title
    chip: str = ""  # the words on a chip or a trainer bar control
    over_picker: bool = False  # stays live over the device picker


SCREEN_KEYS: tuple[ScreenKey, ...] = (
    ScreenKey(KeyGroup.ALARM, "k", "acknowledge the alarm", "k", "acknowledge", "Ack alarm",
              command="Acknowledge alarm", command_help="key k", chip="acknowledge alarm",
              over_picker=True),
    ScreenKey(KeyGroup.ALARM, "p", "pause alarm signals for 2 min (counted down on screen)",
              "p", "pause_alarms", "Pause 2 min", command="Pause alarms 2 min",
              command_help="key p", chip="pause alarms 2 min", over_picker=True),
    ScreenKey(KeyGroup.SCREEN, "i",
              "the oximeter handout: placement, what the numbers mean, its limits", "i",
              "handout", "Handout", command="Oximeter handout", command_help="key i",
              chip="oximeter handout"),
    ScreenKey(KeyGroup.SCREEN, "…", "every action as a button to tap (the “more” chip)",
              action="more_actions", command="Every action",
              command_help="a button for each (the … chip)"),
    ScreenKey(KeyGroup.SCREEN, "?", "this help (Esc or ? closes it)", "question_mark", "help",
              "Help", chip="help"),
    ScreenKey(KeyGroup.SCREEN, "ctrl+p", "command palette (every action by name)"),
    ScreenKey(KeyGroup.SCREEN, "q",
              "end the response → debrief (asks first; E ends, Esc keeps going)", "q", "end",
              "End", command="End session",
              command_help="asks first, then the debrief (key q)"),
    ScreenKey(KeyGroup.TRAINER, "P", "pause / resume the simulation", "P", "sim_pause",
              "Sim pause", False, "Trainer: pause/resume", "key P", "pause"),
    ScreenKey(KeyGroup.TRAINER, "+", "simulation speed 1× … 20×", "plus,equals_sign",
              "sim_speed(1)", "Faster", False, "Trainer: faster", "key +", "faster"),
    ScreenKey(KeyGroup.TRAINER, "-", "simulation speed 1× … 20×", "minus", "sim_speed(-1)",
              "Slower", False, "Trainer: slower", "key -", "slower"),
    ScreenKey(KeyGroup.TRAINER, "S", "choose a scenario (restarts)", "S", "pick_scenario",
              "Scenario", False, "Trainer: choose scenario", "key S", "scenario"),
    ScreenKey(KeyGroup.TRAINER, "F", "finger out of the probe / back in", "F", "finger",
              "Finger out/in", False, "Trainer: finger out/in", "key F", "finger out"),
    ScreenKey(KeyGroup.TRAINER, "M", "motion artefact on / off", "M", "motion",
              "Motion on/off", False, "Trainer: motion on/off", "key M", "motion"),
)


def bound(keys: tuple[ScreenKey, ...] = SCREEN_KEYS) -> tuple[ScreenKey, ...]:
    """The entries that are key bindings of the live screen, in the table's order."""
    return tuple(k for k in keys if k.keys)


def in_group(group: KeyGroup) -> tuple[ScreenKey, ...]:
    return tuple(k for k in SCREEN_KEYS if k.group is group)


def help_rows(group: KeyGroup) -> tuple[tuple[str, str], ...]:
    """(keys, words) for the help screen; keys next to each other with the same words share a
    row ("+ / -")."""
    rows: list[tuple[str, str]] = []
    for k in in_group(group):
        if rows and rows[-1][1] == k.help:
            rows[-1] = (f"{rows[-1][0]} / {k.shown}", k.help)
        else:
            rows.append((k.shown, k.help))
    return tuple(rows)


def app_action(k: ScreenKey) -> str:
    """The Textual action string that runs the key's App action from a click."""
    return f"app.{k.action}" + ("" if "(" in k.action else "()")
