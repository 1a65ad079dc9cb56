"""Every "DOMAIN.md §N", "PROTOCOLS.md §N" and "FORMATS.md §N" the repository cites names a
section of the page of that name in docs/.

Code comments, alarms.toml, scenario files and the docs justify thresholds, sentinels and guidance
lines by pointing at a numbered section of these pages. A citation that names no section (a page
missing, a section renumbered or removed) leaves a reader of a public clone with a number and no
reason for it, so it fails here. Inside a page, a bare "§N" is a reference to the same page and is
checked the same way; the pages write the clauses of outside standards and specifications as
"clause N" or "section N", never with "§".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PAGES = ("DOMAIN", "PROTOCOLS", "FORMATS")
SCANNED_SUFFIXES = {".py", ".toml", ".md"}
THIS_FILE = Path(__file__).resolve()

_NUM = r"\d+(?:\.\d+)*"
#: A page name (optionally as a Markdown link), then one section or a list or range of them:
#: "DOMAIN.md §10.3", "DOMAIN §1 rule 2, §7", "FORMATS.md §1–§3", "[DOMAIN.md](DOMAIN.md) §1".
_CITATION = re.compile(
    rf"\b(?P<page>{'|'.join(PAGES)})(?:\.md)?(?:\]\([^)\s]*\))?\s+"
    rf"(?P<chain>§§?\s?{_NUM}(?:\s+rule\s+\d+)?"
    rf"(?:\s*(?:,|and|or)\s*§\s?{_NUM}(?:\s+rule\s+\d+)?|\s*[–-]\s*§?\s?{_NUM})*)"
)
_CHAIN_ITEM = re.compile(
    rf"(?P<sep>^|,|and|or|[–-])\s*§*\s?(?P<n>{_NUM})(?:\s+rule\s+(?P<rule>\d+))?")
_BARE = re.compile(rf"§§?\s?{_NUM}(?:\s*[–-]\s*§?\s?{_NUM})?(?:\s+rule\s+\d+)?")
_HEADING = re.compile(rf"^#{{1,6}}\s+(?P<n>{_NUM})\.?\s+(?P<title>.*)$")
_OUTSIDE_PATH = re.compile(r"(?:\.\./)?shared/docs\b|\.\./shared/(?:DOMAIN|PROTOCOLS|FORMATS)")


@dataclass(frozen=True)
class Citation:
    page: str
    section: str
    where: str

    def __str__(self) -> str:
        return f"{self.where}: {self.page}.md §{self.section}"


def _expand_range(first: str, last: str) -> list[str]:
    """§2.4–§2.5 → 2.4, 2.5; §1–§3 → 1, 2, 3; anything less regular → its two ends."""
    a, b = first.split("."), last.split(".")
    if len(a) == len(b) and a[:-1] == b[:-1] and int(a[-1]) <= int(b[-1]):
        return [".".join([*a[:-1], str(i)]) for i in range(int(a[-1]), int(b[-1]) + 1)]
    return [first, last]


def sections_in_chain(chain: str) -> list[str]:
    """The section numbers one citation names. "§1 rule 2" is rule 2 of §1, written §1.2."""
    out: list[str] = []
    for m in _CHAIN_ITEM.finditer(chain):
        n = m["n"] if m["rule"] is None else f"{m['n']}.{m['rule']}"
        if m["sep"] in ("–", "-") and out:
            out[-1:] = _expand_range(out[-1], n)
        else:
            out.append(n)
    return out


def citations_in(text: str, where: str, own_page: str | None = None) -> list[Citation]:
    """Every page citation in `text`; with `own_page`, bare "§N" count as citations of it."""
    found: list[Citation] = []
    spans: list[tuple[int, int]] = []
    for m in _CITATION.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        spans.append(m.span("chain"))
        found += [Citation(m["page"], n, f"{where}:{line}") for n in sections_in_chain(m["chain"])]
    if own_page is not None:
        for m in _BARE.finditer(text):
            if any(a <= m.start() < b for a, b in spans):
                continue
            line = text.count("\n", 0, m.start()) + 1
            found += [Citation(own_page, n, f"{where}:{line}")
                      for n in sections_in_chain(m.group(0))]
    return found


def headings(text: str) -> dict[str, str]:
    """Section number → heading title, from Markdown headings such as "### 10.3 Averaging"."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        m = _HEADING.match(line)
        if m:
            out[m["n"]] = m["title"]
    return out


def github_anchor(heading_line: str) -> str:
    """The anchor GitHub gives a heading (for the plain ASCII titles these pages use)."""
    text = heading_line.lstrip("#").strip().lower()
    text = re.sub(r"[^a-z0-9 _-]", "", text)
    return text.replace(" ", "-")


def repository_files() -> list[Path]:
    skip = {"__pycache__", "build", "dist", "node_modules", "mutants"}  # mutants: mutmut's copy
    out = []
    for path in sorted(ROOT.rglob("*")):
        rel = path.relative_to(ROOT).parts
        if any(p.startswith(".") or p in skip or p.endswith(".egg-info") for p in rel[:-1]):
            continue
        if path.is_file() and path.suffix in SCANNED_SUFFIXES and path.resolve() != THIS_FILE:
            out.append(path)
    return out


def _text(path: Path) -> str:
    """The file as text; the bad-input corpus holds deliberately binary .toml files."""
    return path.read_bytes().decode("utf-8", errors="replace")


def all_citations() -> list[Citation]:
    found: list[Citation] = []
    for path in repository_files():
        rel = path.relative_to(ROOT).as_posix()
        own = path.stem if path.parent == DOCS and path.stem in PAGES else None
        found += citations_in(_text(path), rel, own)
    return found


def _page_sections() -> dict[str, dict[str, str]]:
    return {p: headings((DOCS / f"{p}.md").read_text(encoding="utf-8"))
            for p in PAGES if (DOCS / f"{p}.md").is_file()}


def unresolved(citations: list[Citation], pages: dict[str, dict[str, str]]) -> list[str]:
    return [str(c) for c in citations if c.section not in pages.get(c.page, {})]


# --- the repository -------------------------------------------------------------------------


@pytest.mark.parametrize("page", PAGES)
def test_reference_page_is_in_the_repository(page):
    assert (DOCS / f"{page}.md").is_file(), f"docs/{page}.md is cited but not in the repository"


def test_every_citation_names_a_section_of_the_page():
    citations = all_citations()
    # The scan must see the citations we know are there, or it proves nothing.
    cited_from = {c.where.split(":")[0] for c in citations}
    assert {"oxi_assist/monitor/alarms.toml", "oxi_assist/monitor/alarm_config.py",
            "drivers/protocols/cms50_v7.py", "tests/drivers/test_fmt_viatom.py"} <= cited_from
    assert {c.page for c in citations} == set(PAGES)
    missing = unresolved(citations, _page_sections())
    assert not missing, "citations with no such section:\n" + "\n".join(missing)


def test_no_file_points_at_reference_pages_outside_the_repository():
    outside = []
    for path in repository_files():
        for i, line in enumerate(_text(path).splitlines(), 1):
            if _OUTSIDE_PATH.search(line):
                outside.append(f"{path.relative_to(ROOT).as_posix()}:{i}: {line.strip()}")
    assert not outside, "use docs/DOMAIN.md, docs/PROTOCOLS.md, docs/FORMATS.md:\n" + "\n".join(
        outside)


@pytest.mark.parametrize("page", PAGES)
def test_contents_list_reaches_every_top_level_section(page):
    """A reader who meets "§7" finds §7 from the contents at the top of the page."""
    text = (DOCS / f"{page}.md").read_text(encoding="utf-8")
    heading_lines = [ln for ln in text.splitlines() if _HEADING.match(ln)]
    anchors = {github_anchor(ln) for ln in heading_lines}
    links = re.findall(r"\]\(#([^)]+)\)", text)
    broken = [a for a in links if a not in anchors]
    assert not broken, f"contents links with no heading: {broken}"
    top = [github_anchor(ln) for ln in heading_lines if ln.startswith("## ")
           and _HEADING.match(ln)["n"].isdigit()]
    assert top, "no numbered sections"
    assert set(top) <= set(links), f"sections missing from contents: {set(top) - set(links)}"


# --- the checker itself ---------------------------------------------------------------------


def test_citation_forms_in_use_are_parsed():
    text = "\n".join([
        "hysteresis = 2.0  # clear at threshold + 2 (DOMAIN.md §10.3)",
        "(DOMAIN §1 rule 2, §7, §10.5)",
        '"""readers on files written from FORMATS.md §4, §6 and §7."""',
        "tests from the byte layouts in FORMATS.md §1–§3 (no real sample)",
        "(PROTOCOLS.md §4.3, §13): a known type byte",
        "see [DOMAIN.md](DOMAIN.md) §1.",
        "ISO 80601-2-61 §208.6.8.5.101 as cited (DOMAIN.md §10.1)",
        "SERIAL_PROTOCOLS = ('cms50-v7',)  # FORMATS-native.md is our own layout",
    ])
    got = [(c.page, c.section) for c in citations_in(text, "x")]
    assert got == [
        ("DOMAIN", "10.3"),
        ("DOMAIN", "1.2"), ("DOMAIN", "7"), ("DOMAIN", "10.5"),
        ("FORMATS", "4"), ("FORMATS", "6"), ("FORMATS", "7"),
        ("FORMATS", "1"), ("FORMATS", "2"), ("FORMATS", "3"),
        ("PROTOCOLS", "4.3"), ("PROTOCOLS", "13"),
        ("DOMAIN", "1"),
        ("DOMAIN", "10.1"),
    ]


def test_bare_sections_inside_a_page_refer_to_that_page():
    text = "see §2.4–§2.5 and (FORMATS.md §7); the spec section 1.7 is not ours"
    got = [(c.page, c.section) for c in citations_in(text, "x", own_page="PROTOCOLS")]
    assert sorted(got) == [("FORMATS", "7"), ("PROTOCOLS", "2.4"), ("PROTOCOLS", "2.5")]


def test_a_renumbered_section_is_reported():
    page = "# Title\n## 6. Oximeters\n### 6.1 Handout\n## 7. Device limitations\n"
    pages = {"DOMAIN": headings(page)}
    ok = citations_in("(DOMAIN.md §7) (DOMAIN §6.1)", "a.toml")
    assert unresolved(ok, pages) == []
    moved = citations_in("(DOMAIN.md §8)", "a.toml")
    assert unresolved(moved, pages) == ["a.toml:1: DOMAIN.md §8"]
    assert unresolved(ok, {}) == ["a.toml:1: DOMAIN.md §7", "a.toml:1: DOMAIN.md §6.1"]
