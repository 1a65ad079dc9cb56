"""`oxi-assist walkthrough SCENARIO --actions "2m:911,2m10s:breaths,3m:naloxone"`

Plays a simulated scenario headless on a virtual clock, with scripted responder actions that
reach both the guide and the patient model, through the same Session, Monitor and Guide the
live screen uses (`oxi_assist.play`), and prints the timeline: one line per change of step,
prompt, alarm or SpO2 band. It is how a trainer (or a test) checks what the guidance says at
each moment of a response. `--cues` plays a trainer's device artefacts (finger out, dropout,
the device lost) at given times.

A prompt that comes back within `REPEAT_QUIET_S` of going away is not printed again: an SpO2
hovering at a threshold would otherwise fill the screen. The guide's own event log (what a
session records) is not thinned this way.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field

from drivers.errors import OxiError
from oxi_assist.actions import Action, ScriptedAction, parse_script, parse_time
from oxi_assist.commands._numbers import seed as seed_type
from oxi_assist.guide.engine import GuideState
from oxi_assist.monitor.vitals import BANDS, Band, VitalsState
from oxi_assist.play import parse_cues, play, response_session
from simulators.scenario import load_scenario

REPEAT_QUIET_S = 60.0  # app-defined: display thinning only


@dataclass(frozen=True)
class TimelineLine:
    t: float
    kind: str  # "STEP", "ACTION", "CUE", "PROMPT", "WARN", "ALARM", "SPO2", "END"
    text: str

    def format(self) -> str:
        return f"{_mmss(self.t)}  {self.kind:<6} {self.text}"


@dataclass
class Walkthrough:
    lines: list[TimelineLine] = field(default_factory=list)
    state: GuideState | None = None
    vitals: list[VitalsState] = field(default_factory=list)
    states: list[GuideState] = field(default_factory=list)  # one per simulated second

    def kinds(self, kind: str) -> list[TimelineLine]:
        return [ln for ln in self.lines if ln.kind == kind]


def _mmss(t: float) -> str:
    s = max(0, int(t))
    return f"{s // 60:02d}:{s % 60:02d}"


class _Differ:
    """Turns successive guide and vitals states into timeline lines for what changed."""

    def __init__(self, out: list[TimelineLine]) -> None:
        self.out = out
        self.step = ""
        self.prompts: dict[str, float] = {}  # prompt id → last time seen active
        self.printed: dict[str, float] = {}
        self.alarms: set[str] = set()
        self.band: Band | None = None

    def guide(self, t: float, s: GuideState) -> None:
        if s.step.id != self.step:
            self.step = s.step.id
            labels = "+".join(s.step.labels)
            self.out.append(TimelineLine(t, "STEP", f"{s.step.id}: {s.step.title} [{labels}]"))
        for p in (*s.warnings, *s.suggestions):
            seen = self.prompts.get(p.id)
            fresh = seen is None or t - seen > 1.5  # not active at the previous update
            if fresh and t - self.printed.get(p.id, -math.inf) > REPEAT_QUIET_S:
                kind = "WARN" if p.kind == "warning" else "PROMPT"
                self.out.append(TimelineLine(t, kind, p.text))
                self.printed[p.id] = t
            if fresh and p.id in self.printed:
                self.printed[p.id] = max(self.printed[p.id], t)
            self.prompts[p.id] = t

    def vitals(self, t: float, v: VitalsState) -> None:
        kinds = {a.kind: a for a in v.alarms}
        for k, a in kinds.items():
            if k not in self.alarms:
                self.out.append(TimelineLine(t, "ALARM", f"{a.priority.label} {k}: {a.message}"))
        for k in self.alarms - set(kinds):
            self.out.append(TimelineLine(t, "ALARM", f"cleared {k}"))
        self.alarms = set(kinds)
        if v.band is not self.band:
            self.band = v.band
            key = f"band:{v.band.value}"
            if t - self.printed.get(key, -math.inf) <= REPEAT_QUIET_S:
                self.printed[key] = t
                return
            self.printed[key] = t
            value = (f"{math.floor(v.spo2)}% " if v.spo2 is not None
                     and v.band is not Band.UNKNOWN else "")
            info = BANDS[v.band]
            self.out.append(TimelineLine(t, "SPO2", f"{value}{info.words} ({info.source})"))


def run_walkthrough(scenario: str, script: list[ScriptedAction] | str, *,
                    guidance: str | None = None, seed: int = 0,
                    duration: float | None = None, cues: str = "") -> Walkthrough:
    """Plays `scenario` for `duration` seconds (default: the scenario's own) with the script,
    through the same Session, Monitor and Guide as the live screen (`oxi_assist.play`)."""
    actions = parse_script(script) if isinstance(script, str) else sorted(script,
                                                                          key=lambda a: a.t)
    cue_list = parse_cues(cues)
    sc = load_scenario(scenario)
    end = duration if duration is not None else sc.duration
    for a in actions:
        if a.action is Action.END:
            end = min(end, a.t)
    session, source = response_session(scenario, guidance=guidance, seed=seed, duration=end)
    result = Walkthrough()
    diff = _Differ(result.lines)
    if session.guide_state is not None:
        diff.guide(0.0, session.guide_state)
    played = play(session, source, actions, end, cues=cue_list)
    for a in played.actions:
        extra = "".join(f" {k}={v}" for k, v in a.params.items())
        result.lines.append(TimelineLine(a.t, "ACTION", a.action.value + extra))
    for c in played.cues:
        extra = "".join(f" {k}={v}" for k, v in c.params.items())
        result.lines.append(TimelineLine(c.t, "CUE", c.name + extra))
    for smp in played.samples:
        if smp.vitals is not None:
            result.vitals.append(smp.vitals)
            diff.vitals(smp.t, smp.vitals)
        st = smp.state
        if st is None:
            continue
        diff.guide(smp.t, st)
        result.states.append(st)
    result.state = played.state
    final = result.state
    if final is not None:
        result.lines.append(TimelineLine(
            end, "END", f"step {final.step.id}; naloxone doses {final.doses}; "
                        f"911 {'called' if final.called_911 else 'NOT called'}"))
    result.lines.sort(key=lambda ln: ln.t)
    return result


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "walkthrough", help="play a scenario headless with scripted responder actions",
        description="Play a simulated scenario on a virtual clock with scripted responder "
                    "actions (they reach the guide and the simulated patient) and print the "
                    "timeline of guidance steps, prompts and alarms.")
    p.add_argument("scenario", help="a scenario name (see `oxi-assist scenarios`) or a file")
    p.add_argument("--actions", default="",
                   help='responder script, e.g. "1m:911,2m:breaths,2m30s:naloxone:route=nasal"'
                        " (actions: " + ", ".join(a.value for a in Action) + ")")
    p.add_argument("--cues", default="",
                   help='trainer cues, e.g. "3m:finger_out:seconds=60,5m:link_lost" (cues: '
                        'finger_out, finger_in, motion, motion_off, low_perfusion, dropout, '
                        'link_lost, link_back)')
    p.add_argument("--guidance", default=None,
                   help="guidance file or built-in name (default: bc-save-me)")
    p.add_argument("--seed", default="0", help="random seed (whole number ≥ 0)")
    p.add_argument("--duration", default=None, help="length, e.g. 600, 15m (default: scenario)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        seed = seed_type(args.seed)
    except argparse.ArgumentTypeError as e:
        raise OxiError(f"bad --seed {args.seed!r}: {e}") from None
    duration = None
    if args.duration is not None:
        duration = parse_time(args.duration)
        if not 1 <= duration <= 48 * 3600:
            raise OxiError(f"bad --duration {args.duration!r}: expected 1 s to 48 h")
    w = run_walkthrough(args.scenario, args.actions, guidance=args.guidance, seed=seed,
                        duration=duration, cues=args.cues)
    for line in w.lines:
        print(line.format())
    return 0
