"""The trainer's controls in a simulated session: pause, speed, scenario and the device
artefacts (finger out, motion) played into the patient model.

Only a simulated source that is `Trainable` (drivers.reading) answers them; on any other
source the keys do nothing. The keys and their words are in the screen's key table
(oxi_assist.ui.screen_keys); the bar that shows them is `ui.trainer.TrainerBar`.
"""

from __future__ import annotations

from drivers.reading import Trainable
from oxi_assist.ui.live_app_base import LiveAppBase
from oxi_assist.ui.trainer import ScenarioPicker, next_speed

#: The device artefacts a trainer turns on and off: the cue sent to turn it on, then off.
ARTEFACT_CUES: dict[str, tuple[str, str]] = {
    "finger": ("finger_out", "finger_in"),
    "motion": ("motion", "motion_off"),
}


class TrainerControls(LiveAppBase):
    """The trainer's key actions (see the module docstring)."""

    #: which artefacts are on now (reset when the scenario changes)
    _artefacts_on: set[str]

    def _trainer(self) -> Trainable | None:
        src = self.source
        return src if self.simulated and isinstance(src, Trainable) else None

    def action_sim_pause(self) -> None:
        src = self._trainer()
        if src is None:
            return
        (src.resume if src.paused else src.pause)()
        self.redraw()

    def action_sim_speed(self, step: int) -> None:
        src = self._trainer()
        if src is None:
            return
        src.set_speed(next_speed(float(src.speed), int(step)))
        self.redraw()

    def _toggle_artefact(self, name: str) -> None:
        if self._trainer() is None:
            return
        on, off = ARTEFACT_CUES[name]
        now_on = name not in self._artefacts_on
        (self._artefacts_on.add if now_on else self._artefacts_on.discard)(name)
        self.session.on_action(on if now_on else off)
        self.redraw()

    def action_finger(self) -> None:
        self._toggle_artefact("finger")

    def action_motion(self) -> None:
        self._toggle_artefact("motion")

    def action_pick_scenario(self) -> None:
        if not self.simulated or not self.scenarios or self._open_source is None:
            return
        current = self.uri.partition(":")[2].partition("?")[0]
        self.push_screen(ScenarioPicker(self.scenarios, current), self._switch_scenario)

    def _switch_scenario(self, name: str | None) -> None:
        if not name or self._open_source is None:
            return
        old = self.session
        old.stop()
        old.close("trainer switched scenario")
        self.uri = self._scenario_uri(name)
        self._artefacts_on.clear()
        trainer = self._trainer()
        new = self._open_source(self.uri, self.clock)
        if trainer is not None and isinstance(new, Trainable):
            new.set_speed(float(trainer.speed))  # the trainer keeps the speed they chose
        self._start(new)
        self.redraw()
