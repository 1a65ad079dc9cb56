"""The mutation-testing figure of docs/SAFETY.md, from a `mutmut run` of the guidance safety
code (configured in pyproject.toml, `[tool.mutmut]`).

mutmut changes one small thing at a time in the code under test (a `<` to `<=`, an `and` to
an `or`, a constant, a returned value) and runs the tests against each change; a change no
test notices is a *survivor*: either the tests miss a behaviour, or the change does not alter
behaviour at all. This script reads mutmut's results (`mutants/**/*.meta`), prints the kill
rate of every function, the rate over the safety functions, and each survivor with its diff.

    mutmut run                                   # ~1 h on 2 cores; results in mutants/
    python -m benchmarks.mutation                # the table and every survivor
    python -m benchmarks.mutation --write-docs   # the same, into docs/SAFETY.md

The safety functions are the ones that hold the invariants (docs/SAFETY.md): every function
of `guide/safety.py` and `guide/conditions.py`, and the engine's functions that apply them
(`ENGINE_SAFETY`).
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAFETY_DOC = ROOT / "docs" / "SAFETY.md"
BEGIN = "<!-- mutation figure: written by python -m benchmarks.mutation --write-docs -->"
END = "<!-- end of mutation figure -->"

#: The functions of the engine that apply the safety rules (oxi_assist/guide/), by module;
#: with every function of the two safety modules, these are "the safety functions" of
#: docs/SAFETY.md.
ENGINE_SAFETY: dict[str, frozenset[str]] = {
    "oxi_assist.guide.engine": frozenset({"Guide._refresh", "Guide._offered", "Guide._facts",
                                          "Guide._note_views"}),
    "oxi_assist.guide.prompts": frozenset({"shows", "prompt_of", "due_alerts",
                                           "Citations.of_item"}),
    "oxi_assist.guide.offers": frozenset({"offered", "hint"}),
    "oxi_assist.guide.facts": frozenset({"derive", "signal_of"}),
    "oxi_assist.guide.response": frozenset({"Response.apply", "Response.naloxone"}),
    "oxi_assist.guide.wording": frozenset({"title_of"}),
}
SAFETY_MODULES = ("oxi_assist.guide.safety", "oxi_assist.guide.conditions")
#: The same functions as named before the guide became a package (oxi_assist/guide.py and its
#: flat neighbours), so results of a run made then are still read the same way.
FLAT_ENGINE_SAFETY = {"oxi_assist.guide": frozenset(
    f"Guide.{fn}" for fn in ("_shows", "_prompt", "_refresh", "_alerts", "_offered", "_hint",
                             "_sources", "_title", "_facts", "_signal", "_note_views",
                             "_apply", "_naloxone"))}
FLAT_SAFETY_MODULES = ("oxi_assist.guide_safety", "oxi_assist.guidance_conditions")

_NAME = re.compile(r"^(?P<mod>[\w.]+)\.x(?:ǁ(?P<cls>\w+)ǁ|_)(?P<fn>\w+?)__mutmut_(?P<n>\d+)$")


@dataclass(frozen=True)
class Mutant:
    name: str
    module: str
    function: str  # "Guide._shows" or "breathing_ok"
    status: str

    @property
    def safety(self) -> bool:
        if self.module in SAFETY_MODULES or self.module in FLAT_SAFETY_MODULES:
            return True
        engine = ENGINE_SAFETY.get(self.module) or FLAT_ENGINE_SAFETY.get(self.module)
        return engine is not None and self.function in engine


def load(root: Path = ROOT) -> list[Mutant]:
    """Every mutant mutmut recorded, with its status ("not run" when it has no result)."""
    from mutmut.stats import status_by_exit_code  # mutmut's own reading of its exit codes

    out: list[Mutant] = []
    for meta in sorted((root / "mutants").rglob("*.meta")):
        data = json.loads(meta.read_text(encoding="utf-8"))
        for key, code in data.get("exit_code_by_key", {}).items():
            m = _NAME.match(key)
            if m is None:
                continue
            fn = f"{m['cls']}.{m['fn']}" if m["cls"] else m["fn"]
            status = "not run" if code is None else status_by_exit_code[code]
            out.append(Mutant(key, m["mod"], fn, status))
    return out


def rate(ms: list[Mutant]) -> tuple[int, int, float]:
    """(killed, judged, percent): mutants that ran and were killed, of those that ran."""
    judged = [m for m in ms if m.status not in ("not run", "no tests", "skipped")]
    killed = sum(1 for m in judged if m.status in ("killed", "timeout", "caught by type check"))
    return killed, len(judged), (100.0 * killed / len(judged) if judged else 0.0)


def _function_source(lines: list[str], name: str) -> list[str]:
    """The lines of `def NAME(` in mutmut's copy of a module, up to the next line indented no
    deeper than it."""
    head = re.compile(rf"^(\s*)(?:async )?def {re.escape(name)}\(")
    for i, line in enumerate(lines):
        m = head.match(line)
        if m:
            indent, out = len(m.group(1)), [line]
            for nxt in lines[i + 1:]:
                if nxt.strip() and len(nxt) - len(nxt.lstrip()) <= indent:
                    break
                out.append(nxt)
            return out
    return []


def diff(name: str, root: Path = ROOT) -> str:
    """What one mutant changed: its function against the original, both read from mutmut's
    copy of the module (`mutants/`), so the diff stays readable after the source moves."""
    m = _NAME.match(name)
    if m is None:
        return ""
    path = root / "mutants" / (m.group("mod").replace(".", "/") + ".py")
    if not path.is_file():
        return ""
    lines = path.read_text(encoding="utf-8").splitlines()
    local = name[len(m.group("mod")) + 1:]
    orig = _function_source(lines, local.rsplit("__mutmut_", 1)[0] + "__mutmut_orig")
    mutant = _function_source(lines, local)
    changed = difflib.unified_diff(orig[1:], mutant[1:], lineterm="", n=0)
    return "\n".join(ln for ln in changed
                     if ln.startswith(("+", "-")) and not ln.startswith(("+++", "---")))


def report(ms: list[Mutant], *, with_diffs: bool = True) -> str:
    by_fn: dict[tuple[str, str], list[Mutant]] = defaultdict(list)
    for m in ms:
        by_fn[(m.module, m.function)].append(m)
    safety = [m for m in ms if m.safety]
    k, j, pct = rate(safety)
    ka, ja, pa = rate(ms)
    counts = Counter(m.status for m in ms)
    lines = [
        f"mutmut over {len(ms)} mutants of {len({m.module for m in ms})} modules "
        f"({', '.join(f'{v} {s}' for s, v in counts.most_common())}).",
        "",
        f"**Safety functions: {k} of {j} mutants killed ({pct:.1f} %).** "
        f"All mutated code: {ka} of {ja} ({pa:.1f} %).",
        "",
        "| module | function | mutants | killed | survived | kill rate | safety |",
        "|---|---|---|---|---|---|---|",
    ]
    for (mod, fn), group in sorted(by_fn.items()):
        kk, _, pp = rate(group)
        surv = sum(1 for m in group if m.status == "survived")
        lines.append(f"| `{mod.rpartition('.')[2]}` | `{fn}` | {len(group)} | {kk} | {surv} | "
                     f"{pp:.0f} % | {'yes' if group[0].safety else ''} |")
    survivors = [m for m in ms if m.status not in ("killed", "timeout", "caught by type check",
                                                    "not run")]
    lines += ["", f"Survivors and other unjudged mutants: {len(survivors)}."]
    if with_diffs:
        for m in survivors:
            lines += ["", f"- `{m.name}` ({m.status})", "", "```diff", diff(m.name), "```"]
    return "\n".join(lines) + "\n"


def write_docs(text: str, reasons: dict[str, str]) -> None:
    page = SAFETY_DOC.read_text(encoding="utf-8")
    if BEGIN not in page or END not in page:
        raise SystemExit(f"{SAFETY_DOC}: the mutation markers are missing")
    for name, why in reasons.items():  # each survivor's reason, kept across regenerations
        text = text.replace(f"- `{name}` (survived)", f"- `{name}` (survived): {why}")
    head, rest = page.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    SAFETY_DOC.write_text(head + BEGIN + "\n\n" + text + "\n" + END + tail, encoding="utf-8")


def kept_reasons() -> dict[str, str]:
    """The reasons written beside survivors in docs/SAFETY.md (so a rerun keeps them)."""
    page = SAFETY_DOC.read_text(encoding="utf-8")
    return dict(re.findall(r"^- `([^`]+)` \(survived\): (.+)$", page, flags=re.M))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.mutation", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--write-docs", action="store_true", help="write the figure into SAFETY.md")
    ap.add_argument("--no-diffs", action="store_true", help="do not print each survivor's diff")
    args = ap.parse_args(argv)
    ms = load()
    if not ms:
        print("no mutmut results: run `mutmut run` first (see pyproject.toml, [tool.mutmut])",
              file=sys.stderr)
        return 2
    text = report(ms, with_diffs=not args.no_diffs)
    print(text)
    if args.write_docs:
        write_docs(text, kept_reasons())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
