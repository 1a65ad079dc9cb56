"""After the event: what happened, when, and a prompt to look after the responder.

From any `Recording` (a live session recorded natively, or an imported oximeter file) this
computes a summary — time to 911, to first breaths, to first naloxone, doses, lowest SpO2, time
below 90 % and 85 %, alarms — and renders it as text together with the timeline and the ROSE
debrief prompt (DOMAIN.md §1 rule 10, §9). The numbers are for a team debrief and training, not a
clinical record.

Times are seconds from the start of the session (the `session_start` event when there is one,
else the first record in the file).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from drivers import safe_files
from drivers.errors import OxiError
from drivers.formats._base import Recording
from drivers.reading import DOUBTFUL, GAP_REASONS, INVALIDATING
from oxi_assist.actions import Action, log_line, parse_action
from oxi_assist.analysis import analyze
from oxi_assist.analysis_chunks import CHUNK
from oxi_assist.monitor.alarm_config import AlarmConfig
from oxi_assist.monitor.changes import (
    ESCALATED_EVENT,
    PauseChange,
    PauseState,
    change_words,
    from_event,
)
from oxi_assist.monitor.priority import Priority
from oxi_assist.monitor.records import AlarmRecord
from oxi_assist.monitor.vitals import BANDS, Band

#: The BC anchor (BCCDC / Toward the Heart handout) and the labelled non-BC line.
LOW_LINE = 90.0
SEVERE_LINE = 85.0
LOW_SOURCE = BANDS[Band.LOW].source
SEVERE_SOURCE = BANDS[Band.SEVERE].source

_ACTION_NAMES = {a.value for a in Action}


@dataclass(frozen=True)
class TimelineItem:
    t: float  # seconds from the session start
    kind: str  # "action", "trainer", "alarm", "link", "guide", "event"
    text: str
    name: str = ""  # the record's own name (action value, alarm kind, link state)
    state: str = ""  # alarm: raised / cleared / acknowledged …; link: the state


@dataclass
class DebriefSummary:
    path: str
    format: str
    source: str
    device: str
    start_wall: float | None
    t_start: float  # file time of the session start (the zero of every time below)
    duration: float  # seconds from the start to the last record
    interrupted: bool
    cut: str = ""  # why writing stopped early ("write failed: …"), when the file says so
    t_911: float | None = None
    t_breaths: float | None = None
    t_naloxone: float | None = None
    naloxone_times: list[float] = field(default_factory=list)
    # The oximeter numbers are the device's own values as `info` and `analyze` report them
    # (oxi_assist.analysis: valid readings, start-up left out of lowest and pulse range); the
    # smoothed values the screen showed sit beside them.
    lowest_spo2: float | None = None  # the device's lowest valid reading
    lowest_at: float | None = None
    lowest_shown: float | None = None  # the lowest smoothed value (what the screen showed)
    first_below_90: float | None = None  # first device reading below 90 %
    # time below the lines from the device's values (each holds until the next reading)
    time_below_90: float = 0.0
    time_below_85: float = 0.0
    # the same from the smoothed values as the screen showed them (the live Monitor's rule)
    shown_time_below_90: float = 0.0
    shown_time_below_85: float = 0.0
    valid_seconds: float = 0.0  # time covered by a trustworthy SpO2 value
    reading_seconds: float = 0.0  # time covered by readings at all (valid or not)
    #: the time without a trustworthy SpO2 value, by the reason the source gave (see
    #: drivers.reading.GAP_REASONS), longest first
    gap_reasons: dict[str, float] = field(default_factory=dict)
    pulse_min: float | None = None  # the device's values
    pulse_max: float | None = None
    desaturations: int = 0  # counted dips of 3 % or more below the pre-event baseline
    alarms_raised: int = 0  # raised by the alarm rules on the readings (analysis.alarm_counts)
    alarms_by_kind: dict[str, int] = field(default_factory=dict)
    alarms_computed: bool = False  # no alarm record in the file: computed with the live rules
    alarms_recorded: int | None = None  # raises recorded live, when the file has them
    alarms_unlisted: int = 0  # computed data-gap alarms left out of the timeline
    #: the alarms of the timeline as spans, in session time (end None: still active at the end)
    alarm_spans: list[AlarmRecord] = field(default_factory=list)
    timeline: list[TimelineItem] = field(default_factory=list)
    has_responder_events: bool = False

    @property
    def doses(self) -> int:
        return len(self.naloxone_times)


# -- computation --------------------------------------------------------------------------

def _t(o: dict[str, Any]) -> float | None:
    t = o.get("t")
    if isinstance(t, int | float) and not isinstance(t, bool):
        return float(t)
    return None


def _is_responder(e: dict[str, Any]) -> bool:
    by = e.get("by")
    if by is not None:
        return by == "responder"
    return e.get("name") in _ACTION_NAMES


def start_time(rec: Recording) -> float:
    for e in rec.events:
        if e.get("name") == "session_start" and _t(e) is not None:
            return float(e["t"])
    ts = [r.t for r in rec.readings[:1]] + [e.t for e in rec.links[:1]]
    ts += [t for t in (_t(o) for o in rec.alarms[:1] + rec.events[:1]) if t is not None]
    return min(ts) if ts else 0.0


def typical_step(t: np.ndarray, interval: float | None) -> float:
    """The nominal seconds between samples: the file's interval, else the commonest spacing
    (drivers.formats._timeline.typical_interval: the smallest on a tie, a long hole is not it)."""
    if interval:
        return float(interval)
    from drivers.formats._timeline import typical_interval

    return typical_interval(t) if len(t) > 1 else 1.0


@dataclass
class _Readings:
    """What the debrief says of the readings themselves, gathered a chunk at a time (a long
    recording: no array as long as it beyond the reader's own)."""

    seconds: float = 0.0  # time covered by readings at all (sample_weights)
    gaps: dict[str, float] = field(default_factory=dict)  # time without SpO2, by reason
    lowest_at: float | None = None  # file time of the first reading at the lowest value
    first_below: float | None = None  # file time of the first reading below LOW_LINE
    step: float = 1.0
    last_t: float | None = None


def _readings(rec: Recording, lowest: float | None) -> _Readings:
    """The readings' time, gap reasons, and where the lowest and the first low value were
    (a reading's SpO2 counts when it has one and no flag makes it unusable)."""
    c = rec.columns()
    t, spo2, status = c.t, c.spo2, c.status
    n = len(t)
    out = _Readings()
    if n == 0:
        return out
    out.step = step = typical_step(t, rec.interval)
    out.last_t = float(t[-1])
    reasons = (*GAP_REASONS, (DOUBTFUL, "signal poor"))
    gaps = dict.fromkeys([text for _, text in reasons] + ["no SpO2 value"], 0.0)
    seen: set[str] = set()
    for a in range(0, n, CHUNK):
        b = min(a + CHUNK, n)
        w = np.empty(b - a)
        tc = t[a:b + 1]
        np.subtract(tc[1:], tc[:-1], out=w[:len(tc) - 1])
        np.clip(w[:len(tc) - 1], 0.0, 3.0 * step, out=w[:len(tc) - 1])
        if b == n:
            w[-1] = step
        out.seconds += float(w.sum())
        st = status[a:b]
        valid = ((st & int(INVALIDATING)) == 0) & ~np.isnan(spo2[a:b])
        left = ~valid
        for flag, text in reasons:
            hit = left & ((st & int(flag)) != 0)
            if hit.any():
                gaps[text] += float(w[hit].sum())
                seen.add(text)
                left &= ~hit
        if left.any():
            gaps["no SpO2 value"] += float(w[left].sum())
            seen.add("no SpO2 value")
        if lowest is not None and out.lowest_at is None:
            at = np.flatnonzero(valid & (spo2[a:b] == lowest))
            if len(at):
                out.lowest_at = float(t[a + at[0]])
        if out.first_below is None:
            low = np.flatnonzero(valid & (spo2[a:b] < LOW_LINE))
            if len(low):
                out.first_below = float(t[a + low[0]])
    out.gaps = dict(sorted(((k, v) for k, v in gaps.items() if k in seen),
                           key=lambda kv: -kv[1]))
    return out


def summarize(rec: Recording) -> DebriefSummary:
    t0 = start_time(rec)
    s = DebriefSummary(path=rec.path, format=rec.format, source=rec.source,
                       device=rec.device or next((e.device for e in rec.links if e.device), ""),
                       start_wall=rec.start_wall, t_start=t0, duration=0.0,
                       interrupted=rec.interrupted, cut=str(rec.header.get("cut", "")))
    an = analyze(rec)
    dev, sm = an.device, an.smoothed
    rd = _readings(rec, dev.min_spo2)
    if dev.min_spo2 is not None:
        s.lowest_spo2 = dev.min_spo2
        s.lowest_at = None if rd.lowest_at is None else rd.lowest_at - t0
        if rd.first_below is not None:
            s.first_below_90 = rd.first_below - t0
    s.time_below_90 = float(dev.time_below.get(f"{LOW_LINE:g}", 0.0))
    s.time_below_85 = float(dev.time_below.get(f"{SEVERE_LINE:g}", 0.0))
    s.shown_time_below_90 = float(sm.time_below.get(f"{LOW_LINE:g}", 0.0))
    s.shown_time_below_85 = float(sm.time_below.get(f"{SEVERE_LINE:g}", 0.0))
    s.valid_seconds = an.valid_time_s
    s.reading_seconds = rd.seconds
    s.lowest_shown = sm.min_spo2
    s.pulse_min, s.pulse_max = dev.pulse_min, dev.pulse_max
    s.desaturations = sum(1 for d in an.desaturations if d.level == 3.0 and d.counted)
    s.alarms_by_kind = an.alarm_counts
    s.alarms_raised = sum(s.alarms_by_kind.values())
    s.gap_reasons = rd.gaps

    items: list[TimelineItem] = []
    for e in rec.events:
        et = _t(e)
        if et is None:
            continue
        rel = et - t0
        name = str(e.get("name", ""))
        if _is_responder(e):
            s.has_responder_events = True
            params = {k: v for k, v in e.items() if k not in ("k", "t", "name", "by")}
            if name == "911" and s.t_911 is None:
                s.t_911 = rel
            elif name == "breaths" and s.t_breaths is None:
                s.t_breaths = rel
            elif name == "naloxone":
                s.naloxone_times.append(rel)
            items.append(TimelineItem(rel, "action", _action_text(name, params), name=name))
        elif e.get("by") == "trainer":
            items.append(TimelineItem(rel, "trainer", f"trainer: {name.replace('_', ' ')}",
                                      name=name))
        elif name == "guide":
            if e.get("kind") in ("alarm", "action"):
                continue  # the guide's echo of an alarm or action recorded in its own right
            items.append(TimelineItem(rel, "guide", str(e.get("text", "")),
                                      name=str(e.get("kind", "guide"))))
        elif name == "session_summary":
            continue  # bookkeeping for the sessions list
        else:
            change = from_event(e, rel)
            if isinstance(change, PauseChange) and change.state is PauseState.PAUSED:
                continue  # the Monitor's echo of the responder's pause, recorded as its own event
            text = change_words(change) if change is not None else _event_text(name, e)
            items.append(TimelineItem(rel, "event", text, name=name))
    if s.naloxone_times:
        s.t_naloxone = min(s.naloxone_times)
    alarm_records = rec.alarms
    live = any(e.get("name") == "session_start" for e in rec.events)
    if not alarm_records and not live:  # an imported file: what the live rules would say
        alarm_records = _computed_alarms(an.alarms)
        s.alarms_computed = True
        s.alarms_unlisted = sum(1 for a in an.alarms if a.kind in LINK_ALARMS)
        s.alarm_spans = [AlarmRecord(a.kind, a.priority, a.technical, a.onset - t0,
                                     a.start - t0, None if a.end is None else a.end - t0)
                         for a in an.alarms if a.kind not in LINK_ALARMS]
    else:
        s.alarms_recorded = sum(1 for a in alarm_records if a.get("state") == "raised")
        s.alarm_spans = _recorded_spans(alarm_records, t0)
    for a in alarm_records:
        at = _t(a)
        if at is None:
            continue
        kind, state = str(a.get("kind", "?")), str(a.get("state", ""))
        what = str(a.get("message", "")) or kind.replace("_", " ")
        pr = str(a.get("priority", ""))
        if state == "raised":
            text = f"{pr} alarm: {what}" if pr else f"alarm: {what}"
        elif state == "cleared":
            text = f"alarm over: {what}"
        else:
            text = f"alarm {state}: {what}"
        items.append(TimelineItem(at - t0, "alarm", text, name=kind, state=state))
    for le in rec.links:
        text = f"link {le.state.value}" + (f": {le.reason}" if le.reason else "")
        items.append(TimelineItem(le.t - t0, "link", text, name=le.state.value,
                                  state=le.state.value))
    order = {"event": 0, "link": 1, "alarm": 2, "action": 3, "trainer": 4, "guide": 5}
    items.sort(key=lambda i: (i.t, order.get(i.kind, 9)))
    s.timeline = items
    ends = [rd.last_t - t0 + rd.step] if rd.last_t is not None else []
    ends += [i.t for i in items]
    s.duration = max([0.0, *ends])
    return s


#: Alarms about a live link (data stopped, data old, device lost). In a file, missing data is
#: already shown as a gap, and a file sampled less often than these limits (a once-a-minute
#: export) would raise them between every two samples.
LINK_ALARMS = frozenset({"no_data", "stale", "link_lost"})


def _computed_alarms(found: list[AlarmRecord]) -> list[dict[str, Any]]:
    """The analysis's alarm spans as alarm records (raised, and cleared when they ended),
    without the live-link alarms."""
    rules = AlarmConfig.default().rules
    out: list[dict[str, Any]] = []
    for a in found:
        kind = a.kind
        if kind in LINK_ALARMS:
            continue
        rule = rules.get(kind)
        msg = str(getattr(rule, "message", "")) if rule is not None else ""
        pr = a.priority.label
        out.append({"t": a.start, "kind": kind, "priority": pr, "state": "raised",
                    "message": msg, "computed": True})
        if a.end is not None:
            out.append({"t": a.end, "kind": kind, "priority": pr, "state": "cleared",
                        "computed": True})
    return out


def _recorded_spans(alarms: list[dict[str, Any]], t0: float) -> list[AlarmRecord]:
    """Recorded alarm records (raised, cleared, acknowledged …) paired into spans in session
    time, in time order: a raise opens its kind's span unless one is open, a clear ends it;
    one never cleared has no end. A record without a usable time is left out, as on the
    timeline; one naming no known priority takes its rule's ([app-defined] medium if none)."""
    rules = AlarmConfig.default().rules
    timed = sorted(((at, a) for a in alarms if (at := _t(a)) is not None), key=lambda x: x[0])
    going: dict[str, AlarmRecord] = {}
    out: list[AlarmRecord] = []
    for at, a in timed:
        kind, state = str(a.get("kind", "?")), str(a.get("state", ""))
        if state == "raised" and kind not in going:
            rule = rules.get(kind)
            label = str(a.get("priority", "")).upper()
            prio = (Priority[label] if label in Priority.__members__
                    else rule.priority if rule is not None else Priority.MEDIUM)
            onset = a.get("onset")
            onset = float(onset) if isinstance(onset, int | float) else at
            going[kind] = AlarmRecord(kind, prio, bool(a.get("technical", False)),
                                      onset - t0, at - t0)
        elif state == "cleared" and kind in going:
            out.append(replace(going.pop(kind), end=at - t0))
    return out + list(going.values())


_EVENT_WORDS: dict[str, str] = {
    "session_start": "session started", "session_end": "session ended",
    "alarms_acknowledged": "alarms acknowledged", "inject_failed": "simulator refused an action",
    "internal_error": "internal error (the session went on)",
}


def _event_text(name: str, e: dict[str, Any]) -> str:
    if name == "alarms_paused":
        sec = e.get("seconds")
        return "alarms paused" + (f" ({min(float(sec), 120.0):.0f} s)"
                                  if isinstance(sec, int | float) else "")
    if name == ESCALATED_EVENT:
        kind = str(e.get("kind", ""))
        rule = AlarmConfig.default().rules.get(kind)
        what = rule.message if rule is not None else kind.replace("_", " ")
        return f"alarm raised to {e.get('priority', 'high')}: {what} (during the response)"
    return _EVENT_WORDS.get(name, name.replace("_", " "))


def _action_text(name: str, params: dict[str, Any]) -> str:
    """A responder action in the words the live event log used (the action table's)."""
    try:
        action = parse_action(name)
    except OxiError:
        return name.replace("_", " ")
    return log_line(action, params)


# -- ROSE debrief prompt --------------------------------------------------------------------

@dataclass(frozen=True)
class RoseSection:
    letter: str
    title: str
    questions: tuple[str, ...]


#: The questions are worded by oxi-assist [app-defined]; the four headings and the aim (support
#: for peer workers, debriefing as organizational support) are from the ROSE model.
ROSE: tuple[RoseSection, ...] = (
    RoseSection("R", "Recognition", (
        "You responded to an overdose. That is skilled, important work.",
        "What went well? What did you do that helped?",
    )),
    RoseSection("O", "Organizational support", (
        "Who can you debrief with today: a team lead, supervisor or a peer you trust?",
        "Is there anything you need right now (a break, food, someone to talk to)?",
    )),
    RoseSection("S", "Skill development", (
        "Is there a step you would like to practise? Training mode (`oxi-assist sim`) "
        "lets you rehearse with scenarios.",
        "Did the oximeter help or get in the way? Share it at your next team meeting.",
    )),
    RoseSection("E", "Everyone", (
        "Support is for everyone in your organization, every time, not only after a hard "
        "event.",
    )),
)

ROSE_SOURCE = ("ROSE model from the Peer2Peer project (BCCDC with UVic CISUR); Mamdani et al., "
               "BMC Health Services Research 2021, "
               "https://bmchealthservres.biomedcentral.com/articles/10.1186/s12913-021-07241-2")
SUPPORT_LINKS: tuple[tuple[str, str], ...] = (
    ("Toward the Heart: peer engagement and support resources",
     "https://towardtheheart.com/peer-engagement"),
    ("Peer2Peer project (UVic CISUR)",
     "https://www.uvic.ca/research/centres/cisur/projects/active/projects/p2p.php"),
)


def rose_text() -> str:
    out = ["Debrief (ROSE)"]
    for sec in ROSE:
        out.append(f"  {sec.letter} – {sec.title}")
        out += [f"    • {q}" for q in sec.questions]
    out.append("  Where peer workers can find support:")
    out += [f"    {title}: {url}" for title, url in SUPPORT_LINKS]
    out.append(f"  [Questions: app-defined wording. Headings: {ROSE_SOURCE}]")
    return "\n".join(out)


# -- text ---------------------------------------------------------------------------------

def fmt_time(seconds: float | None) -> str:
    """m:ss or h:mm:ss; "—" when unknown."""
    if seconds is None:
        return "—"
    neg = seconds < 0
    s = round(abs(seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    txt = f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"
    return ("-" if neg else "") + txt


def _num(x: float) -> str:
    return f"{x:.0f}" if abs(x - round(x)) < 0.05 else f"{x:.1f}"


def summary_text(s: DebriefSummary) -> str:
    lines: list[str] = [f"oxi-assist debrief — {Path(s.path).name}"]
    when = (time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(s.start_wall))
            if s.start_wall is not None else "start time unknown")
    src = s.source or s.format
    lines.append(f"Session: {when}, {fmt_time(s.duration)} long, source {src}"
                 + (f", device {s.device}" if s.device else ""))
    if s.cut:
        lines.append(f"Cut short: the recording stopped when writing to the disk failed "
                     f"({s.cut.partition(': ')[2] or s.cut}); it is shown up to the last record "
                     "saved. The session itself went on.")
    elif s.interrupted:
        lines.append("Interrupted: the recording has no end record (the program was stopped "
                     "or crashed); it is shown up to the last record saved.")
    lines.append("")
    lines.append("Response (times from the start of the session)")
    if not s.has_responder_events:
        lines.append("  No responder actions in this recording.")
    else:
        lines.append(f"  911 called          {_at(s.t_911)}")
        lines.append(f"  First rescue breaths {_at(s.t_breaths)}")
        lines.append(f"  First naloxone      {_at(s.t_naloxone)}")
        doses = (f"{s.doses} (at {', '.join(fmt_time(t) for t in s.naloxone_times)})"
                 if s.doses else "0")
        lines.append(f"  Naloxone doses      {doses}")
    lines.append("")
    lines.append("Oximeter (a record for debriefing, not a diagnosis)")
    if s.lowest_spo2 is None:
        lines.append("  No trustworthy SpO2 reading in this recording.")
    else:
        shown = (f" (smoothed, as on screen: {_num(s.lowest_shown)} %)"
                 if s.lowest_shown is not None and s.lowest_shown != s.lowest_spo2 else "")
        lines.append(f"  Lowest SpO2         {_num(s.lowest_spo2)} % at {fmt_time(s.lowest_at)}"
                     + shown)
        lines.append(f"  First below 90 %    {_at(s.first_below_90)}")
        lines.append(f"  Time below 90 %     {fmt_time(s.time_below_90)}"
                     f"{_shown(s.shown_time_below_90, s.time_below_90)}   "
                     f"[{LOW_SOURCE}: below 90 % may not be getting enough oxygen]")
        lines.append(f"  Time below 85 %     {fmt_time(s.time_below_85)}"
                     f"{_shown(s.shown_time_below_85, s.time_below_85)}   [{SEVERE_SOURCE}]")
        lines.append(f"  Dips of 3 % or more {s.desaturations}   [a sleep-medicine measure "
                     "(ODI events, 10-90 s below a pre-event baseline), for training; not BC "
                     "guidance]")
    if s.reading_seconds > 0:
        why = ", ".join(f"{fmt_time(sec)} {text}" for text, sec in s.gap_reasons.items())
        lines.append(f"  With a reading      {fmt_time(s.valid_seconds)} of "
                     f"{fmt_time(s.reading_seconds)}" + (f" (no reading: {why})" if why else ""))
    if s.pulse_min is not None and s.pulse_max is not None:
        lo, hi = f"{s.pulse_min:.0f}", f"{s.pulse_max:.0f}"
        lines.append(f"  Pulse               {lo if lo == hi else lo + '–' + hi} bpm")
    kinds = ", ".join(f"{k.replace('_', ' ')} ×{n}" for k, n in sorted(s.alarms_by_kind.items()))
    lines.append(f"Alarms: {s.alarms_raised} raised by the alarm rules on these readings"
                 + (f" ({kinds})" if kinds else ""))
    if s.alarms_computed:
        lines.append("  (this file holds no alarm record: these are the alarms the live alarm "
                     "rules give for its readings"
                     + (f"; the {s.alarms_unlisted} about data gaps (no data, data old) are "
                        "shown as gaps in the timeline, not listed)" if s.alarms_unlisted
                        else ")"))
    elif s.alarms_recorded is not None and s.alarms_recorded != s.alarms_raised:
        lines.append(f"  (the session recorded {s.alarms_recorded}: it ran with other alarm "
                     "settings or a different link; the timeline shows what it recorded)")
    return "\n".join(lines)


def _shown(shown: float, device: float) -> str:
    return "" if round(shown) == round(device) else f" (on screen {fmt_time(shown)})"


def _at(t: float | None) -> str:
    return "not recorded" if t is None else f"at {fmt_time(t)}"


def timeline_text(s: DebriefSummary, *, include_guide: bool = True) -> str:
    out = ["Timeline"]
    if not s.timeline:
        out.append("  (no events recorded)")
    for it in s.timeline:
        if it.kind == "guide" and not include_guide:
            continue
        tag = {"action": "responder", "trainer": "trainer", "alarm": "alarm", "link": "device",
               "guide": "guide", "event": "event"}.get(it.kind, it.kind)
        out.append(f"  {fmt_time(it.t):>8}  {tag:<9}  {it.text}")
    return "\n".join(out)


def debrief_text(rec: Recording, summary: DebriefSummary | None = None) -> str:
    """The whole text export: summary, timeline and the ROSE prompt."""
    s = summary or summarize(rec)
    return "\n\n".join((summary_text(s), timeline_text(s), rose_text())) + "\n"


# -- output files -------------------------------------------------------------------------

def write_output(path: str | os.PathLike[str], text: str, *, force: bool = False,
                 inputs: Iterable[str | os.PathLike[str]] = ()) -> Path:
    """Writes an export as a new file (0600: it describes a person's overdose); an existing
    file only with `force`, never one of `inputs` (see `drivers.safe_files`). One-line OxiError
    on failure."""
    return safe_files.write_output(path, text, force=force, inputs=inputs)
