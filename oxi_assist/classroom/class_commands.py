"""The trainer's commands as the class sees them: which values each takes, and what each does
to the class state (the retained message a station that joins late starts from)."""

from __future__ import annotations

from dataclasses import replace

from oxi_assist.classroom.codes import CodeError
from oxi_assist.classroom.messages import COMMAND_VALUES, ClassState, Command, CommandName, Phase


def check_value(name: CommandName, value: float | None) -> None:
    """Raises `CodeError` for a value a command does not take or that is out of its range."""
    limits = COMMAND_VALUES[name]
    if limits is None and value is not None:
        raise CodeError(f"{name.value} takes no value")
    if limits is not None and (value is None or not limits[0] <= value <= limits[1]):
        raise CodeError(f"{name.value}: expected a value within "
                        f"{limits[0]:g}–{limits[1]:g}")


def state_after(st: ClassState, cmd: Command, sent: float) -> ClassState:
    """The class state once an all-stations command is sent (`sent`: the wall clock)."""
    phase, speed = st.phase, st.speed
    if cmd.name is CommandName.START and phase is Phase.LOBBY:
        phase = Phase.RUNNING
    elif cmd.name is CommandName.PAUSE and phase is Phase.RUNNING:
        phase = Phase.PAUSED
    elif cmd.name is CommandName.RESUME and phase is Phase.PAUSED:
        phase = Phase.RUNNING
    elif cmd.name is CommandName.END:
        phase = Phase.ENDED
    elif cmd.name is CommandName.SPEED and cmd.value is not None:
        speed = cmd.value
    return replace(st, phase=phase, speed=speed, cmd_seq=cmd.seq, sent=sent)
