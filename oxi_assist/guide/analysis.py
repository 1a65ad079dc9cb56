"""`guidance check`'s safety analysis: can an item of a guidance file ever break a rule?

Every item that shows text (step lines, prompts, timer alerts; titles, button labels and
notes too) is read with the vocabulary (guide/vocabulary.py). For each protected intent it
carries, its condition is tested against each forbidden region of that intent
(guide.safety.REGIONS): if some situation satisfies both, the file is refused, naming the
item's line and a witness ("can show while breathing is not normal, e.g. breathing=unknown").

The test is exact over a finite abstraction. A condition is a conjunction of checks, each on
one fact with `<`, `≥` or equality, so a number only matters relative to the thresholds
written anywhere (in the file, in the regions, in timer contexts): one value per interval
between thresholds, plus "none" where a fact can be missing, covers every case. Facts that
constrain each other (a missing SpO2 means no signal; minutes since naloxone is missing iff no
dose was given; awake implies responsive; breathing_ok follows from the answer and the count)
are enumerated together in small groups, so impossible combinations never count as witnesses.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from oxi_assist.guide.conditions import (
    BAND_LIMITS,
    BREATH_COUNT,
    OXIMETER,
    PULSE_CHECK,
    QUANTITIES,
    VITAL_FACTS,
    Condition,
    Facts,
    band_of,
)
from oxi_assist.guide.safety import REGIONS, Region, breathing_ok
from oxi_assist.guide.vocabulary import ACTION_INTENTS, MEANING, PROTECTED, read_text


@dataclass(frozen=True)
class Item:
    """One piece of text a file can show, with everything the analysis needs about it."""

    path: tuple[Any, ...]  # where it is in the file (for the line number)
    what: str  # "prompt 'low-oxygen'", "step 'airway' line 2", …
    text: str
    role: str  # "prompt", "alert", "line", "label", "title", "note", "handout"
    declared: frozenset[str] = frozenset()
    when: Condition = field(default_factory=Condition)
    context: Condition = field(default_factory=Condition)  # e.g. a timer alert's timing
    labels: tuple[str, ...] = ()  # its sources' labels
    kind: str = "suggestion"
    own: frozenset[str] = frozenset()  # intents a button label may name (its own action)


@dataclass(frozen=True)
class Finding:
    path: tuple[Any, ...]
    message: str


# ---------------------------------------------------------------- the abstraction

_GROUPS: tuple[tuple[str, ...], ...] = (
    ("oximeter", "signal", "spo2", "spo2_trusted", "pulse", "band"),
    ("breathing", "breath_count", "breath_rate", "breathing_ok"),
    ("responsive", "awake"),
    ("doses", "minutes_since_naloxone", "dose_gap_minutes", "out_of_naloxone"),
    ("called_911", "minutes_since_911"),
    ("breaths_on",), ("compressions_on",), ("pulse_check",), ("oxygen",), ("withdrawal",),
    ("recovery",), ("ems",), ("minutes_in_step",),
)
_GROUP_OF = {f: i for i, g in enumerate(_GROUPS) for f in g}
_FIELD_OF_FACT = {"breaths": "breaths_on", "compressions": "compressions_on"}
_BASE = Facts()


def _field(quantity: str) -> str:
    fact = QUANTITIES[quantity].fact
    return _FIELD_OF_FACT.get(fact, fact)


class Space:
    """The finite set of situations that decides every condition of one file."""

    def __init__(self, conditions: Iterable[Condition], kit: Iterable[int] = ()) -> None:
        sizes = list(kit)
        #: with no kit sizes the kit is never used up; with them, not before the smallest kit
        self._out_from = min(sizes) if sizes else None
        cuts: dict[str, set[float]] = {}
        for c in conditions:
            for q, v in c.checks:
                quantity = QUANTITIES[q]
                if quantity.kind in ("number", "count"):
                    cuts.setdefault(quantity.fact, set()).add(float(v))
        cuts.setdefault("spo2", set()).update(lo for _, lo in BAND_LIMITS)
        cuts.setdefault("doses", set()).update((1.0, 2.0, *map(float, sizes)))
        self._values = {fact: _representatives(vals, whole=fact == "doses")
                        for fact, vals in cuts.items()}
        self._cache: dict[int, list[dict[str, Any]]] = {}

    def values(self, fact: str) -> list[float]:
        """One value per interval between the thresholds of `fact`."""
        return self._values.get(fact, [0.0])

    def points(self, group: int) -> list[dict[str, Any]]:
        hit = self._cache.get(group)
        if hit is None:
            hit = self._cache[group] = list(self._generate(group))
        return hit

    def _generate(self, group: int) -> Iterator[dict[str, Any]]:
        g = _GROUPS[group]
        if g[0] == "oximeter":
            for ox in OXIMETER:
                yield {"oximeter": ox, "signal": "none", "spo2": None, "spo2_trusted": False,
                       "pulse": None, "band": "unknown"}
                if ox != "on":
                    continue
                for signal in ("good", "poor"):
                    for spo2, pulse in itertools.product(self.values("spo2"),
                                                         [None, *self.values("pulse")]):
                        yield {"oximeter": ox, "signal": signal, "spo2": spo2,
                               "spo2_trusted": signal == "good", "pulse": pulse,
                               "band": band_of(spo2, signal)}
        elif g[0] == "breathing":
            # simplest situations first, so a witness reads "breathing=unknown" when it can
            for answer, count in itertools.product(("unknown", "not_normal", "normal"),
                                                   BREATH_COUNT):
                rates = self.values("breath_rate") if count == "ready" else [None]
                for rate in rates:
                    yield {"breathing": answer, "breath_count": count, "breath_rate": rate,
                           "breathing_ok": breathing_ok(answer, rate)}
        elif g[0] == "responsive":
            yield from ({"responsive": r, "awake": a}
                        for r, a in (("unknown", False), ("no", False), ("yes", False),
                                     ("yes", True)))
        elif g[0] == "doses":
            for n in self.values("doses"):
                if n == 0:
                    yield {"doses": 0, "minutes_since_naloxone": None,
                           "dose_gap_minutes": None, "out_of_naloxone": False}
                    continue
                gaps = self.values("dose_gap_minutes") if n >= 2 else [None]
                outs = (False, True) if self._out_from is not None and n >= self._out_from \
                    else (False,)
                for since, gap, out in itertools.product(self.values("minutes_since_naloxone"),
                                                         gaps, outs):
                    yield {"doses": int(n), "minutes_since_naloxone": since,
                           "dose_gap_minutes": gap, "out_of_naloxone": out}
        elif g[0] == "called_911":
            yield {"called_911": False, "minutes_since_911": None}
            for m in self.values("minutes_since_911"):
                yield {"called_911": True, "minutes_since_911": m}
        else:
            name = g[0]
            if name == "pulse_check":
                yield from ({name: v} for v in PULSE_CHECK)
            elif name == "minutes_in_step":
                yield from ({name: v} for v in self.values("minutes_in_step"))
            else:
                yield from ({name: v} for v in (False, True))

    def witness(self, item: Condition, trusted: bool, region: Condition
                ) -> dict[str, Any] | None:
        """A situation where `item` (evaluated as the engine does) and `region` both hold,
        or None when there is none."""
        by_group: dict[int, tuple[list[tuple[str, Any]], list[tuple[str, Any]]]] = {}
        for q, v in item.checks:
            by_group.setdefault(_GROUP_OF[_field(q)], ([], []))[0].append((q, v))
        for q, v in region.checks:
            by_group.setdefault(_GROUP_OF[_field(q)], ([], []))[1].append((q, v))
        found: dict[str, Any] = {}
        for group, (mine, theirs) in by_group.items():
            a, b = Condition(tuple(mine)), Condition(tuple(theirs))
            for pt in self.points(group):
                facts = replace(_BASE, **pt)
                seen = facts.trusted() if trusted else facts
                if a.holds(seen) and b.holds(facts):
                    found.update(pt)
                    break
            else:
                return None
        return found


def _representatives(cuts: Iterable[float], *, whole: bool) -> list[float]:
    """A value for each interval [t_i, t_i+1) of the thresholds, and one below the lowest
    (a number is never below 0). Conditions compare with `<` and `≥` only, so any value of an
    interval decides them all like every other value of it."""
    vals = sorted(set(cuts))
    if not vals:
        return [0.0]
    if whole or vals[0] <= 0.0:
        return sorted({0.0, *vals})
    below = vals[0] - 1.0 if vals[0] > 1.0 else vals[0] / 2.0
    return [below, *vals]


def _describe(point: dict[str, Any], *conds: Condition) -> str:
    fields = list(dict.fromkeys(_field(q) for c in conds for q, _ in c.checks))
    if "breathing_ok" in fields:  # say what makes breathing (not) normal
        i = fields.index("breathing_ok") + 1
        fields[i:i] = ["breathing", "breath_rate"]
        fields = list(dict.fromkeys(fields))
    parts = []
    for f in fields:
        v = point.get(f)
        name = {"breaths_on": "breaths", "compressions_on": "compressions"}.get(f, f)
        if isinstance(v, bool):
            shown: Any = ("on" if v else "off") if f in ("breaths_on", "compressions_on") \
                else str(v).lower()
        elif v is None:
            shown = "none"
        elif isinstance(v, float):
            shown = f"{v:g}"
        else:
            shown = v
        parts.append(f"{name}={shown}")
    return ", ".join(parts)


# ---------------------------------------------------------------- the checks

def _uses_vitals(c: Condition) -> list[str]:
    return [q for q, _ in c.checks if QUANTITIES[q].fact in VITAL_FACTS]


def analyse(items: list[Item], kit: Iterable[int] = (),
            extra: Iterable[Condition] = ()) -> list[Finding]:
    """Every safety problem of the items, at most one per item and intent. `kit`: the doses
    of each declared naloxone kit (none declared: the kit is never counted as used up)."""
    regions = [r.when for rs in REGIONS.values() for r in rs]
    space = Space([*regions, *extra, *(i.when for i in items), *(i.context for i in items)],
                  kit)
    out: list[Finding] = []
    for it in items:
        out.extend(_check(it, space))
    return out


def _check(it: Item, space: Space) -> Iterator[Finding]:
    said = {c.intent: c.phrase for c in read_text(it.text)}
    protected = [i for i in said if i in PROTECTED]
    if it.role in ("title", "note", "handout", "label"):
        for intent in protected:
            if it.role == "label" and intent in it.own:
                continue
            if it.role == "handout" and intent == "reassure":
                continue  # the handout's own reference values (95–100 % normal)
            why = {"title": "a step title only names the step",
                   "label": "a button only names its own action",
                   "note": "a note shown with a step is reference, not an instruction",
                   "handout": "a handout note is reference, not an instruction"}[it.role]
            yield Finding(it.path, f"{it.what} says '{said[intent]}' "
                                   f"({MEANING[intent]}): {why}")
        return
    for intent in protected:
        if intent not in it.declared:
            yield Finding(it.path, f"{it.what} says '{said[intent]}' ({MEANING[intent]}) "
                                   f"but its `does` does not list \"{intent}\"")
    for intent in sorted(it.declared - said.keys()):
        yield Finding(it.path, f"{it.what} declares does = \"{intent}\" but its text says "
                               f"nothing the vocabulary reads as {MEANING[intent]}")
    does = it.declared | said.keys()
    if "reassure" in does and it.kind == "warning":
        yield Finding(it.path, f"{it.what} reassures, so it cannot be a warning")
    vitals = _uses_vitals(it.when)
    if "naloxone" in does and vitals:
        yield Finding(it.path, f"{it.what} ties naloxone to {vitals[0]}: BC decides naloxone "
                               f"on breathing, never on the oximeter's number")
    acts = [i for i in ACTION_INTENTS if i in does]
    if acts and vitals and "app-defined" not in it.labels:
        yield Finding(it.path, f"{it.what} ties '{MEANING[acts[0]]}' to {vitals[0]}: an "
                               f"action tied to an oximeter number is not BC guidance, so it "
                               f"must cite an app-defined source")
    trusted = bool(acts)
    cond = it.when & it.context
    for intent in (i for i in PROTECTED if i in does):
        hit = _first_region(space, cond, trusted, REGIONS[intent])
        if hit is None:
            continue
        region, point = hit
        phrase = f"'{said[intent]}'" if intent in said else f"does = \"{intent}\""
        yield Finding(it.path, f"{it.what} can show while {region.why}, and it says {phrase} "
                               f"({MEANING[intent]}) — e.g. "
                               f"{_describe(point, region.when, cond)}")


def _first_region(space: Space, cond: Condition, trusted: bool,
                  regions: tuple[Region, ...]) -> tuple[Region, dict[str, Any]] | None:
    for region in regions:
        point = space.witness(cond, trusted, region.when)
        if point is not None:
            return region, point
    return None
