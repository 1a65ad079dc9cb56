"""What the Monitor tells everything downstream (guide, UI, recorder) about the person's
readings. Only the two BC anchors are BC guidance; every other band says where it comes from
(DOMAIN.md §1 rule 4, §6.2)."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from drivers.reading import LinkState, Status
from oxi_assist.monitor.changes import Change
from oxi_assist.monitor.priority import Priority


class Band(enum.Enum):
    """SpO2 band. `UNKNOWN` whenever there is no trustworthy value: never shown as OK."""

    NORMAL = "normal"  # 95–100 %            [BC-official, BCCDC/TTH handout]
    WATCH = "watch"  # 90–94 %               [app-defined: between the two BC anchors]
    LOW = "low"  # below 90 %                [BC-official: may not be getting enough oxygen]
    SEVERE = "severe"  # below 85 %          [other-jurisdiction: Ontario base hospitals 2020]
    UNKNOWN = "unknown"  # no reading, poor signal or stale data


@dataclass(frozen=True)
class BandInfo:
    words: str  # what the screen says
    symbol: str  # so colour is never the only cue
    source: str  # where the number comes from


BANDS: dict[Band, BandInfo] = {
    Band.NORMAL: BandInfo("Normal range (95–100%)", "✓", "BC (BCCDC/Toward the Heart)"),
    Band.WATCH: BandInfo("Watch closely (90–94%)", "!", "app-defined"),
    Band.LOW: BandInfo("Low oxygen (below 90%)", "▼", "BC (BCCDC/Toward the Heart)"),
    Band.SEVERE: BandInfo("Very low (below 85%)", "▼▼",
                          "other jurisdiction (Ontario paramedics, 2020)"),
    Band.UNKNOWN: BandInfo("NO READING", "?", "no trustworthy value"),
}


class Quality(enum.Enum):
    GOOD = "good"
    POOR = "poor"  # values present but doubtful (low perfusion, motion, device says so)
    NONE = "none"  # no usable value at all (finger out, searching, lost, stale)


@dataclass(frozen=True)
class Alarm:
    """One alarm condition as it stands now."""

    kind: str  # e.g. "spo2_low", "spo2_severe", "pulse_low", "no_data", "finger_out", "link_lost"
    priority: Priority
    message: str
    since: float  # when the condition began (source clock)
    technical: bool = False  # about the equipment, not the person
    acknowledged: bool = False
    latched: bool = False  # the condition cleared but the alarm waits for acknowledgement


@dataclass(frozen=True)
class VitalsState:
    t: float
    spo2: float | None  # smoothed; None when there is no trustworthy value
    pulse: float | None
    pi: float | None
    band: Band
    quality: Quality
    trend: float | None  # SpO2 %/min over the recent window; None when unknown
    alarms: tuple[Alarm, ...] = ()  # active, highest priority first
    link: LinkState = LinkState.CONNECTED
    stale: bool = False  # last valid value older than the stale limit
    last_valid_t: float | None = None
    flags: Status = Status.NONE
    paused_until: float | None = None  # alarm audio/visual pause end, at most 2 min ahead
    desat_count: int = 0
    #: what changed at this update (alarms, desaturation events, the alarm pause), as typed
    #: records: see oxi_assist.monitor.changes
    changes: tuple[Change, ...] = field(default=())

    @property
    def top_alarm(self) -> Alarm | None:
        return self.alarms[0] if self.alarms else None
