"""Class debrief exports: a new file 0600, never over one that is there unless forced (then
replaced whole), never through a link; the SVG has each station's lane with its actions,
steps and deviations, labelled in words."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from drivers.errors import OxiError
from oxi_assist.classroom.debrief import class_debrief
from oxi_assist.classroom.exports import render_class_svg, write_new
from oxi_assist.classroom.messages import EventKind, StationEvent


def ev(seq: int, t: float, kind: EventKind, name: str, text: str = "",
       **params: object) -> StationEvent:
    return StationEvent(seq, t, kind, name, text, dict(params))  # type: ignore[arg-type]


def test_write_new_is_0600_and_never_overwrites(tmp_path: Path) -> None:
    p = write_new(tmp_path / "a.txt", "one")
    assert p.read_text() == "one" and stat.S_IMODE(os.stat(p).st_mode) == 0o600
    with pytest.raises(OxiError, match="exists; use --force"):
        write_new(p, "two")
    assert p.read_text() == "one"
    os.chmod(p, 0o644)
    write_new(p, "three", force=True)
    assert p.read_text() == "three" and stat.S_IMODE(os.stat(p).st_mode) == 0o600
    assert sorted(x.name for x in tmp_path.iterdir()) == ["a.txt"]  # no temporary left


def test_write_new_refuses_a_link_and_bad_folders(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere.txt"
    target.write_text("keep")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    with pytest.raises(OxiError):
        write_new(link, "x")
    assert target.read_text() == "keep"
    with pytest.raises(OxiError, match="does not exist"):
        write_new(tmp_path / "no" / "x.txt", "x")
    with pytest.raises(OxiError, match="is a folder"):
        write_new(tmp_path, "x")


def test_svg_lanes_actions_steps_and_deviations() -> None:
    ann = [ev(1, 0.0, EventKind.SESSION, "started", "opioid-overdose seed 0"),
           ev(2, 2.0, EventKind.STEP, "stimulate", "S: Stimulate"),
           ev(3, 5.0, EventKind.ACTION, "unresponsive", "No response"),
           ev(4, 9.0, EventKind.ACTION, "911", "911 called"),
           ev(5, 12.0, EventKind.STEP, "airway", "A: Airway"),
           ev(6, 20.0, EventKind.ACTION, "naloxone", "Naloxone dose 1 (injection)", dose=1),
           ev(7, 40.0, EventKind.ACTION, "naloxone", "Naloxone dose 2 (injection)", dose=2)]
    bob = [ev(1, 0.0, EventKind.SESSION, "started", "xylazine seed 0"),
           ev(2, 3.0, EventKind.ACTION, "breaths", "Breaths started")]
    cd = class_debrief({"ann": ("Ann", ann), "bob": ("Bob & <Co>", bob)}, "opioid-overdose")
    svg = render_class_svg(cd)
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    assert "Ann" in svg and "Bob &amp; &lt;Co&gt;" in svg  # escaped, never raw
    assert "S: Stimulate" in svg and ">911<" in svg and ">naloxone<" in svg
    assert "second dose early" in svg and "BC guidance" in svg  # a deviation and its source
    assert svg.count("<title>") >= 6  # every mark carries its words


def test_svg_of_an_empty_class_says_so() -> None:
    assert "No station sent anything" in render_class_svg(class_debrief({}))


def test_svg_marks_every_action_of_the_response_by_name() -> None:
    """CPR and EMS are marked like 911 and naloxone (their action names come from the one
    actions table; a name of its own here once left CPR unmarked)."""
    ann = [ev(1, 0.0, EventKind.SESSION, "started", "opioid-overdose seed 0"),
           ev(2, 5.0, EventKind.ACTION, "compressions", "Compressions started"),
           ev(3, 9.0, EventKind.ACTION, "ems", "EMS arrived")]
    svg = render_class_svg(class_debrief({"ann": ("Ann", ann)}, "opioid-overdose"))
    assert ">CPR<" in svg and ">EMS<" in svg
    assert "— 1 station<" in svg  # one station, not "1 stations"
