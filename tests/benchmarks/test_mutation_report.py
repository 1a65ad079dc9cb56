"""The mutation figure is read from mutmut's own result files, grouped by function."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.mutation import load, rate, report


def _meta(root: Path, rel: str, codes: dict[str, int | None]) -> None:
    p = root / "mutants" / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps({"exit_code_by_key": codes}), encoding="utf-8")


def test_kill_rate_counts_only_judged_mutants_and_marks_the_safety_functions(
        tmp_path: Path) -> None:
    _meta(tmp_path, "oxi_assist/guide_safety.py.meta", {
        "oxi_assist.guide_safety.x_breathing_ok__mutmut_1": 1,
        "oxi_assist.guide_safety.x_breathing_ok__mutmut_2": 0,
        "oxi_assist.guide_safety.x_may_show__mutmut_1": None,
    })
    _meta(tmp_path, "oxi_assist/guide.py.meta", {
        "oxi_assist.guide.xǁGuideǁ_shows__mutmut_1": 1,
        "oxi_assist.guide.xǁGuideǁ_entry__mutmut_1": 0,
    })
    ms = load(tmp_path)
    by = {m.name.rsplit(".", 1)[1]: m for m in ms}
    assert by["x_breathing_ok__mutmut_2"].status == "survived"
    assert by["x_may_show__mutmut_1"].status == "not run"
    assert by["xǁGuideǁ_shows__mutmut_1"].function == "Guide._shows"
    assert by["xǁGuideǁ_shows__mutmut_1"].safety
    assert not by["xǁGuideǁ_entry__mutmut_1"].safety  # log bookkeeping is not a safety rule
    assert rate([m for m in ms if m.safety]) == (2, 3, 100 * 2 / 3)
    text = report(ms, with_diffs=False)
    assert "Safety functions: 2 of 3 mutants killed (66.7 %)" in text
    assert "| `guide` | `Guide._entry` | 1 | 0 | 1 | 0 % |  |" in text


def test_the_safety_functions_are_found_in_the_guide_package(tmp_path: Path) -> None:
    _meta(tmp_path, "oxi_assist/guide/prompts.py.meta", {
        "oxi_assist.guide.prompts.x_shows__mutmut_1": 1,
        "oxi_assist.guide.prompts.x_fill__mutmut_1": 0,
    })
    _meta(tmp_path, "oxi_assist/guide/engine.py.meta", {
        "oxi_assist.guide.engine.xǁGuideǁ_refresh__mutmut_1": 1,
        "oxi_assist.guide.engine.xǁGuideǁ_entry__mutmut_1": 0,
    })
    _meta(tmp_path, "oxi_assist/guide/response.py.meta", {
        "oxi_assist.guide.response.xǁResponseǁapply__mutmut_1": 1,
    })
    _meta(tmp_path, "oxi_assist/guide/safety.py.meta", {
        "oxi_assist.guide.safety.x_breathing_ok__mutmut_1": 0,
    })
    by = {m.name: m for m in load(tmp_path)}
    safe = {name for name, m in by.items() if m.safety}
    assert safe == {"oxi_assist.guide.prompts.x_shows__mutmut_1",
                    "oxi_assist.guide.engine.xǁGuideǁ_refresh__mutmut_1",
                    "oxi_assist.guide.response.xǁResponseǁapply__mutmut_1",
                    "oxi_assist.guide.safety.x_breathing_ok__mutmut_1"}
    assert by["oxi_assist.guide.response.xǁResponseǁapply__mutmut_1"].function == \
        "Response.apply"
    assert "| `engine` | `Guide._entry` | 1 | 0 | 1 | 0 % |  |" in report(list(by.values()),
                                                                         with_diffs=False)


def test_a_survivors_diff_is_read_from_mutmuts_copy_of_the_module(tmp_path: Path) -> None:
    """The diff compares the mutant with the original function in mutants/, so it still reads
    after the source file has moved."""
    from benchmarks.mutation import diff

    mod = tmp_path / "mutants" / "pkg" / "mod.py"
    mod.parent.mkdir(parents=True)
    mod.write_text(
        "class G:\n"
        "    def xǁGǁf__mutmut_orig(self, x):\n"
        "        return x > 3\n"
        "    def xǁGǁf__mutmut_1(self, x):\n"
        "        return x >= 3\n"
        "def after():\n"
        "    pass\n", encoding="utf-8")
    assert diff("pkg.mod.xǁGǁf__mutmut_1", tmp_path) == (
        "-        return x > 3\n+        return x >= 3")
    assert diff("pkg.other.xǁGǁf__mutmut_1", tmp_path) == ""  # no copy: no diff, no crash
