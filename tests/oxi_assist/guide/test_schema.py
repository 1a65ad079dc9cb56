"""Guidance files: every problem reported with its line; a valid file loads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.errors import ConfigError
from oxi_assist.cli import main
from oxi_assist.guide import schema as guidance_schema

BC = guidance_schema.GUIDANCE_DIR / "bc-save-me.toml"

MINIMAL = """\
[guidance]
id = "mini"
title = "Minimal"
start = "a"

[[source]]
id = "gov"
label = "BC-official"
url = "https://example.org/gov"

[[source]]
id = "app"
label = "app-defined"

[[step]]
id = "a"
title = "First"
lines = [
  { text = "Do the first thing.", source = "gov" },
]

[[step.next]]
action = "911"
label = "Called 911"
goto = "b"

[[step]]
id = "b"
title = "Second"
lines = [ { text = "Wait.", source = ["gov", "app"] } ]
"""


def problems(text: str) -> list[tuple[int, str]]:
    proto, probs = guidance_schema.validate_text(text, "x.toml")
    assert (proto is None) == bool(probs)
    return [(p.line, p.message) for p in probs]


def line_of(text: str, needle: str, nth: int = 1) -> int:
    hits = [i for i, ln in enumerate(text.splitlines(), start=1) if needle in ln]
    return hits[nth - 1]


def test_minimal_file_is_valid() -> None:
    proto, probs = guidance_schema.validate_text(MINIMAL)
    assert probs == []
    assert proto is not None and list(proto.steps) == ["a", "b"]
    assert proto.steps["b"].lines[0].sources == ("gov", "app")


def test_builtin_files_are_valid() -> None:
    for f in sorted(guidance_schema.GUIDANCE_DIR.glob("*.toml")):
        proto, probs = guidance_schema.check_file(f)
        assert probs == [], f
        assert proto is not None


def test_unknown_key_with_line() -> None:
    text = MINIMAL.replace('title = "Second"', 'titel = "Second"')
    got = problems(text)
    assert (line_of(text, "titel"), got[-1][1]) in got
    assert any("unknown key 'titel'" in m for _, m in got)
    assert any("missing required key 'title'" in m for _, m in got)


def test_wrong_type_with_line() -> None:
    text = MINIMAL.replace('label = "Called 911"', "label = 911")
    got = problems(text)
    assert got == [(line_of(text, "label = 911"), "'label' must be a string, not a number")]


def test_missing_source_on_a_line() -> None:
    text = MINIMAL.replace('{ text = "Wait.", source = ["gov", "app"] }', '"Wait."')
    got = problems(text)
    assert len(got) == 1
    assert got[0][0] == line_of(text, '"Wait."')
    assert "missing source" in got[0][1]


def test_unknown_source_id() -> None:
    text = MINIMAL.replace('source = "gov" },', 'source = "gvo" },')
    got = problems(text)
    assert got == [(line_of(text, "gvo"), "unknown source 'gvo' (define it in a [[source]] table)")]


def test_source_needs_url_unless_app_defined() -> None:
    text = MINIMAL.replace('url = "https://example.org/gov"\n', "")
    got = problems(text)
    assert len(got) == 1 and "needs a 'url'" in got[0][1]
    assert got[0][0] == line_of(text, "[[source]]")


def test_bad_label() -> None:
    text = MINIMAL.replace('label = "BC-official"', 'label = "unverified"')
    got = problems(text)
    assert got[0][0] == line_of(text, '"unverified"') and "unknown source label" in got[0][1]


def test_next_step_that_does_not_exist_and_unreachable_step() -> None:
    text = MINIMAL.replace('goto = "b"', 'goto = "c"')
    got = problems(text)
    assert (line_of(text, 'goto = "c"'),
            "next step 'c' does not exist (in step 'a')") in got
    assert (line_of(text, "[[step]]", 2), "step 'b' is unreachable from 'a'") in got


def test_condition_over_unknown_quantity_and_bad_values() -> None:
    text = MINIMAL.replace('goto = "b"', 'goto = "b"\nwhen = { heart_vibes = 3 }') + """
[[prompt]]
id = "p"
text = "Low."
source = "gov"
when = { spo2_below = "ninety", signal = "meh", doses_at_least = -1 }
"""
    got = problems(text)
    msgs = [m for _, m in got]
    assert any("unknown quantity 'heart_vibes'" in m for m in msgs)
    assert any("'spo2_below' needs a number" in m for m in msgs)
    assert any("'signal' must be one of good, poor, none" in m for m in msgs)
    assert any("'doses_at_least' must be at least 0, not -1" in m for m in msgs)
    assert all(ln == line_of(text, "heart_vibes") or ln == line_of(text, "ninety")
               for ln, _ in got)


def test_duplicate_ids() -> None:
    text = MINIMAL + """
[[step]]
id = "a"
title = "Again"
lines = [ { text = "x", source = "gov" } ]
"""
    got = problems(text)
    first, second = line_of(text, 'id = "a"'), line_of(text, 'id = "a"', 2)
    assert (second, f"duplicate step id 'a' (first defined on line {first})") in got


def test_unknown_action_and_bad_route() -> None:
    text = MINIMAL.replace('action = "911"', 'action = "pray"') + """
[[on]]
action = "naloxone"
label = "Gave naloxone"
params = { route = "oral" }
"""
    msgs = [m for _, m in problems(text)]
    assert any("unknown action 'pray'" in m for m in msgs)
    assert any("route must be 'im' or 'nasal'" in m for m in msgs)


def test_too_many_lines_and_unknown_placeholder() -> None:
    lines = ", ".join(f'{{ text = "L{i}", source = "gov" }}' for i in range(6))
    text = MINIMAL.replace('lines = [ { text = "Wait.", source = ["gov", "app"] } ]',
                           f"lines = [ {lines} ]") + """
[[timer]]
id = "t"
kind = "since"
label = "Since {when}"
start = "naloxone"
source = "app"
"""
    msgs = [m for _, m in problems(text)]
    assert any("one to 5 lines, not 6" in m for m in msgs)
    assert any("at most 3 lines of a step may be shown always" in m for m in msgs)
    assert any("unknown placeholder {when}" in m for m in msgs)


def test_four_lines_need_a_when_for_the_fourth() -> None:
    lines = ", ".join(f'{{ text = "L{i}", source = "gov" }}' for i in range(3))
    text = MINIMAL.replace('lines = [ { text = "Wait.", source = ["gov", "app"] } ]',
                           f'lines = [ {lines}, {{ text = "L4", source = "gov", '
                           f'when = {{ breaths = "on" }} }} ]')
    assert problems(text) == []


def test_retired_flags_are_refused_with_the_reason() -> None:
    text = MINIMAL + """
[[prompt]]
id = "p"
text = "All fine, give naloxone."
source = "gov"
reassuring = true
suggests = "naloxone"
"""
    got = problems(text)
    assert (line_of(text, "reassuring = true"),
            "'reassuring' is no longer read: what a prompt does comes from its text and its "
            "`does` list (see docs/GUIDANCE.md)") in got
    assert any(ln == line_of(text, 'suggests = "naloxone"') for ln, _ in got)


def test_toml_syntax_error_has_its_line() -> None:
    text = MINIMAL.replace('title = "Second"', 'title = "Second')
    got = problems(text)
    assert len(got) == 1 and got[0][0] == line_of(text, 'title = "Second')
    assert got[0][1].startswith("not valid TOML")


def test_lines_inside_nested_tables_are_found() -> None:
    text = BC.read_text(encoding="utf-8").replace(
        'at_s = 180', 'at_s = "three minutes"')
    got = problems(text)
    assert got == [(line_of(text, "three minutes"), "'at_s' must be a number, not a string")]


def test_load_raises_config_error_with_first_problem(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(MINIMAL.replace('goto = "b"', 'goto = "c"'), encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(f"{bad}:") + r"\d+: next step 'c'"):
        guidance_schema.load(bad)
    with pytest.raises(ConfigError, match="no such guidance file"):
        guidance_schema.load(tmp_path / "missing.toml")
    with pytest.raises(ConfigError, match="built-in"):
        guidance_schema.load("no-such-builtin")


def test_cli_check_reports_every_problem(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    text = (BC.read_text(encoding="utf-8")
            .replace('goto = "call-911"', 'goto = "call-912"')
            .replace('when = { doses_at_least = 1 }', 'when = { dose_count = 1 }')
            .replace('interval_s = 5', 'interval_s = "5"'))
    bad = tmp_path / "org.toml"
    bad.write_text(text, encoding="utf-8")
    assert main(["guidance", "check", str(bad)]) == 2
    out = capsys.readouterr().out.strip().splitlines()
    pattern = re.compile(re.escape(str(bad)) + r":(\d+): .+")
    assert all(pattern.fullmatch(o) for o in out)
    lines = {int(pattern.fullmatch(o).group(1)) for o in out}  # type: ignore[union-attr]
    assert {line_of(text, "call-912"), line_of(text, "dose_count"),
            line_of(text, 'interval_s = "5"')} <= lines
    assert any("step 'call-911' is unreachable" in o for o in out)


def test_cli_check_ok(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["guidance", "check", str(BC)]) == 0
    out = capsys.readouterr().out
    n = len(guidance_schema.load(BC).steps)
    assert out.startswith(f"ok: {n} steps")


def test_cli_check_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["guidance", "check", str(tmp_path / "nope.toml")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_every_source_of_the_bc_file_is_labelled_and_bc_numbers_cite_bc() -> None:
    proto = guidance_schema.load(BC)
    for s in proto.sources.values():
        assert s.label in guidance_schema.LABELS
        assert s.url or s.label == "app-defined"
    # each step cites at least one source; naloxone timing lines cite BC
    for step in proto.steps.values():
        assert all(line.sources for line in step.lines)
    es = proto.steps["evaluate-support"]
    assert any(proto.sources[s].label == "BC-official" for s in es.lines[0].sources)


_BC_LINES = BC.read_text(encoding="utf-8").splitlines()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(_BC_LINES) - 1),
                          st.sampled_from(["drop", "dup", "garble", "type"])),
                min_size=1, max_size=4))
def test_edited_files_never_crash_the_checker(edits: list[tuple[int, str]]) -> None:
    lines = list(_BC_LINES)
    for i, how in edits:
        i %= len(lines)
        if how == "drop":
            del lines[i]
        elif how == "dup":
            lines.insert(i, lines[i])
        elif how == "garble":
            lines[i] = lines[i].replace("=", "= 1 +", 1)
        else:
            lines[i] = re.sub(r'"[^"]*"', "7", lines[i], count=1)
        if not lines:
            lines = [""]
    text = "\n".join(lines)
    proto, probs = guidance_schema.validate_text(text, "edited.toml")
    assert (proto is None) == bool(probs)
    for p in probs:
        assert 1 <= p.line <= len(lines) + 1
        assert p.message and "\n" not in p.message


# ---------------------------------------------------------------- numbers and bounded reads

TIMER = """
[[timer]]
id = "t"
kind = "metronome"
label = "Breaths"
start = "breaths"
source = "app"
interval_s = 5
"""


@pytest.mark.parametrize("value, message", [
    ("nan", "'interval_s' must be a number, not nan"),
    ("inf", "'interval_s' must be a finite number, not inf"),
    ("-inf", "'interval_s' must be a finite number, not -inf"),
    ("0", "'interval_s' must be at least 1, not 0"),
    ("-5", "'interval_s' must be at least 1, not -5"),
    ("1e9", "'interval_s' must be at most 60, not 1e+09"),
    ('"5"', "'interval_s' must be a number, not a string"),
])
def test_every_timer_number_is_checked(value: str, message: str) -> None:
    text = MINIMAL + TIMER.replace("interval_s = 5", f"interval_s = {value}")
    assert problems(text) == [(line_of(text, "interval_s ="), message)]


@pytest.mark.parametrize("cond_text, message", [
    ("spo2_below = nan", "condition 'spo2_below' must be a number, not nan"),
    ("spo2_below = -5", "condition 'spo2_below' must be at least 1, not -5"),
    ("spo2_below = 0", "condition 'spo2_below' must be at least 1, not 0"),
    ("spo2_below = 250", "condition 'spo2_below' must be at most 100, not 250"),
    ("pulse_below = inf", "condition 'pulse_below' must be a finite number, not inf"),
    ("minutes_since_naloxone_at_least = -1",
     "condition 'minutes_since_naloxone_at_least' must be at least 0, not -1"),
    ("breath_rate_below = 1e6", "condition 'breath_rate_below' must be at most 60, not 1e+06"),
    ("doses_at_least = 2.5", "condition 'doses_at_least' needs a whole number, not a number"),
])
def test_every_condition_number_is_checked(cond_text: str, message: str) -> None:
    text = MINIMAL + f"""
[[prompt]]
id = "p"
text = "Look at them."
source = "gov"
when = {{ {cond_text} }}
"""
    assert problems(text) == [(line_of(text, cond_text), message)]


@pytest.mark.parametrize("kit, message", [
    ("im = 0", "'im' (doses in a kit) must be at least 1, not 0"),
    ("im = 1000", "'im' (doses in a kit) must be at most 10, not 1000"),
    ("nasal = 2.5", "'nasal' (doses in a kit) must be a whole number"),
    ("nasal = nan", "'nasal' (doses in a kit) must be a number, not nan"),
])
def test_kit_sizes_are_checked(kit: str, message: str) -> None:
    text = MINIMAL + f'\n[kit]\n{kit}\nsource = "gov"\n'
    assert problems(text) == [(line_of(text, kit), message)]


def test_alert_times_and_priorities_are_checked() -> None:
    text = MINIMAL + """
[[timer]]
id = "t"
kind = "since"
label = "Since"
start = "911"
source = "app"
length_s = 0

[[timer.alert]]
at_s = -1
text = "Look at them."
source = "app"
priority = 7
"""
    got = problems(text)
    assert (line_of(text, "length_s = 0"), "'length_s' must be above 0, not 0") in got
    assert (line_of(text, "at_s = -1"), "'at_s' must be at least 0, not -1") in got
    assert (line_of(text, "priority = 7"), "'priority' must be at most 3, not 7") in got


def test_the_engine_refuses_what_the_checker_refuses() -> None:
    """A protocol built in code with a number the checker refuses is refused by the engine
    too (a NaN metronome used to pass the check and crash the screen when `b` was pressed)."""
    import dataclasses

    from oxi_assist.guide.engine import Guide

    proto = guidance_schema.load(BC)
    for bad in (float("nan"), float("inf"), 0.0, -1.0, 1e9):
        timers = tuple(dataclasses.replace(t, interval_s=bad) if t.kind == "metronome" else t
                       for t in proto.timers)
        broken = dataclasses.replace(proto, timers=timers)
        assert guidance_schema.protocol_problems(broken)
        with pytest.raises(ConfigError, match="interval_s"):
            Guide(broken)
    kit = dataclasses.replace(proto, kit=(("im", 0),))
    with pytest.raises(ConfigError, match="kit"):
        Guide(kit)
    assert guidance_schema.protocol_problems(proto) == []


def test_deep_nesting_is_one_line_not_a_crash(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text("a = " + "[" * 1000 + "]" * 1000 + "\n", encoding="utf-8")
    assert main(["guidance", "check", str(deep)]) == 2
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [f"{deep}:1: brackets nested deeper than 16 levels"]
    with pytest.raises(ConfigError, match="nested deeper"):
        guidance_schema.load(deep)


def test_brackets_inside_strings_and_comments_do_not_count() -> None:
    deep = "[" * 20
    text = MINIMAL.replace('title = "Second"', f'title = "{deep} x"  # {deep}')
    assert problems(text) == []


@pytest.mark.parametrize("target, message", [
    ("/dev/zero", "is a character device, not a guidance file"),
    ("DIR", "is a directory, not a guidance file"),
    ("FIFO", "is a FIFO (named pipe), not a guidance file"),
    ("BIG", "larger than 1 MB: too large for a guidance file"),
])
def test_paths_that_are_not_small_regular_files(target: str, message: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    import os

    if target == "/dev/zero" and not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero here")
    path = Path(target)
    if target == "DIR":
        path = tmp_path
    elif target == "FIFO":
        path = tmp_path / "pipe.toml"
        os.mkfifo(path)  # opening it would wait for a writer forever
    elif target == "BIG":
        path = tmp_path / "big.toml"
        path.write_bytes(b"# " + b"x" * guidance_schema.MAX_BYTES + b"\n")
    assert main(["guidance", "check", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == f"{path}:1: {message}" or (
        target == "BIG" and captured.err.startswith(f"{path}:1: {message}"))
    assert captured.err.count("\n") == 1
    with pytest.raises(ConfigError, match=re.escape(message)):
        guidance_schema.load(path)


def test_load_is_cached_until_the_file_changes(tmp_path: Path) -> None:
    f = tmp_path / "g.toml"
    f.write_text(MINIMAL, encoding="utf-8")
    a = guidance_schema.load(f)
    assert guidance_schema.load(f) is a
    f.write_text(MINIMAL.replace('title = "Second"', 'title = "Second step"'), encoding="utf-8")
    import os
    os.utime(f, ns=(1, 10**9 * 5))
    b = guidance_schema.load(f)
    assert b is not a and b.steps["b"].title == "Second step"


def test_kit_handout_and_start_note_are_read() -> None:
    proto = guidance_schema.load(BC)
    assert dict(proto.kit) == {"im": 3, "nasal": 2}
    assert proto.handout == ("oximeter-placement", "oximeter-reading", "oximeter-numbers")
    assert proto.start_note == "oximeter-placement"
    bad = MINIMAL.replace('start = "a"', 'start = "a"\nhandout = ["nope"]\nstart_note = "gone"')
    msgs = [m for _, m in problems(bad)]
    assert "unknown note 'nope' in the handout" in msgs
    assert "unknown note 'gone'" in msgs


def test_unknown_intent_in_does() -> None:
    text = MINIMAL + """
[[prompt]]
id = "p"
text = "Look at them."
source = "gov"
does = "dance"
"""
    got = problems(text)
    assert got[0][0] == line_of(text, 'does = "dance"')
    assert got[0][1].startswith("unknown intent 'dance' in `does`")
