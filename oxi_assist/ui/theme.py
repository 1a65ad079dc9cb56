"""Colours and words for states, chosen so colour is never the only cue.

The palette is Okabe–Ito (safe for the common colour-vision deficiencies); every coloured state
also carries words and a symbol. "No reading" states use a neutral grey or a warning amber,
never the blue that means a normal value.
"""

from __future__ import annotations

from drivers.reading import LinkState
from oxi_assist.monitor.priority import Priority
from oxi_assist.monitor.vitals import BANDS, Band, Quality

BLUE = "#56B4E9"  # sky blue: normal
ORANGE = "#E69F00"  # watch
VERMILLION = "#D55E00"  # low
YELLOW = "#F0E442"  # medium alarms, warnings
GREY = "#999999"  # unknown / no reading
GREEN = "#009E73"  # connected, recording

BAND_STYLE: dict[Band, str] = {
    Band.NORMAL: f"bold {BLUE}",
    Band.WATCH: f"bold {ORANGE}",
    Band.LOW: f"bold {VERMILLION}",
    Band.SEVERE: f"bold reverse {VERMILLION}",
    Band.UNKNOWN: f"bold {GREY}",
}

#: CSS class per band for the big figures (see oxi.tcss).
BAND_CLASS: dict[Band, str] = {b: f"band-{b.value}" for b in Band}

QUALITY_WORDS: dict[Quality, tuple[str, str, str]] = {
    Quality.GOOD: ("▮▮▮", "good", GREEN),
    Quality.POOR: ("▮▯▯", "POOR", YELLOW),
    Quality.NONE: ("▯▯▯", "NONE", GREY),
}

LINK_WORDS: dict[LinkState, tuple[str, str]] = {
    LinkState.CONNECTING: ("◌ connecting", YELLOW),
    LinkState.CONNECTED: ("● connected", GREEN),
    LinkState.STALE: ("◐ DATA OLD", YELLOW),
    LinkState.RECONNECTING: ("◌ RECONNECTING", YELLOW),
    LinkState.LOST: ("✖ LINK LOST", VERMILLION),
    LinkState.CLOSED: ("■ source ended", GREY),
}

PRIORITY_MARK: dict[Priority, str] = {
    Priority.HIGH: "***",
    Priority.MEDIUM: "**",
    Priority.LOW: "*",
}


def band_words(band: Band) -> str:
    info = BANDS[band]
    return f"{info.symbol} {info.words}"


def band_source(band: Band) -> str:
    return BANDS[band].source


def fmt_clock(seconds: float | None) -> str:
    """m:ss (or h:mm:ss); '--:--' for unknown. Negative values clamp to zero."""
    if seconds is None:
        return "--:--"
    s = int(max(0.0, seconds))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m}:{sec:02d}"
