"""The class debrief written out: a side-by-side SVG chart, and one safe way to write any export.

`write_new` is the one place an export touches the disk: a new file created 0600 (it tells
about trainees' responses), never over an existing file unless `force`, and with `force`
replaced whole (written beside it, then renamed), never through a link.

The SVG draws each station as one lane on a shared time axis (each station's own patient time):
the SAVE ME steps as a band of labelled segments, the trainee's actions as labelled marks
(911, breaths, naloxone doses …) and the deviations from the guidance as red marks with their
words; under the lanes, the table of times to each action. Every mark has a text label and a
`<title>`, so colour is never the only cue (the style of `oxi_assist.timeline_svg`).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

from drivers.errors import OxiError
from oxi_assist.actions import Action
from oxi_assist.classroom.debrief import ACTION_COLUMNS, ClassDebrief, StationDebrief
from oxi_assist.debrief import fmt_time
from oxi_assist.timeline_svg import COL_ACTION, COL_ALARM, COL_GRID, COL_TRAINER, _nice_step, _text

WIDTH = 1000
LEFT, RIGHT = 150, 24
LANE_H = 78
TOP = 70
#: marks drawn per lane (the trainee's key presses that tell the story)
MARKED = {a.value: word for a, word in {
    Action.UNRESPONSIVE: "no response", Action.CALLED_911: "911", Action.BREATHS_START: "breaths",
    Action.NALOXONE: "naloxone", Action.BREATHING_NORMAL: "breathing", Action.AWAKE: "awake",
    Action.COMPRESSIONS_START: "CPR", Action.EMS_ARRIVED: "EMS"}.items()}
#: the table's headings
HEADINGS = {"unresponsive": "no response", "breathing_normal": "breathing"}
STEP_FILLS = ("#ddf4ff", "#fff8c5", "#ffebe9", "#dafbe1", "#fbefff", "#eaeef2")


def write_new(path: str | os.PathLike[str], text: str, *, force: bool = False) -> Path:
    """Writes `text` to a new file, mode 0600. An existing file is an `OxiError` unless
    `force`; with `force` it is replaced in one step. A bad folder is a one-line error."""
    p = Path(path)
    if p.is_dir():
        raise OxiError(f"{p}: is a folder; give a file name to write")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise OxiError(f"{p}: folder {parent} does not exist")
    data = text.encode("utf-8")
    if not force:
        try:
            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0),
                         0o600)
        except FileExistsError:
            raise OxiError(f"{p} exists; use --force to replace it") from None
        except OSError as e:
            raise OxiError(f"{p}: cannot write ({e.strerror or e})") from None
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return p
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", dir=parent)  # created 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, p)
    except OSError as e:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OxiError(f"{p}: cannot write ({e.strerror or e})") from None
    return p


def _lane(s: StationDebrief, y: float, x0: float, k: float, t_end: float) -> list[str]:
    el = [_text(LEFT - 10, y + 18, s.name[:18], size=13, anchor="end", weight="bold"),
          _text(LEFT - 10, y + 34, f"{s.doses} dose{'s' if s.doses != 1 else ''}", size=10,
                anchor="end", fill="#57606a")]
    steps = [e for e in s.timeline if e.kind == "step"]
    for i, e in enumerate(steps):
        end = steps[i + 1].t if i + 1 < len(steps) else max(s.end_t, e.t)
        x, w = x0 + e.t * k, max(1.0, (end - e.t) * k)
        label = e.text.removeprefix("step: ")
        el.append(f'<rect x="{x:.1f}" y="{y + 4:.1f}" width="{w:.1f}" height="18" '
                  f'fill="{STEP_FILLS[i % len(STEP_FILLS)]}" stroke="{COL_GRID}">'
                  f"<title>{escape(fmt_time(e.t) + ' ' + label)}</title></rect>")
        if w > 40:
            el.append(_text(x + 3, y + 17, label[: int(w / 6)], size=10))
    row = 0
    for e in s.timeline:
        if e.kind != "action":
            continue
        name = MARKED.get(e.name) or e.text.split(" (")[0][:12]
        x = x0 + e.t * k
        ty = y + 38 + 11 * (row % 3)
        row += 1
        el.append(f'<line x1="{x:.1f}" y1="{y + 24:.1f}" x2="{x:.1f}" y2="{ty - 8:.1f}" '
                  f'stroke="{COL_ACTION}" stroke-width="1.5"><title>{escape(fmt_time(e.t))} '
                  f"{escape(e.text)}</title></line>")
        el.append(_text(x + 2, ty, name, size=10, fill=COL_ACTION, halo=True))
    for d in s.deviations:
        x = x0 + min(d.t, t_end) * k
        el.append(f'<path d="M{x - 5:.1f},{y + 72:.1f} L{x + 5:.1f},{y + 72:.1f} '
                  f'L{x:.1f},{y + 63:.1f} Z" fill="{COL_ALARM}"><title>{escape(fmt_time(d.t))} '
                  f"{escape(d.text)} [{escape(d.source)}]</title></path>")
        el.append(_text(x + 7, y + 72, d.rule.replace("_", " "), size=10, fill=COL_ALARM,
                        halo=True))
    return el


def render_class_svg(cd: ClassDebrief) -> str:
    """The class debrief chart (see the module docstring)."""
    stations = cd.stations
    t_end = max([s.end_t for s in stations] + [60.0])
    x0, x1 = LEFT, WIDTH - RIGHT
    k = (x1 - x0) / t_end
    table_top = TOP + LANE_H * max(1, len(stations)) + 40
    height = table_top + 22 * (len(stations) + 1) + 60
    count = f"{len(stations)} station{'' if len(stations) == 1 else 's'}"
    title = f"Class debrief{': ' + cd.title if cd.title else ''} — {count}"
    el = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
          f'viewBox="0 0 {WIDTH} {height}" font-family="Helvetica, Arial, sans-serif">',
          f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>',
          _text(LEFT, 26, title, size=16, weight="bold"),
          _text(LEFT, 46, "Each lane: one station on its own patient's time. Bands: SAVE ME "
                "steps. Green: the trainee's actions. Red ▲: deviations from the guidance.",
                size=11, fill="#57606a")]
    step = _nice_step(t_end)
    t = 0.0
    axis_y = TOP + LANE_H * max(1, len(stations))
    while t <= t_end + 1e-9:
        x = x0 + t * k
        el.append(f'<line x1="{x:.1f}" y1="{TOP - 6}" x2="{x:.1f}" y2="{axis_y:.1f}" '
                  f'stroke="{COL_GRID}" stroke-width="0.5"/>')
        el.append(_text(x, axis_y + 14, fmt_time(t), size=10, anchor="middle",
                        fill=COL_TRAINER))
        t += step
    for i, s in enumerate(stations):
        el += _lane(s, TOP + i * LANE_H, x0, k, t_end)
    if not stations:
        el.append(_text(x0, TOP + 30, "No station sent anything in this class.", size=12))
    cols = ["station", *(HEADINGS.get(a.value, a.value) for a in ACTION_COLUMNS), "doses",
            "deviations"]
    xs = [24, 180, 260, 340, 420, 500, 590, 660, 720]
    for x, c in zip(xs, cols, strict=True):
        el.append(_text(x, table_top, c, size=11, weight="bold"))
    for r, s in enumerate(stations, 1):
        y = table_top + 22 * r
        cells = [s.name[:20], *(fmt_time(s.time_to(a)) for a in ACTION_COLUMNS), str(s.doses),
                 str(len(s.deviations))]
        for x, c in zip(xs, cells, strict=True):
            el.append(_text(x, y, c, size=11))
    el.append(_text(24, height - 16, "Times from each station's start. Deviation rules and "
                    "their sources: see the text export (the 2-minute 911 rule is app-defined).",
                    size=10, fill="#57606a"))
    el.append("</svg>")
    return "\n".join(el) + "\n"
