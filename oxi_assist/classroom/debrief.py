"""The class debrief: per station, the SAVE ME timeline, times to each action and deviations
from the guidance; as text and CSV (the console draws it side by side later).

Deviations checked, in each station's own session time (seconds since its patient started):

- `second_dose_early`: a naloxone dose less than 3 minutes after the one before. BC guidance:
  naloxone usually works in 3–5 minutes; give another dose if the person is still not breathing
  normally after about 5 (gov.bc.ca, "Responding to an overdose",
  https://www2.gov.bc.ca/gov/content/overdose/what-you-need-to-know/responding-to-an-overdose).
- `breaths_stopped`: rescue breaths stopped while the person was not breathing normally (the
  last answer was not "breathing normally", and they were not awake). BC: keep giving breaths
  (same page; Toward the Heart, https://towardtheheart.com/opioid-od-awareness).
- `no_911`: no 911 call within `NO_911_MIN` minutes of "no response". BC says to call 911 as
  early as possible; the number of minutes is ours (app-defined), and the text says so.
- `naloxone_breathing`: naloxone given after the trainee said the person breathes normally.
  The goal of naloxone is breathing, not wakefulness (BCEHS prolonged sedation guidance,
  https://handbook.bcehs.ca/clinical-resources/toxic-drug-crisis/resources-for-clinicians/prolonged-sedation).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from drivers.errors import FormatError
from oxi_assist.actions import Action
from oxi_assist.classroom.messages import EventKind, MessageError, StationEvent
from oxi_assist.debrief import fmt_time, rose_text

#: Minutes from "no response" to the 911 call before the debrief flags it [app-defined].
NO_911_MIN = 2.0
#: BC's lower bound of the 3–5 minute window before another dose.
REDOSE_MIN_S = 180.0

RULE_SOURCES: dict[str, str] = {
    "second_dose_early": "BC guidance (gov.bc.ca): naloxone works in 3–5 min",
    "breaths_stopped": "BC guidance (gov.bc.ca, Toward the Heart): keep giving breaths",
    "no_911": f"BC: call 911 as early as possible; {NO_911_MIN:g} min is app-defined",
    "naloxone_breathing": "BCEHS: the goal is breathing, not wakefulness",
}


@dataclass(frozen=True)
class Deviation:
    t: float
    rule: str
    text: str

    @property
    def source(self) -> str:
        return RULE_SOURCES[self.rule]


@dataclass(frozen=True)
class TimelineEntry:
    t: float
    kind: str  # "action", "step", "alarm", "command", "session"
    text: str
    name: str = ""  # the action's or step's name (e.g. "naloxone"), for charts


@dataclass
class StationDebrief:
    station: str
    name: str
    timeline: list[TimelineEntry] = field(default_factory=list)
    first: dict[str, float] = field(default_factory=dict)  # action value → first time
    naloxone_times: list[float] = field(default_factory=list)
    deviations: list[Deviation] = field(default_factory=list)
    end_t: float = 0.0

    @property
    def doses(self) -> int:
        return len(self.naloxone_times)

    def time_to(self, action: Action) -> float | None:
        return self.first.get(action.value)


@dataclass
class ClassDebrief:
    stations: list[StationDebrief]
    title: str = ""


def station_debrief(station: str, name: str, events: list[StationEvent]) -> StationDebrief:
    """One station's debrief from its events (in sequence order)."""
    d = StationDebrief(station, name)
    breathing = "unknown"
    awake = False
    no_response: float | None = None
    called: float | None = None
    for e in sorted(events, key=lambda e: e.seq):
        d.end_t = max(d.end_t, e.t)
        if e.kind is EventKind.ALARM:
            state = e.params.get("state", "")
            d.timeline.append(TimelineEntry(e.t, "alarm", f"alarm {e.name} {state}".strip()))
            continue
        if e.kind is EventKind.STEP:
            d.timeline.append(TimelineEntry(e.t, "step", f"step: {e.text or e.name}"))
            continue
        if e.kind in (EventKind.COMMAND, EventKind.SESSION):
            d.timeline.append(TimelineEntry(e.t, e.kind.value, e.text or e.name))
            continue
        d.timeline.append(TimelineEntry(e.t, "action", e.text or e.name, e.name))
        d.first.setdefault(e.name, e.t)
        if e.name == Action.UNRESPONSIVE.value and no_response is None:
            no_response = e.t
        elif e.name == Action.CALLED_911.value and called is None:
            called = e.t
        elif e.name == Action.BREATHING_NORMAL.value:
            breathing = "normal"
        elif e.name == Action.BREATHING_NOT_NORMAL.value:
            breathing = "not_normal"
        elif e.name == Action.AWAKE.value:
            awake = True
        elif e.name == Action.UNRESPONSIVE.value:
            awake = False
        elif e.name == Action.BREATHS_STOP.value and breathing != "normal" and not awake:
            d.deviations.append(Deviation(
                e.t, "breaths_stopped", "breaths stopped while not breathing normally"))
        elif e.name == Action.NALOXONE.value:
            n = len(d.naloxone_times) + 1
            if d.naloxone_times and e.t - d.naloxone_times[-1] < REDOSE_MIN_S:
                d.deviations.append(Deviation(
                    e.t, "second_dose_early",
                    f"naloxone dose {n} {fmt_time(e.t - d.naloxone_times[-1])} after dose "
                    f"{n - 1} (before 3 min)"))
            if breathing == "normal":
                d.deviations.append(Deviation(
                    e.t, "naloxone_breathing",
                    f"naloxone dose {n} after 'breathing normally'"))
            d.naloxone_times.append(e.t)
    if no_response is not None:
        limit = no_response + NO_911_MIN * 60
        if (called is None and d.end_t >= limit) or (called is not None and called > limit):
            d.deviations.append(Deviation(
                limit, "no_911",
                f"no 911 call within {NO_911_MIN:g} min of 'no response' [app-defined]"))
    d.deviations.sort(key=lambda x: x.t)
    return d


def class_debrief(stations: dict[str, tuple[str, list[StationEvent]]],
                  title: str = "") -> ClassDebrief:
    """Every station's debrief; `stations` maps id → (name, events)."""
    return ClassDebrief([station_debrief(sid, name, evs)
                         for sid, (name, evs) in sorted(stations.items())], title)


def load_record(path: str | Path) -> ClassDebrief:
    """The debrief of a class record file (`oxi_assist.classroom.record`). A line that is not
    a record line raises `FormatError` naming the line."""
    names: dict[str, str] = {}
    events: dict[str, dict[int, StationEvent]] = {}
    title = ""
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                o = json.loads(line)
            except ValueError as e:
                raise FormatError(path, f"not JSON ({e})", line=n) from None
            if not isinstance(o, dict):
                raise FormatError(path, "not a record line", line=n)
            if o.get("k") == "class":
                title = str(o.get("scenario", ""))
            if o.get("k") != "event":
                continue
            sid = str(o.get("station", ""))
            try:
                ev = StationEvent.from_dict(o)
            except MessageError as e:
                raise FormatError(path, str(e), line=n) from None
            names[sid] = str(o.get("station_name", sid))
            events.setdefault(sid, {})[ev.seq] = ev
    return class_debrief({sid: (names[sid], list(evs.values())) for sid, evs in events.items()},
                         title)


ACTION_COLUMNS = (Action.UNRESPONSIVE, Action.CALLED_911, Action.BREATHS_START,
                  Action.NALOXONE, Action.BREATHING_NORMAL, Action.AWAKE)


def to_text(cd: ClassDebrief) -> str:
    out = [f"Class debrief{': ' + cd.title if cd.title else ''} ({len(cd.stations)} stations)",
           "Times are from each station's start (its patient's time)."]
    for s in cd.stations:
        out += ["", f"== {s.name} ({s.station})",
                "  " + ", ".join(f"{a.value} {fmt_time(s.time_to(a))}"
                                 for a in ACTION_COLUMNS),
                f"  naloxone doses: {s.doses}"
                + (f" at {', '.join(fmt_time(t) for t in s.naloxone_times)}"
                   if s.naloxone_times else "")]
        if s.deviations:
            out.append("  Deviations from the guidance:")
            out += [f"    {fmt_time(d.t)}  {d.text}  [{d.source}]" for d in s.deviations]
        else:
            out.append("  Deviations from the guidance: none found")
        out.append("  Timeline:")
        out += [f"    {fmt_time(e.t)}  {e.kind:<7} {e.text}" for e in s.timeline
                if e.kind != "command"]
    out += ["", rose_text()]
    return "\n".join(out) + "\n"


def to_csv(cd: ClassDebrief) -> str:
    """One row per station: times to each action (s), doses, deviations."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["station", "name", *(f"t_{a.value}_s" for a in ACTION_COLUMNS), "doses",
                "naloxone_times_s", "deviations"])
    for s in cd.stations:
        def cell(x: float | None) -> str:
            return "" if x is None else f"{x:.1f}"

        w.writerow([s.station, s.name, *(cell(s.time_to(a)) for a in ACTION_COLUMNS), s.doses,
                    " ".join(f"{t:.1f}" for t in s.naloxone_times),
                    "; ".join(f"{d.t:.0f}s {d.rule}" for d in s.deviations)])
    return buf.getvalue()
