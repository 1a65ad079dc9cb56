"""The live app's key handling: a responder key, its chip and its palette command run the
same action; the screen's other keys (alarms, handout, help) and the command palette.

Every key and its words come from the action table (oxi_assist.actions) and the screen's key
table (oxi_assist.ui.screen_keys).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.app import SystemCommand
from textual.screen import Screen

from oxi_assist.actions import KEYS, key_by_id
from oxi_assist.ui.adapter import all_key_views, key_action
from oxi_assist.ui.handout_screen import HandoutScreen
from oxi_assist.ui.help_screen import HelpScreen
from oxi_assist.ui.live_app_base import LiveAppBase
from oxi_assist.ui.more_actions import MoreActions
from oxi_assist.ui.screen_keys import SCREEN_KEYS, KeyGroup


class KeyActions(LiveAppBase):
    """The actions the live screen's keys run (see the module docstring)."""

    def action_press(self, key_id: str) -> None:
        """A responder key, a tap on its chip or its palette command: the same action."""
        kb = key_by_id(key_id)
        s = self.session
        if kb is None or s is None or s.closed:
            return
        s.on_action(key_action(kb, s), **dict(kb.params))
        self.redraw()

    def action_more_actions(self) -> None:
        if isinstance(self.screen, MoreActions) or self.session is None:
            return
        self.push_screen(MoreActions(all_key_views(self.session)),
                         lambda key_id: self.action_press(key_id) if key_id else None)

    def action_acknowledge(self) -> None:
        self.session.acknowledge()
        self.redraw()

    def action_pause_alarms(self) -> None:
        self.session.pause_alarms(120.0)
        self.redraw()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(trainer=self.simulated))

    def action_handout(self) -> None:
        if isinstance(self.screen, HandoutScreen):
            return
        m = self.model or self.build_model()
        self.push_screen(HandoutScreen(m.guide.handout or ((m.guide.cue,) if m.guide.cue
                                                           else ())))

    def action_hide_cue(self) -> None:
        self._cue_hidden = True
        self.redraw()

    # -- command palette ------------------------------------------------------------------

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for kb in KEYS:
            yield SystemCommand(kb.label, f"responder action (key {kb.shown})",
                                lambda key_id=kb.id: self.action_press(key_id))
        for k in SCREEN_KEYS:
            if k.command and (self.simulated or k.group is not KeyGroup.TRAINER):
                yield SystemCommand(k.command, k.command_help,
                                    lambda action=k.action: self.run_action(action))
