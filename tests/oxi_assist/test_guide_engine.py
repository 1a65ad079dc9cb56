"""The guide walking through the BC guidance on hand-made vitals and a virtual clock."""

from __future__ import annotations

import pytest

from drivers.clock import VirtualClock
from oxi_assist import guidance_schema
from oxi_assist.actions import Action as A
from oxi_assist.guide import Guide, GuideState
from oxi_assist.vitals import Alarm, Band, Priority, Quality, VitalsState


@pytest.fixture(scope="module")
def bc() -> guidance_schema.Protocol:
    return guidance_schema.load("bc-save-me")


def vitals(t: float, spo2: float | None, quality: Quality = Quality.GOOD, *,
           stale: bool = False, alarms: tuple[Alarm, ...] = ()) -> VitalsState:
    if spo2 is None:
        band = Band.UNKNOWN
    else:
        band = (Band.NORMAL if spo2 >= 95 else Band.WATCH if spo2 >= 90
                else Band.LOW if spo2 >= 85 else Band.SEVERE)
    return VitalsState(t, spo2, 70.0 if spo2 is not None else None, 2.0, band, quality, None,
                       alarms=alarms, stale=stale)


def texts(s: GuideState) -> list[str]:
    return [p.text for p in (*s.warnings, *s.suggestions)]


def offered(s: GuideState) -> set[A]:
    return {o.action for o in s.offered}


def test_starts_on_stimulate_with_sources(bc: guidance_schema.Protocol) -> None:
    s = Guide("bc-save-me", VirtualClock()).state
    assert s.step.id == "stimulate"
    assert s.step.lines and len(s.step.lines) == len(s.step.line_sources)
    assert "BC-official" in s.step.labels
    assert all(r.url.startswith("http") for r in s.step.sources)
    assert {A.CALLED_911, A.BREATHS_START, A.NALOXONE} <= offered(s)
    assert s.guidance_id == "bc-save-me"
    assert [n.id for n in s.notes] == ["oximeter-placement"]


def test_full_response_path(bc: guidance_schema.Protocol) -> None:
    clock = VirtualClock()
    g = Guide(bc, clock)
    steps = []
    for t, act in [(5, A.UNRESPONSIVE), (20, A.CALLED_911), (40, A.BREATHING_NOT_NORMAL),
                   (50, A.BREATHS_START), (80, A.BREATHING_NOT_NORMAL)]:
        clock.set(t)
        steps.append(g.on_action(act).step.id)
    assert steps == ["call-911", "airway", "ventilate", "evaluate", "medication"]
    clock.set(100)
    s = g.on_action(A.NALOXONE, route="im")
    assert s.step.id == "evaluate-support" and s.doses == 1
    clock.set(400)
    s = g.on_action(A.BREATHING_NORMAL)
    assert s.step.id == "sedation"
    s = g.on_action(A.RECOVERY_POSITION)
    assert s.step.id == "watch"
    clock.set(900)
    s = g.on_action(A.AWAKE)
    assert s.step.id == "aftercare" and not s.breaths_on
    s = g.on_action(A.EMS_ARRIVED)
    assert s.step.id == "handover"
    s = g.on_action(A.END)
    assert s.step.id == "debrief" and s.ended and s.offered == ()
    kinds = [e.kind for e in s.log]
    assert kinds.count("step") == 12  # the start step and eleven moves
    assert [e.t for e in s.log] == sorted(e.t for e in s.log)


def test_metronome_beats_every_five_seconds(bc: guidance_schema.Protocol) -> None:
    clock = VirtualClock()
    g = Guide(bc, clock)
    clock.set(10)
    g.on_action(A.BREATHS_START)
    clock.set(22.5)
    m = next(t for t in g.tick().timers if t.id == "metronome")
    assert m.beat == 3 and m.phase == pytest.approx(0.5) and m.interval == 5.0
    g.on_action(A.BREATHS_STOP)
    assert all(t.id != "metronome" for t in g.state.timers)
    assert not g.state.breaths_on


def test_naloxone_timers_prompt_at_3_and_5_minutes(bc: guidance_schema.Protocol) -> None:
    clock = VirtualClock()
    g = Guide(bc, clock)
    g.on_action(A.NALOXONE, t=60.0)
    s = g.tick(60 + 179)
    timer = next(t for t in s.timers if t.id == "naloxone-1")
    assert not timer.due and timer.elapsed == pytest.approx(179)
    s = g.tick(60 + 180)
    assert any("3 min since dose 1" in x for x in texts(s))
    s = g.tick(60 + 300)
    nal = [p for p in s.suggestions if p.suggests == "naloxone"]
    assert nal and "5 min since dose 1" in nal[0].text
    assert any(r.label == "app-defined" for r in nal[0].sources)
    # a second dose starts its own timer; the first one's prompt stops
    s = g.on_action(A.NALOXONE, t=400.0)
    ids = [t.id for t in s.timers]
    assert "naloxone-1" in ids and "naloxone-2" in ids
    assert not any("dose 1" in x for x in texts(s))
    assert s.doses == 2
    assert sum(1 for e in s.log if e.kind == "timer" and "5 min since dose 1" in e.text) == 1


def test_low_spo2_while_breathing_for_them(bc: guidance_schema.Protocol) -> None:
    g = Guide(bc)
    g.on_action(A.BREATHS_START, t=1.0)
    s = g.on_vitals(vitals(2.0, 84))
    assert "Oxygen is low (below 90%). Keep giving breaths: 1 every 5 seconds." in texts(s)
    assert s.suggestions[0].priority == 3


def test_poor_signal_warns_and_never_reassures(bc: guidance_schema.Protocol) -> None:
    g = Guide(bc)
    s = g.on_vitals(vitals(1.0, 98, Quality.GOOD))
    assert any(p.reassuring for p in s.suggestions)
    assert not s.warnings
    s = g.on_vitals(vitals(2.0, 98, Quality.POOR))
    assert not any(p.reassuring for p in s.suggestions)
    assert any("not the screen" in p.text for p in s.warnings)
    s = g.on_vitals(vitals(3.0, 98, Quality.GOOD, stale=True))
    assert not any(p.reassuring for p in s.suggestions)
    assert any("No reading" in p.text for p in s.warnings)
    s = g.on_vitals(vitals(4.0, None, Quality.NONE))
    assert any("not the screen" in p.text for p in s.warnings)


def test_low_value_on_poor_signal_still_prompts_action(bc: guidance_schema.Protocol) -> None:
    g = Guide(bc)
    s = g.on_vitals(vitals(1.0, 82, Quality.POOR))
    assert any(p.suggests == "breaths" for p in s.suggestions)


def test_prolonged_sedation_no_more_naloxone(bc: guidance_schema.Protocol) -> None:
    g = Guide(bc)
    g.on_action(A.NALOXONE, t=0.0)
    g.on_action(A.BREATHING_NORMAL, t=200.0)
    s = g.on_vitals(vitals(400.0, 93))
    assert s.step.id == "sedation"
    assert not any(p.suggests == "naloxone" for p in s.suggestions)
    assert any("no more naloxone" in p.text for p in s.suggestions)
    assert not any(t.due for t in s.timers if t.id.startswith("naloxone"))
    # naloxone stays offered: the oximeter never takes it away
    assert A.NALOXONE in offered(s)
    # oxygen falls again: the guide asks about breathing and the overdose coming back
    s = g.on_vitals(vitals(900.0, 86))
    assert any(p.suggests == "naloxone" for p in s.suggestions)
    assert any(e.kind == "prompt" and "coming back" in e.text for e in s.log)


def test_breath_counter_offers_the_answer(bc: guidance_schema.Protocol) -> None:
    g = Guide(bc)
    g.on_action(A.NALOXONE, t=0.0)
    for t in range(100, 131, 10):  # 6/min
        g.on_action(A.BREATH_TAP, t=float(t))
    s = g.state
    assert s.breathing.per_min == pytest.approx(6.0)
    hinted = [o for o in s.offered if o.hint]
    assert hinted and hinted[0].action is A.BREATHING_NOT_NORMAL
    assert "6/min" in hinted[0].hint
    assert any("under 10 breaths" in x for x in texts(s))
    # the responder still answers by hand
    s = g.on_action(A.BREATHING_NOT_NORMAL, t=131.0)
    assert s.breathing_answer == "not_normal"
    assert any("counted 6/min" in e.text for e in s.log)


def test_nonsense_is_logged_and_ignored(bc: guidance_schema.Protocol) -> None:
    g = Guide(bc)
    before = g.state.step.id
    s = g.on_action("dance", t=1.0)
    s = g.on_action(A.BREATHS_STOP, t=2.0)
    s = g.on_action(A.NALOXONE, t=3.0, route="oral", dose="seven")
    assert s.doses == 1
    s = g.on_action(A.CALLED_911, t=float("nan"))
    s = g.on_vitals("not vitals")  # type: ignore[arg-type]
    s = g.tick(-50.0)
    assert s.t == 3.0
    ignored = [e.text for e in s.log if e.kind == "ignored"]
    assert len(ignored) >= 5
    assert before == "stimulate"
    g.on_action(A.END, t=4.0)
    s = g.on_action(A.NALOXONE, t=5.0)
    assert s.doses == 1 and s.log[-1].kind == "ignored"


def test_alarms_are_logged_once(bc: guidance_schema.Protocol) -> None:
    g = Guide(bc)
    a = Alarm("spo2_low", Priority.HIGH, "SpO2 below 90%", 1.0)
    g.on_vitals(vitals(1.0, 85, alarms=(a,)))
    g.on_vitals(vitals(2.0, 84, alarms=(a,)))
    s = g.on_vitals(vitals(3.0, 83))
    assert [e.text for e in s.log if e.kind == "alarm"] == ["high: SpO2 below 90%"]


def test_time_from_clock_or_function(bc: guidance_schema.Protocol) -> None:
    now = [100.0]
    g = Guide(bc, lambda: now[0])
    g.on_action(A.CALLED_911)
    now[0] = 160.0
    s = g.tick()
    t = next(t for t in s.timers if t.id == "since-911")
    assert t.elapsed == pytest.approx(60.0)
    with pytest.raises(TypeError):
        Guide(bc, 5)


def test_resedation_watch_counts_down(bc: guidance_schema.Protocol) -> None:
    g = Guide(bc)
    g.on_action(A.NALOXONE, t=0.0)
    s = g.tick(600.0)
    w = next(t for t in s.timers if t.id == "resedation-watch")
    assert w.remaining == pytest.approx(5400 - 600)
    s = g.tick(6000.0)
    w = next(t for t in s.timers if t.id == "resedation-watch")
    assert w.remaining == 0.0 and w.due


def test_a_hovering_value_does_not_flood_the_log(bc: guidance_schema.Protocol) -> None:
    g = Guide(bc)
    for t in range(1, 41):  # 89 / 91 alternating for 40 s
        g.on_vitals(vitals(float(t), 89 if t % 2 else 91))
    s = g.on_vitals(vitals(41.0, 96))
    low = [e for e in s.log if e.kind == "prompt" and "Oxygen is low" in e.text]
    assert len(low) == 1
    s = g.on_vitals(vitals(120.0, 85))  # back after more than the quiet time
    low = [e for e in s.log if e.kind == "prompt" and "Oxygen is low" in e.text]
    assert [e.t for e in low] == [1.0, 120.0]


def test_stream_of_vitals_runs_rules_on_change_and_a_few_times_a_second(
        bc: guidance_schema.Protocol, monkeypatch: pytest.MonkeyPatch) -> None:
    g = Guide(bc)
    runs: list[float] = []
    real = g._refresh

    def counting() -> None:
        runs.append(g._t)
        real()

    monkeypatch.setattr(g, "_refresh", counting)
    for i in range(100):  # one second at 100 Hz, same band, values wandering
        g.take_vitals(vitals(1.0 + i / 100, 96.0 + (i % 5) / 10))
    assert 4 <= len(runs) <= 6  # the first, then every 0.25 s of guide time
    # a band change runs the rules at once, and its prompt is logged at that moment
    g.take_vitals(vitals(2.005, 84))
    assert runs[-1] == pytest.approx(2.005)
    assert any(e.kind == "prompt" and e.t == pytest.approx(2.005) for e in g.log)
    # values taken between runs are what `state` shows: nothing read is out of date
    g.take_vitals(vitals(2.01, 83))
    before = len(runs)
    s = g.state
    assert len(runs) == before + 1 and s.t == pytest.approx(2.01)
