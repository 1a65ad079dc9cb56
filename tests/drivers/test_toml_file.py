"""The shared TOML reader: each path of a document at the line that wrote it, and the line
and words of a file that is not TOML at all."""

from __future__ import annotations

import pytest

from drivers.errors import ConfigError
from drivers.toml_file import NotToml, Positions, Problem, Problems, decode, parse

TEXT = """\
# a comment
[guidance]
id = "x"

[[step]]
id = "a"
lines = [
  { text = "one", source = "s" },
  { text = "two", source = "s" },
]

[[step]]
id = "b"

[[step.next]]
action = "awake"

[expected.treated]
patient.hr = 40
"""


def test_every_path_is_at_the_line_that_wrote_it() -> None:
    pos = Positions(TEXT)
    assert pos.line_of(("guidance", "id")) == 3
    assert pos.line_of(("step", 0)) == 5
    assert pos.line_of(("step", 0, "lines", 1)) == 9
    assert pos.line_of(("step", 1, "id")) == 13
    # a [[step.next]] belongs to the latest step
    assert pos.line_of(("step", 1, "next", 0, "action")) == 16
    assert pos.line_of(("expected", "treated", "patient", "hr")) == 19


def test_a_path_not_written_falls_back_to_its_nearest_parent_then_line_1() -> None:
    pos = Positions(TEXT)
    assert pos.line_of(("step", 1, "title")) == 12
    assert pos.line_of(("nowhere",)) == 1
    assert pos.line_of(()) == 1


def test_not_toml_gives_tomllibs_words_and_line() -> None:
    with pytest.raises(NotToml) as e:
        parse("a = 1\nb = \n")
    assert e.value.line == 2 and "(at line" not in e.value.reason
    assert "(at line 2" in e.value.detail and not e.value.nesting


def test_nesting_is_refused_before_the_parser_with_a_limit_and_named_without() -> None:
    deep = "a = " + "[" * 40 + "]" * 40 + "\n"
    with pytest.raises(NotToml) as e:
        parse("x = 1\n" + deep, max_depth=16)
    assert e.value.nesting and e.value.line == 2
    assert parse("a = [[1]]", max_depth=16) == {"a": [[1]]}
    with pytest.raises(NotToml) as e:
        parse("a = " + "[" * 100_000 + "]" * 100_000)
    assert e.value.nesting and e.value.line is None


def test_bad_utf8_names_the_line_of_the_first_bad_byte() -> None:
    with pytest.raises(NotToml) as e:
        decode(b"a = 1\nb = 2\n\xff\n")
    assert e.value.line == 3 and "invalid start byte" in e.value.reason


def test_problems_are_collected_distinct_and_in_line_order_or_raised_as_one_line() -> None:
    probs = Problems(Positions(TEXT), "f.toml")
    assert not probs
    probs.add(("step", 1, "id"), "later")
    probs.add(("guidance", "id"), "earlier")
    probs.add(("guidance", "id"), "earlier")
    assert probs.sorted() == [Problem(3, "earlier"), Problem(13, "later")]
    err = probs.error(("step", 0, "lines", 1), "bad line")
    assert isinstance(err, ConfigError) and str(err) == "f.toml:9: bad line"
