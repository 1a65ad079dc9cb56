"""Guidance files: every problem reported with its line; a valid file loads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.errors import ConfigError
from oxi_assist import guidance_schema
from oxi_assist.cli import main

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
    assert any("'doses_at_least' needs a whole number" in m for m in msgs)
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
    lines = ", ".join(f'{{ text = "L{i}", source = "gov" }}' for i in range(4))
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
    assert any("one to three lines, not 4" in m for m in msgs)
    assert any("unknown placeholder {when}" in m for m in msgs)


def test_reassuring_prompt_cannot_suggest_naloxone() -> None:
    text = MINIMAL + """
[[prompt]]
id = "p"
text = "All fine, give naloxone."
source = "gov"
reassuring = true
suggests = "naloxone"
"""
    assert any("reassuring prompt cannot" in m for _, m in problems(text))


def test_toml_syntax_error_has_its_line() -> None:
    text = MINIMAL.replace('title = "Second"', 'title = "Second')
    got = problems(text)
    assert len(got) == 1 and got[0][0] == line_of(text, 'title = "Second')
    assert got[0][1].startswith("not valid TOML")


def test_lines_inside_nested_tables_are_found() -> None:
    text = BC.read_text(encoding="utf-8").replace(
        'at_s = 300', 'at_s = "five minutes"')
    got = problems(text)
    assert got == [(line_of(text, "five minutes"), "'at_s' must be a number, not a string")]


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
