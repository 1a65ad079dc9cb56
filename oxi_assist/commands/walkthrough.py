"""`oxi-assist walkthrough SCENARIO --actions "2m:911,2m10s:breaths,3m:naloxone"`

Plays a simulated scenario headless on a virtual clock, with scripted responder actions that
reach both the guide and the patient model, through the same Monitor the live screen uses, and
prints the timeline: one line per change of step, prompt, alarm or SpO2 band. It is how a
trainer (or a test) checks what the guidance says at each moment of a response.

A prompt that comes back within `REPEAT_QUIET_S` of going away is not printed again: an SpO2
hovering at a threshold would otherwise fill the screen. The guide's own event log (what a
session records) is not thinned this way.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import dataclass, field

from drivers.errors import OxiError
from oxi_assist import guidance_schema
from oxi_assist.actions import Action, ScriptedAction, parse_script, parse_time
from oxi_assist.commands._numbers import seed as seed_type
from oxi_assist.guide import Guide, GuideState
from oxi_assist.vitals import BANDS, Band, VitalsState

REPEAT_QUIET_S = 60.0  # app-defined: display thinning only


@dataclass(frozen=True)
class TimelineLine:
    t: float
    kind: str  # "STEP", "ACTION", "PROMPT", "WARN", "ALARM", "SPO2", "END"
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
                    duration: float | None = None) -> Walkthrough:
    """Plays `scenario` for `duration` seconds (default: the scenario's own) with the script."""
    try:
        from oxi_assist.commands.simulate import inject_for
        from oxi_assist.signal import Monitor
        from simulators.scenario import load_scenario
        from simulators.simulator import Simulator
    except ImportError as e:  # pragma: no cover - only in a partial install
        raise OxiError(f"the simulator is not available in this build ({e})") from None

    protocol = guidance_schema.load(guidance)
    sc = load_scenario(scenario)
    actions = parse_script(script) if isinstance(script, str) else sorted(script,
                                                                          key=lambda a: a.t)
    end = duration if duration is not None else sc.duration
    for a in actions:
        if a.action is Action.END:
            end = min(end, a.t)
    sim = Simulator(sc, seed=seed)
    monitor = Monitor()
    guide = Guide(protocol)
    result = Walkthrough()
    diff = _Differ(result.lines)
    diff.guide(0.0, guide.state)
    pending = [a for a in actions if a.t <= end]
    i = 0
    total = math.ceil(end)
    for s in range(total + 1):
        while i < len(pending) and pending[i].t < s + 1:
            a = pending[i]
            i += 1
            st = guide.on_action(a.action, t=a.t, **a.params)
            extra = "".join(f" {k}={v}" for k, v in a.params.items())
            result.lines.append(TimelineLine(a.t, "ACTION", a.action.value + extra))
            inj = inject_for(a)
            if inj is not None:
                try:
                    sim.schedule(max(a.t, float(sim.t)), inj[0], **inj[1])
                except ValueError as e:
                    raise OxiError(f"bad action at {_mmss(a.t)}: {e}") from None
            diff.guide(a.t, st)
        if s == total:
            break
        block = sim.step(1)
        t = float(s + 1)
        for r in block.readings():
            v = monitor.update(r)
            diff.vitals(r.t, v)
        v = monitor.tick(t)
        result.vitals.append(v)
        diff.vitals(t, v)
        st = guide.on_vitals(v, t=t)
        diff.guide(t, st)
        result.states.append(st)
    result.state = guide.state
    final = result.state
    result.lines.append(TimelineLine(
        final.t, "END", f"step {final.step.id}; naloxone doses {final.doses}; "
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
                        duration=duration)
    for line in w.lines:
        print(line.format())
    return 0
