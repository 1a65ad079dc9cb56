"""The live screen's key table: every entry runs an action the app has, each key is bound
once, and the places derived from it say what they said before."""

from __future__ import annotations

from textual.actions import parse

from oxi_assist.actions import KEYS
from oxi_assist.ui.app import OxiApp
from oxi_assist.ui.help_screen import TRAINER_KEYS
from oxi_assist.ui.live_screen import MainScreen
from oxi_assist.ui.screen_keys import SCREEN_KEYS, KeyGroup, bound, help_rows


def test_every_entry_runs_an_action_of_the_app() -> None:
    for k in SCREEN_KEYS:
        if k.action:
            _, name, _ = parse(k.action)
            assert callable(getattr(OxiApp, f"action_{name}", None)), k


def test_each_key_is_bound_once_on_the_live_screen() -> None:
    names = [n for b in MainScreen.BINDINGS for n in b.key.split(",")]  # type: ignore[union-attr]
    assert len(names) == len(set(names))
    assert len(MainScreen.BINDINGS) == len(KEYS) + len(bound())


def test_keys_with_the_same_words_share_a_help_row() -> None:
    assert ("+ / -", "simulation speed 1× … 20×") in help_rows(KeyGroup.TRAINER)
    assert TRAINER_KEYS[:len(help_rows(KeyGroup.TRAINER))] == help_rows(KeyGroup.TRAINER)
