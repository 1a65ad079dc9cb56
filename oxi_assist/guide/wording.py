"""The engine's own words: what a text tells the responder (read once per text), the words of
a button, a step's title and a time as a responder reads it.

A title or a button never carries a protected instruction (guide/vocabulary.py `PROTECTED`):
a file's title that does shows the step's id instead, a file's label that does shows the
action's own words.
"""

from __future__ import annotations

import functools

from oxi_assist.actions import ACTIONS, Action, key_for
from oxi_assist.guide import safety
from oxi_assist.guide.model import OWN_INTENTS, StepDef
from oxi_assist.guide.vocabulary import PROTECTED


@functools.lru_cache(maxsize=1024)
def intents(text: str, declared: frozenset[str]) -> frozenset[str]:
    """What `text` tells the responder, with what its file declares (cached: texts repeat
    at every update)."""
    return safety.intents(text, declared)


def button_label(action: Action, label: str) -> str:
    """A button names its own action only; any other instruction in a file's label is
    replaced by the action's own words."""
    extra = (intents(label, frozenset()) & set(PROTECTED)) - OWN_INTENTS.get(action,
                                                                             frozenset())
    return ACTIONS[action].label if extra else label


@functools.lru_cache(maxsize=32)
def core_label(action: Action, route: str) -> str:
    """The words of a core action the engine offers itself (a naloxone route: its key's)."""
    kb = key_for(action, {"route": route}) if route else None
    return kb.label if kb is not None else ACTIONS[action].label


def title_of(step: StepDef) -> str:
    """A title never carries a protected instruction; if a file's does, the step's id is
    shown instead."""
    return step.id if intents(step.title, frozenset()) & set(PROTECTED) else step.title


def duration(seconds: float) -> str:
    """"40 s", "1 min", "2 min 30 s": a time as a responder reads it."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s} s"
    return f"{s // 60} min" + (f" {s % 60} s" if s % 60 else "")
