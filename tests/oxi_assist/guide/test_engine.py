"""The guide walking through the BC guidance on hand-made vitals and a virtual clock."""

from __future__ import annotations

import pytest

from drivers.clock import VirtualClock
from oxi_assist.actions import Action as A
from oxi_assist.guide import schema as guidance_schema
from oxi_assist.guide.engine import FALLBACK_WARNING, REMINDER_911, Guide, GuideState
from oxi_assist.guide.state import Prompt, SourceRef, origin_label
from oxi_assist.monitor.priority import Priority
from oxi_assist.monitor.vitals import Alarm, Band, Quality, VitalsState


@pytest.fixture(scope="module")
def bc() -> guidance_schema.Guidance:
    return guidance_schema.load("bc-save-me")


def vitals(t: float, spo2: float | None, quality: Quality = Quality.GOOD, *,
           stale: bool = False, alarms: tuple[Alarm, ...] = (),
           pulse: float = 70.0) -> VitalsState:
    if spo2 is None:
        band = Band.UNKNOWN
    else:
        band = (Band.NORMAL if spo2 >= 95 else Band.WATCH if spo2 >= 90
                else Band.LOW if spo2 >= 85 else Band.SEVERE)
    return VitalsState(t, spo2, pulse if spo2 is not None else None, 2.0, band, quality, None,
                       alarms=alarms, stale=stale)


def texts(s: GuideState) -> list[str]:
    return [p.text for p in (*s.warnings, *s.suggestions)]


def said(s: GuideState) -> str:
    """Everything on screen as one lower-case text: step, lines, prompts, due timers."""
    parts = [s.step.title, *s.step.lines, *texts(s), *(t.message for t in s.timers if t.due)]
    return "\n".join(parts).lower()


def offered(s: GuideState) -> set[A]:
    return {o.action for o in s.offered}


def taps(g: Guide, start: float, every: float, n: int) -> float:
    t = start
    for _ in range(n):
        g.on_action(A.BREATH_TAP, t=t)
        t += every
    return t - every


def test_starts_on_stimulate_with_sources(bc: guidance_schema.Guidance) -> None:
    s = Guide("bc-save-me", VirtualClock()).state
    assert s.step.id == "stimulate"
    assert s.step.lines and len(s.step.lines) == len(s.step.line_sources)
    assert "BC-official" in s.step.labels
    assert s.step.origin == "BC" and s.step.origins == ("BC", "BC", "BC")
    assert all(r.url.startswith("http") for r in s.step.sources)
    assert {A.CALLED_911, A.BREATHS_START, A.NALOXONE, A.COMPRESSIONS_START} <= offered(s)
    assert s.guidance_id == "bc-save-me"
    assert [n.id for n in s.notes] == ["overdose-signs"]
    assert s.kit == (("im", 3), ("nasal", 2))
    assert [n.id for n in s.handout] == ["oximeter-placement", "oximeter-reading",
                                         "oximeter-numbers"]
    assert s.start_cue is not None and s.start_cue.id == "oximeter-placement"
    assert any("thumb" in ln for ln in s.start_cue.lines)
    assert s.responsive == "unknown" and not s.compressions_on and s.last_dose_t is None


def test_full_response_path(bc: guidance_schema.Guidance) -> None:
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
    assert s.step.id == "evaluate-support" and s.doses == 1 and s.last_dose_t == 100
    clock.set(400)
    s = g.on_action(A.BREATHING_NORMAL)
    assert s.step.id == "sedation"
    s = g.on_action(A.RECOVERY_POSITION)
    assert s.step.id == "watch"
    clock.set(900)
    s = g.on_action(A.AWAKE)
    assert s.step.id == "aftercare" and not s.breaths_on and s.responsive == "yes"
    s = g.on_action(A.EMS_ARRIVED)
    assert s.step.id == "handover"
    s = g.on_action(A.END)
    assert s.step.id == "debrief" and s.ended and s.offered == ()
    steps_logged = [e for e in s.log if e.kind == "step"]
    assert len(steps_logged) == 12  # the start step and eleven moves
    assert [e.t for e in s.log] == sorted(e.t for e in s.log)


def test_log_is_plain_words_with_ids_apart_and_no_actions_or_alarms(
        bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    g.on_action(A.UNRESPONSIVE, t=5.0)
    a = Alarm("spo2_low", Priority.HIGH, "SpO2 below 90%", 6.0)
    g.on_vitals(vitals(6.0, 85, alarms=(a,)))
    g.on_action(A.CALLED_911, t=7.0)
    g.on_action(A.NALOXONE, t=8.0, route="nasal")
    log = g.log
    assert log[0].text == "S: Stimulate" and log[0].ref == "stimulate"
    assert {e.kind for e in log} <= {"step", "prompt", "warning", "timer", "info", "ignored"}
    assert not any("911 called" in e.text or "naloxone dose" in e.text.lower() for e in log)
    assert not any(e.text == "SpO2 below 90%" for e in log)
    assert all(":" not in e.ref or e.kind == "timer" for e in log)
    steps = [(e.text, e.ref) for e in log if e.kind == "step"]
    assert ("Call 911", "call-911") in steps and ("A: Airway", "airway") in steps
    assert not any(e.text.startswith(e.ref + ":") for e in log if e.ref)


def test_origin_label_is_one_function() -> None:
    bc = SourceRef("gov", "BC-official", "https://x")
    derived = SourceRef("h", "BC-derived", "https://y")
    app = SourceRef("app", "app-defined")
    other = SourceRef("ahs", "other-jurisdiction", "https://z")
    assert origin_label(()) == ""
    assert origin_label((bc,)) == "BC"
    assert origin_label((derived, bc)) == "BC"
    assert origin_label((app, bc)) == "BC + ours"
    assert origin_label((app,)) == "ours"
    assert origin_label((other, app)) == "ours + other jurisdiction"
    assert origin_label((SourceRef("r", "research", "u"),
                         SourceRef("c", "clinical-ref", "u"))) == "clinical + research"
    p = Prompt("p", "x", sources=(bc, app))
    assert p.origin == "BC + ours"


def test_numbers_tied_to_actions_are_shown_as_ours(bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    g.on_action(A.BREATHS_START, t=1.0)
    s = g.on_vitals(vitals(2.0, 84))
    low = next(p for p in s.suggestions if p.id == "low-oxygen-breathing-for-them")
    assert low.origin == "BC + ours"
    assert "keep_breaths" in low.does and low.suggests == "breaths"


def test_offered_core_actions_nasal_and_cpr_toggle(bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    s = g.state
    nal = [o for o in s.offered if o.action is A.NALOXONE]
    assert sorted(o.params_dict["route"] for o in nal) == ["im", "nasal"]
    assert all(o.params_dict["dose"] == "1" and o.safety for o in nal)
    assert A.COMPRESSIONS_START in offered(s) and A.COMPRESSIONS_STOP not in offered(s)
    s = g.on_action(A.COMPRESSIONS_START, t=1.0)
    assert s.compressions_on and s.step.id == "cpr"
    assert A.COMPRESSIONS_STOP in offered(s) and A.COMPRESSIONS_START not in offered(s)
    s = g.on_action(A.NALOXONE, t=2.0, route="nasal")
    assert dict(s.doses_by_route) == {"im": 0, "nasal": 1}
    assert {o.params_dict["dose"] for o in s.offered if o.action is A.NALOXONE} == {"2"}
    s = g.on_action(A.COMPRESSIONS_STOP, t=3.0)
    assert not s.compressions_on
    s = g.on_action(A.COMPRESSIONS_STOP, t=4.0)  # not on: ignored, logged
    assert s.log[-1].kind == "ignored"


def test_metronome_beats_every_five_seconds(bc: guidance_schema.Guidance) -> None:
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


def test_naloxone_timers_check_at_3_and_5_minutes(bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    g.on_action(A.UNRESPONSIVE, t=0.0)
    g.on_action(A.BREATHS_START, t=30.0)
    g.on_action(A.NALOXONE, t=60.0)
    s = g.tick(60 + 179)
    timer = next(t for t in s.timers if t.id == "naloxone-1")
    assert not timer.due and timer.elapsed == pytest.approx(179)
    assert "another dose" not in said(s)
    s = g.tick(60 + 180)
    assert any("3 min since dose 1" in x for x in texts(s))
    s = g.tick(60 + 299)
    assert "another dose" not in said(s)
    s = g.tick(60 + 300)
    nal = [p for p in s.suggestions if "naloxone" in p.does]
    assert nal and "5 min since dose 1" in nal[0].text and "Keep giving breaths" in nal[0].text
    assert nal[0].origin == "BC + ours"
    # a second dose starts its own timer; the first one's prompt stops
    s = g.on_action(A.NALOXONE, t=400.0)
    ids = [t.id for t in s.timers]
    assert "naloxone-1" in ids and "naloxone-2" in ids
    assert not any("dose 1" in x for x in texts(s))
    assert s.doses == 2
    assert sum(1 for e in s.log if e.kind == "timer" and "5 min since dose 1" in e.text) == 1


def test_each_dose_makes_the_breathing_answer_stale(bc: guidance_schema.Guidance) -> None:
    """An old "breathing normally" must not silence the checks after a later dose."""
    g = Guide(bc)
    g.on_action(A.UNRESPONSIVE, t=0.0)
    g.on_action(A.NALOXONE, t=10.0)
    s = g.on_action(A.BREATHING_NORMAL, t=200.0)
    assert s.breathing_answer == "normal"
    s = g.on_action(A.NALOXONE, t=1000.0)  # re-sedation: another dose
    assert s.breathing_answer == "unknown"
    s = g.tick(1000 + 180)
    assert any("3 min since dose 2" in x for x in texts(s))
    s = g.tick(1000 + 300)
    assert any("5 min since dose 2" in x and "another dose" in x for x in texts(s))


def test_dose_given_too_soon_is_questioned_never_blocked(bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    g.on_action(A.UNRESPONSIVE, t=0.0)
    g.on_action(A.BREATHS_START, t=5.0)
    g.on_action(A.NALOXONE, t=60.0)
    s = g.on_action(A.NALOXONE, t=120.0)
    assert s.doses == 2
    assert "Dose 2 was 1 min after dose 1. Naloxone takes 3 to 5 minutes to work: keep giving " \
           "breaths." in texts(s)
    assert any(p.kind == "warning" and p.id == "dose-too-soon" for p in s.warnings)
    assert A.NALOXONE in offered(s)  # never blocked
    s = g.tick(120 + 180)
    assert not any(p.id == "dose-too-soon" for p in s.warnings)


def test_kit_runs_out_then_breaths_until_ems(bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    g.on_action(A.UNRESPONSIVE, t=0.0)
    g.on_action(A.CALLED_911, t=1.0)
    g.on_action(A.BREATHS_START, t=2.0)
    for i in range(3):
        s = g.on_action(A.NALOXONE, t=10.0 + 400 * i, route="im")
    assert dict(s.doses_by_route)["im"] == 3
    s = g.tick(10 + 800 + 300)
    text = said(s)
    assert "no naloxone left" in text and "until ems arrives" in text
    assert "give another dose" not in text
    # another kit: recording a 4th dose is accepted and opens it
    s = g.on_action(A.NALOXONE, t=1200.0, route="im")
    assert s.doses == 4
    s = g.tick(1200 + 300)
    assert "give another dose" in said(s)


def test_nasal_kit_holds_two(bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    g.on_action(A.UNRESPONSIVE, t=0.0)
    g.on_action(A.NALOXONE, t=10.0, route="nasal")
    s = g.tick(10 + 300)
    assert "give another dose" in said(s)
    g.on_action(A.NALOXONE, t=400.0, route="nasal")
    s = g.tick(400 + 300)
    assert "no naloxone left" in said(s) and "give another dose" not in said(s)


def test_unresponsive_from_aftercare_returns_to_the_response(
        bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    g.on_action(A.UNRESPONSIVE, t=0.0)
    g.on_action(A.NALOXONE, t=30.0)
    s = g.on_action(A.AWAKE, t=300.0)
    assert s.step.id == "aftercare" and any(t.id == "no-use" for t in s.timers)
    s = g.on_action(A.UNRESPONSIVE, t=1500.0)
    assert s.step.id == "call-911"  # 911 was never called
    assert not any(t.id == "no-use" for t in s.timers)
    assert s.responsive == "no"
    assert "call 911" in said(s)
    s = g.on_action(A.CALLED_911, t=1510.0)
    s = g.on_action(A.AWAKE, t=1600.0)
    s = g.on_action(A.UNRESPONSIVE, t=1700.0)
    assert s.step.id == "airway"  # 911 called: straight to airway and breathing


def test_responds_then_unresponsive_reminds_911(bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    s = g.on_action(A.RESPONSIVE, t=5.0)
    assert s.step.id == "watch" and not any(p is REMINDER_911 for p in s.warnings)
    s = g.on_action(A.UNRESPONSIVE, t=60.0)
    assert s.step.id == "call-911"
    assert any("911 is not called yet" in x for x in texts(s))


def test_acting_before_911_keeps_reminding_on_every_step(bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    seen = set()
    for t, act in [(5, A.BREATHS_START), (30, A.BREATHING_NOT_NORMAL), (60, A.NALOXONE),
                   (400, A.BREATHING_NORMAL), (420, A.RECOVERY_POSITION)]:
        s = g.on_action(act, t=float(t))
        seen.add(s.step.id)
        assert "call 911" in said(s), s.step.id
    assert len(seen) >= 4
    s = g.on_action(A.CALLED_911, t=500.0)
    assert "911 is not called yet" not in said(s)


def test_breath_counter_offers_the_answer_and_words_it_about_the_person(
        bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    g.on_action(A.UNRESPONSIVE, t=0.0)
    g.on_action(A.NALOXONE, t=1.0)
    taps(g, 100.0, 10.0, 4)  # 6/min
    s = g.state
    assert s.breathing.per_min == pytest.approx(6.0)
    hinted = [o for o in s.offered if o.hint]
    assert hinted and hinted[0].action is A.BREATHING_NOT_NORMAL
    assert "6/min" in hinted[0].hint
    assert "Their breathing: 6 a minute — not normal breathing. Give breaths." in texts(s)
    assert not any("you counted" in x.lower() for x in texts(s))
    assert any(e.kind == "info" and e.text == "Their breathing, counted: 6 a minute"
               for e in s.log)
    s = g.on_action(A.BREATHING_NOT_NORMAL, t=131.0)
    assert s.breathing_answer == "not_normal"


def test_ten_or_eleven_a_minute_is_borderline_not_normal(bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    taps(g, 0.0, 5.5, 5)  # about 10.9 a minute
    s = g.state
    hint = next(o for o in s.offered if o.hint)
    assert hint.action is A.BREATHING_NOT_NORMAL and "borderline" in hint.hint
    assert any("slower than normal" in x for x in texts(s))
    assert not any(o.action is A.BREATHING_NORMAL and o.hint for o in s.offered)


def test_low_value_on_poor_signal_only_asks_to_check(bc: guidance_schema.Guidance) -> None:
    """A doubtful low number leads to checking the person, never to breaths or naloxone."""
    g = Guide(bc)
    g.on_action(A.UNRESPONSIVE, t=0.5)
    s = g.on_vitals(vitals(1.0, 82, Quality.POOR))
    assert any("poor signal" in p.text.lower() and "check" in p.does for p in s.warnings)
    assert not any({"breaths", "naloxone", "keep_breaths"} & p.does
                   for p in (*s.warnings, *s.suggestions))
    s = g.on_vitals(vitals(2.0, 82, Quality.GOOD))
    assert any("breaths" in p.does for p in s.suggestions)


def test_poor_signal_warns_and_never_reassures(bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    g.on_action(A.RESPONSIVE, t=0.5)
    g.on_action(A.BREATHING_NORMAL, t=0.6)
    s = g.on_vitals(vitals(1.0, 98, Quality.GOOD))
    assert [p.id for p in s.suggestions if p.reassuring] == ["normal-range"]
    assert next(p for p in s.suggestions if p.reassuring).kind == "reassurance"
    assert not s.warnings
    s = g.on_vitals(vitals(2.0, 98, Quality.POOR))
    assert not any(p.reassuring for p in s.suggestions)
    assert any("not the screen" in p.text for p in s.warnings)
    s = g.on_vitals(vitals(3.0, 98, Quality.GOOD, stale=True))
    assert not any(p.reassuring for p in s.suggestions)
    assert any("No reading" in p.text for p in s.warnings)
    s = g.on_vitals(vitals(4.0, None, Quality.NONE))
    assert any("check" in p.does for p in s.warnings)


def test_no_normal_range_at_the_wrong_time(bc: guidance_schema.Guidance) -> None:
    """95–100 % "normal" is never said to someone whose person does not respond, is not
    breathing normally, or is on oxygen."""
    g = Guide(bc)
    s = g.on_vitals(vitals(1.0, 98))
    assert not any(p.reassuring for p in s.suggestions)  # not known to respond
    g.on_action(A.UNRESPONSIVE, t=2.0)
    s = g.on_vitals(vitals(3.0, 98))
    assert not any(p.reassuring for p in s.suggestions)
    assert "normal range" not in said(s)
    g.on_action(A.AWAKE, t=4.0)
    g.on_action(A.BREATHING_NORMAL, t=5.0)
    s = g.on_vitals(vitals(6.0, 98))
    assert any(p.reassuring for p in s.suggestions)
    # reassurance comes after every other prompt
    assert s.suggestions[-1].reassuring
    g.on_action(A.OXYGEN, t=7.0)
    s = g.on_vitals(vitals(8.0, 99))
    assert not any(p.reassuring for p in s.suggestions)


def test_sedation_decides_naloxone_on_breathing_only(bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    g.on_action(A.UNRESPONSIVE, t=0.0)
    g.on_action(A.CALLED_911, t=1.0)
    g.on_action(A.NALOXONE, t=10.0)
    s = g.on_action(A.BREATHING_NORMAL, t=200.0)
    assert s.step.id == "sedation"
    s = g.on_vitals(vitals(400.0, 93))
    assert not any("naloxone" in p.does for p in s.suggestions)
    assert any("no more naloxone" in p.text for p in s.suggestions)
    assert not any(t.due for t in s.timers if t.id.startswith("naloxone"))
    assert A.NALOXONE in offered(s)  # the oximeter never takes naloxone away
    # oxygen falls (poor signal) while breathing is counted 12 a minute: recount, no naloxone
    taps(g, 500.0, 5.0, 5)
    s = g.on_vitals(vitals(520.0, 85, Quality.POOR))
    assert not any("naloxone" in p.does for p in (*s.suggestions, *s.warnings))
    s = g.on_vitals(vitals(521.0, 85, Quality.GOOD))
    assert any(p.id == "sedation-low-oxygen" for p in s.suggestions)
    assert not any("naloxone" in p.does for p in (*s.suggestions, *s.warnings))
    # breathing is now not normal: back to the response, with breaths
    s = g.on_action(A.BREATHING_NOT_NORMAL, t=600.0)
    assert s.step.id == "ventilate"


def test_recovery_position_while_not_breathing_normally(bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    g.on_action(A.UNRESPONSIVE, t=0.0)
    g.on_action(A.BREATHS_START, t=5.0)
    s = g.on_action(A.RECOVERY_POSITION, t=20.0)
    assert s.breaths_on and any(t.id == "metronome" for t in s.timers)
    assert any(p.id == "recovery-not-breathing" for p in s.warnings)
    assert "you can stop breaths" not in said(s)
    # breathing normally: the guide asks to stop breaths (it never stops them by itself)
    s = g.on_action(A.BREATHING_NORMAL, t=60.0)
    assert "you can stop breaths" in said(s) and s.breaths_on


def test_keep_giving_breaths_only_while_breaths_are_on(bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    script = [(1, A.UNRESPONSIVE), (10, A.CALLED_911), (20, A.BREATHING_NOT_NORMAL),
              (40, A.BREATHING_NOT_NORMAL), (60, A.NALOXONE), (70, A.BREATHS_START),
              (200, A.BREATHS_STOP), (380, A.NALOXONE), (400, A.BREATHS_START),
              (500, A.BREATHS_STOP), (900, A.BREATHING_NOT_NORMAL)]
    t = 0.0
    i = 0
    while t < 1200:
        while i < len(script) and script[i][0] <= t:
            g.on_action(script[i][1], t=float(script[i][0]))
            i += 1
        s = g.on_vitals(vitals(t, 86 if 100 < t < 700 else 96))
        if "keep giving breaths" in said(s) or "keep breaths going" in said(s):
            assert s.breaths_on, (t, said(s))
        t += 5.0


def test_withdrawal_gets_recovery_position_and_no_more_naloxone(
        bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    g.on_action(A.UNRESPONSIVE, t=0.0)
    g.on_action(A.NALOXONE, t=10.0)
    g.on_action(A.AWAKE, t=200.0)
    s = g.on_action(A.VOMITING, t=210.0)
    assert "no more naloxone for" in said(s) and "onto their side" in said(s)
    s = g.tick(10 + 600)
    assert not any("naloxone" in p.does for p in (*s.suggestions, *s.warnings))


def test_cpr_after_no_pulse_and_pulse_felt(bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    g.on_action(A.UNRESPONSIVE, t=0.0)
    g.on_action(A.CALLED_911, t=10.0)
    s = g.on_action(A.NO_PULSE, t=30.0)
    assert s.step.id == "cpr" and "chest compressions and breaths" in said(s)
    g.on_action(A.COMPRESSIONS_START, t=35.0)
    s = g.on_action(A.BREATHS_START, t=36.0)
    assert "stop compressions" not in said(s)
    s = g.on_action(A.PULSE, t=200.0)
    assert "pulse felt: stop compressions and keep giving breaths." in said(s)


def test_no_reading_in_an_unresponsive_person_can_mean_no_pulse(
        bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    g.on_vitals(vitals(1.0, 70))
    g.on_action(A.UNRESPONSIVE, t=2.0)
    s = g.on_vitals(vitals(3.0, None, Quality.NONE))
    assert any("can mean no pulse" in p.text for p in s.warnings)
    g.on_action(A.COMPRESSIONS_START, t=4.0)
    s = g.on_vitals(vitals(5.0, None, Quality.NONE))
    assert not any("can mean no pulse" in p.text for p in s.warnings)


def test_slow_pulse_with_low_oxygen_is_an_escalation_cue(bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    s = g.on_vitals(vitals(1.0, 84, pulse=42))
    cue = next(p for p in s.warnings if p.id == "low-pulse-low-oxygen")
    assert "ours" in cue.origin and "our number" in cue.text
    s = g.on_vitals(vitals(2.0, 84, Quality.POOR, pulse=42))
    assert not any(p.id == "low-pulse-low-oxygen" for p in s.warnings)


def test_resedation_watch_is_time_since_the_last_dose(bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    g.on_action(A.NALOXONE, t=0.0)
    s = g.tick(600.0)
    w = next(t for t in s.timers if t.id == "resedation-watch")
    assert w.remaining is None and w.elapsed == pytest.approx(600)
    assert "20–90 min" in w.label
    g.on_action(A.NALOXONE, t=900.0)
    s = g.tick(1000.0)
    w = next(t for t in s.timers if t.id == "resedation-watch")
    assert w.elapsed == pytest.approx(100)  # since the LAST dose
    s = g.tick(900 + 5400)
    w = next(t for t in s.timers if t.id == "resedation-watch")
    assert w.due and "can still come back" in w.message
    assert all(t.remaining is None for t in s.timers)  # no countdown anywhere


def test_nonsense_is_logged_and_ignored(bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    before = g.state.step.id
    s = g.on_action("dance", t=1.0)
    s = g.on_action(A.BREATHS_STOP, t=2.0)
    s = g.on_action(A.NALOXONE, t=3.0, route="oral", dose="seven")
    assert s.doses == 1 and dict(s.doses_by_route)["im"] == 1
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


def test_time_from_clock_or_function(bc: guidance_schema.Guidance) -> None:
    now = [100.0]
    g = Guide(bc, lambda: now[0])
    g.on_action(A.CALLED_911)
    now[0] = 160.0
    s = g.tick()
    t = next(t for t in s.timers if t.id == "since-911")
    assert t.elapsed == pytest.approx(60.0)
    with pytest.raises(TypeError):
        Guide(bc, 5)


def test_a_hovering_value_does_not_flood_the_log(bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    for t in range(1, 41):  # 89 / 91 alternating for 40 s
        g.on_vitals(vitals(float(t), 89 if t % 2 else 91))
    s = g.on_vitals(vitals(41.0, 96))
    low = [e for e in s.log if e.kind == "prompt" and "Oxygen is low" in e.text]
    assert len(low) == 1
    s = g.on_vitals(vitals(120.0, 85))  # back after more than the quiet time
    low = [e for e in s.log if e.kind == "prompt" and "Oxygen is low" in e.text]
    assert [e.t for e in low] == [1.0, 120.0]


def test_fallback_warning_and_911_reminder_are_the_engines_own() -> None:
    from oxi_assist.guide.vocabulary import intents_of

    assert FALLBACK_WARNING.origin == "ours" and "check" in FALLBACK_WARNING.does
    assert REMINDER_911.origin == "ours" and "911" in REMINDER_911.does
    # their words say what they do, and nothing else
    assert intents_of(FALLBACK_WARNING.text) == FALLBACK_WARNING.does
    assert intents_of(REMINDER_911.text) == REMINDER_911.does


def test_stream_of_vitals_runs_rules_on_change_and_a_few_times_a_second(
        bc: guidance_schema.Guidance, monkeypatch: pytest.MonkeyPatch) -> None:
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


BARE = """
[guidance]
id = "bare"
title = "A file with no prompts at all"
start = "a"

[[source]]
id = "gov"
label = "BC-official"
url = "https://example.org/gov"

[[step]]
id = "a"
title = "First"
lines = [ { text = "Look at them.", source = "gov" } ]
"""


def bare() -> guidance_schema.Guidance:
    proto, problems = guidance_schema.validate_text(BARE)
    assert proto is not None, problems
    return proto


def test_no_good_reading_always_warns_even_when_the_file_says_nothing() -> None:
    g = Guide(bare())
    s = g.on_vitals(vitals(1.0, 97))
    assert s.warnings == ()
    for v in (vitals(2.0, 97, Quality.POOR), vitals(3.0, None, Quality.NONE),
              vitals(4.0, 97, stale=True)):
        s = g.on_vitals(v)
        assert s.warnings == (FALLBACK_WARNING,)
    assert any(e.kind == "warning" and e.ref == FALLBACK_WARNING.id for e in s.log)


def test_911_is_reminded_even_when_the_file_says_nothing() -> None:
    g = Guide(bare())
    s = g.on_vitals(vitals(1.0, 97))
    assert REMINDER_911 not in s.warnings
    s = g.on_action(A.BREATHS_START, t=2.0)  # acting first: they did not respond
    assert s.responsive == "no" and REMINDER_911 in s.warnings
    s = g.on_action(A.CALLED_911, t=3.0)
    assert REMINDER_911 not in s.warnings


def test_core_actions_are_offered_even_when_the_file_offers_none() -> None:
    g = Guide(bare())
    s = g.state
    assert {A.CALLED_911, A.BREATHS_START, A.COMPRESSIONS_START, A.NALOXONE} <= offered(s)
    assert sum(1 for o in s.offered if o.action is A.NALOXONE) == 2
    s = g.on_action(A.BREATHS_START, t=1.0)
    assert A.BREATHS_STOP in offered(s) and A.BREATHS_START not in offered(s)


def test_naloxone_routes_and_dose_numbers_are_noted_not_refused(
        bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    s = g.on_action(A.NALOXONE, t=1.0)
    assert dict(s.doses_by_route)["im"] == 1 and s.log[-1].kind != "ignored"
    s = g.on_action(A.NALOXONE, t=2.0, route=" NASAL ", dose="2")
    assert dict(s.doses_by_route)["nasal"] == 1
    assert not [e for e in s.log if e.kind in ("ignored", "info") and "naloxone" in e.text]
    s = g.on_action(A.NALOXONE, t=3.0, route="oral", dose="7")
    notes = [(e.t, e.kind, e.text) for e in s.log if e.kind in ("ignored", "info")]
    assert notes == [
        (3.0, "ignored", "naloxone route 'oral' (not im or nasal): dose counted as an injection"),
        (3.0, "info", "naloxone dose given as '7'; counted as dose 3")]
    assert dict(s.doses_by_route) == {"im": 2, "nasal": 1}


PLACEHOLDERS = BARE + (
    '\n[[prompt]]\nid = "all"\n'
    'text = "Dose {dose} after {prev}, {gap} apart; {rate} a minute; last tap {since_tap}; '
    '{kit_left} left."\n'
    'source = "gov"\nwhen = { doses_at_least = 2 }\n\n[kit]\nim = 3\nsource = "gov"\n')


def test_placeholders_are_filled_in_plain_words() -> None:
    proto, problems = guidance_schema.validate_text(PLACEHOLDERS)
    assert proto is not None, problems
    g = Guide(proto)
    g.on_action(A.NALOXONE, t=10.0)
    for t in (20.0, 25.0, 30.0, 35.0):
        g.on_action(A.BREATH_TAP, t=t)
    s = g.on_action(A.NALOXONE, t=100.0)
    text = next(p.text for p in s.suggestions if p.id == "all")
    assert text == "Dose 2 after 1, 1 min 30 s apart; ? a minute; last tap 1 min 5 s; 1 left."
    g2 = Guide(proto)
    g2.on_action(A.NALOXONE, t=0.0)
    for t in (40.0, 45.0, 50.0, 55.0):
        g2.on_action(A.BREATH_TAP, t=t)
    s = g2.on_action(A.NALOXONE, t=57.0)
    text = next(p.text for p in s.suggestions if p.id == "all")
    assert text == "Dose 2 after 1, 57 s apart; 12 a minute; last tap 2 s; 1 left."


def test_vitals_time_comes_from_the_call_the_clock_or_the_vitals() -> None:
    g = Guide(bare())
    s = g.on_vitals(vitals(5.0, 97), t=7.0)
    assert s.t == 7.0
    s = g.on_vitals(vitals(9.0, 97))
    assert s.t == 9.0
    clocked = Guide(bare(), lambda: 50.0)
    assert clocked.on_vitals(vitals(9.0, 97)).t == 50.0
    s = g.on_vitals("nope")  # type: ignore[arg-type]
    assert s.log[-1].text == "not a vitals update: str" and s.log[-1].t == 9.0


def probe(**when: object) -> Guide:
    """A guide on a file with one prompt ("probe") shown while `when` holds."""
    import json

    cond_text = ", ".join(f"{k} = {json.dumps(v)}" for k, v in when.items())
    text = BARE + f"""
[[prompt]]
id = "probe"
text = "Probe."
source = "gov"
when = {{ {cond_text} }}

[kit]
im = 3
nasal = 2
source = "gov"
"""
    proto, problems = guidance_schema.validate_text(text)
    assert proto is not None, problems
    return Guide(proto)


def shows(s: GuideState) -> bool:
    return any(p.id == "probe" for p in s.suggestions)


def test_the_engine_computes_every_fact_a_condition_reads() -> None:
    g = probe(oximeter="none")
    assert shows(g.state)
    assert not shows(g.on_vitals(vitals(1.0, 97)))
    g = probe(oximeter="lost")
    from drivers.reading import LinkState
    lost = VitalsState(1.0, None, None, None, Band.UNKNOWN, Quality.NONE, None,
                       link=LinkState.LOST)
    assert shows(g.on_vitals(lost))
    g = probe(band="watch")
    assert shows(g.on_vitals(vitals(1.0, 92)))
    assert not shows(g.on_vitals(vitals(2.0, 92, Quality.POOR)))
    g = probe(band="low")
    assert shows(g.on_vitals(vitals(1.0, 88, Quality.POOR)))
    g = probe(signal="none")
    assert shows(g.on_vitals(vitals(1.0, 97, stale=True)))
    g = probe(pulse_below=50)
    assert shows(g.on_vitals(vitals(1.0, 97, pulse=45)))
    assert not shows(g.on_vitals(vitals(2.0, None, Quality.NONE, pulse=45)))
    g = probe(breath_count="stale")
    taps(g, 0.0, 5.0, 4)
    assert not shows(g.tick(16.0)) and shows(g.tick(40.0))
    g = probe(breath_count="counting")
    g.on_action(A.BREATH_TAP, t=1.0)
    assert shows(g.tick(2.0))
    g = probe(ems=True)
    assert not shows(g.state) and shows(g.on_action(A.EMS_ARRIVED, t=1.0))
    g = probe(oxygen=True)
    assert shows(g.on_action(A.OXYGEN, t=1.0))
    g = probe(recovery=True)
    assert shows(g.on_action(A.RECOVERY_POSITION, t=1.0))
    assert not shows(g.on_action(A.BREATHS_START, t=2.0))  # rolled back for breaths
    g = probe(compressions="on")
    assert shows(g.on_action(A.COMPRESSIONS_START, t=1.0))
    g = probe(pulse_check="felt")
    assert shows(g.on_action(A.PULSE, t=1.0))
    assert not shows(g.on_action(A.NO_PULSE, t=2.0))
    g = probe(minutes_since_911_at_least=2)
    g.on_action(A.CALLED_911, t=10.0)
    assert not shows(g.tick(129.0)) and shows(g.tick(130.0))
    g = probe(minutes_in_step_at_least=1)
    assert not shows(g.tick(59.0)) and shows(g.tick(60.0))
    g = probe(responsive="yes", awake=False)
    assert shows(g.on_action(A.RESPONSIVE, t=1.0))
    assert not shows(g.on_action(A.AWAKE, t=2.0))


def test_breathing_ok_follows_the_count_as_well_as_the_answer() -> None:
    g = probe(breathing_ok=True)
    taps(g, 0.0, 5.0, 5)  # 12 a minute, nobody answered
    assert shows(g.state)
    g.on_action(A.BREATHING_NOT_NORMAL, t=21.0)  # an answer "not normal" wins
    assert not shows(g.state)
    g = probe(breathing_ok=True)
    assert shows(g.on_action(A.BREATHING_NORMAL, t=1.0))
    taps(g, 2.0, 7.5, 4)  # a slower count contradicts the answer
    assert not shows(g.state)


def test_dose_gap_and_kit_facts() -> None:
    g = probe(dose_gap_minutes_below=3)
    g.on_action(A.NALOXONE, t=0.0)
    assert shows(g.on_action(A.NALOXONE, t=179.0))
    g = probe(dose_gap_minutes_below=3)
    g.on_action(A.NALOXONE, t=0.0)
    assert not shows(g.on_action(A.NALOXONE, t=180.0))
    g = probe(dose_gap_minutes_at_least=2)
    for t in (0.0, 10.0, 200.0):
        s = g.on_action(A.NALOXONE, t=t)
    assert shows(s)  # the gap is between the LAST two doses
    g = probe(out_of_naloxone=True)
    for t in (0.0, 300.0):
        s = g.on_action(A.NALOXONE, t=t, route="nasal")
    assert shows(s)


def test_a_button_keeps_the_words_of_its_own_action(bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    s = g.on_action(A.NALOXONE, t=1.0)
    labels = {o.label for o in s.offered if o.action is A.NALOXONE}
    assert labels == {"Gave another dose (injection)", "Gave another dose (nasal)"}


def test_prompts_are_ordered_and_keep_their_priority_and_origin(
        bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    s = g.on_action(A.BREATHS_START, t=1.0)  # no oximeter: a low and a high warning
    assert [p.priority for p in s.warnings] == sorted((p.priority for p in s.warnings),
                                                     reverse=True)
    assert s.warnings[0].priority == 3 and s.warnings[-1].priority == 1
    reminder = next(p for p in s.warnings if p.id == "call-911-reminder")
    assert reminder.priority == 3 and reminder.origin == "BC"  # only BC cited: stays BC
    assert all(p.kind != "warning" for p in s.suggestions)
    g = Guide(bc)
    g.on_action(A.AWAKE, t=1.0)
    g.on_action(A.BREATHING_NORMAL, t=2.0)
    g.on_action(A.OXYGEN, t=3.0)
    s = g.on_vitals(vitals(4.0, 92))
    prios = [p.priority for p in s.suggestions]
    assert len(prios) >= 2 and prios == sorted(prios, reverse=True)


def test_the_breath_counter_notes_go_to_the_log() -> None:
    g = Guide(bare())
    last = taps(g, 0.0, 5.0, 4)
    g.tick(last)
    s = g.tick(last + 30.0)
    notes = [(e.t, e.kind, e.text, e.ref) for e in s.log if e.ref == "breath-count"]
    assert notes == [(15.0, "info", "Their breathing, counted: 12 a minute", "breath-count"),
                     (45.0, "info", "Breath counter: no breath tapped for 30 s",
                      "breath-count")]
    s = g.tick(last + 60.0)
    assert len([e for e in s.log if e.ref == "breath-count"]) == 2  # once per change


def test_core_offers_carry_their_params_and_flags() -> None:
    g = Guide(bare())
    s = g.state
    nal = sorted((o for o in s.offered if o.action is A.NALOXONE),
                 key=lambda o: o.params_dict["route"])
    assert [(o.label, o.params, o.primary, o.safety) for o in nal] == [
        ("Naloxone (injection)", (("dose", "1"), ("route", "im")), False, True),
        ("Naloxone (nasal)", (("dose", "1"), ("route", "nasal")), False, True)]
    for act in (A.CALLED_911, A.BREATHS_START, A.COMPRESSIONS_START):
        o = next(o for o in s.offered if o.action is act)
        assert o.params == () and o.safety and not o.primary
    assert s.offered[-1].action is A.BREATH_TAP
    s = g.on_action(A.COMPRESSIONS_START, t=1.0)
    assert A.COMPRESSIONS_STOP in offered(s) and A.COMPRESSIONS_START not in offered(s)


def test_file_entries_keep_their_order_flags_and_later_entries(
        bc: guidance_schema.Guidance) -> None:
    s = Guide(bc).state
    first = s.offered[0]
    assert first.action is A.UNRESPONSIVE and first.primary and not first.safety
    # entries after ones whose condition fails are still offered
    assert {A.EMS_ARRIVED, A.END, A.VOMITING, A.OXYGEN, A.PULSE, A.NO_PULSE} <= offered(s)
    assert sum(1 for o in s.offered if o.action is A.UNRESPONSIVE) == 1


ALERTS = BARE + """
[[timer]]
id = "woke"
kind = "since"
label = "Since waking ({n})"
start = "awake"
source = "gov"

[[timer.alert]]
at_s = 60
text = "Awake {n}: they look fine."
source = "gov"
when = { signal = "good", responsive = "yes", breathing_ok = true, oxygen = false }
does = "reassure"
priority = 3
"""


def test_timer_alerts_are_filled_kinded_logged_and_ordered() -> None:
    proto, problems = guidance_schema.validate_text(ALERTS)
    assert proto is not None, problems
    g = Guide(proto)
    g.on_action(A.AWAKE, t=0.0)
    g.on_action(A.BREATHING_NORMAL, t=1.0)
    g.on_vitals(vitals(2.0, 97))
    s = g.tick(59.0)
    assert not any(p.id == "woke:60" for p in s.suggestions)
    s = g.on_vitals(vitals(60.0, 97))
    alert = next(p for p in s.suggestions if p.id == "woke:60")
    assert alert.text == "Awake 1: they look fine." and alert.kind == "reassurance"
    assert alert.priority == 3 and alert.reassuring
    timer = next(t for t in s.timers if t.id == "woke")
    assert timer.due and timer.message == alert.text and timer.label == "Since waking (1)"
    assert [(e.t, e.kind, e.text, e.ref) for e in s.log if e.kind == "timer"] == [
        (60.0, "timer", "Awake 1: they look fine.", "woke:60")]
    g.on_vitals(vitals(61.0, 97))
    assert len([e for e in g.log if e.kind == "timer"]) == 1  # logged once
    s = g.on_vitals(vitals(62.0, 97, Quality.POOR))  # no good reading: no reassurance
    assert not any(p.id == "woke:60" for p in s.suggestions)


def test_reassurance_comes_after_other_suggestions_of_the_same_priority(
        bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    g.on_action(A.AWAKE, t=0.0)
    last = taps(g, 1.0, 5.0, 5)  # 12 a minute: "their breathing: 12 a minute" (priority 1)
    s = g.on_vitals(vitals(last, 98))
    ids = [p.id for p in s.suggestions]
    assert ids[-2:] == ["counted-normal", "normal-range"]
    assert [p.kind for p in s.suggestions][-1] == "reassurance"


def test_alerts_keep_their_own_kind(bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    g.on_action(A.UNRESPONSIVE, t=0.0)
    g.on_action(A.NALOXONE, t=1.0)
    s = g.tick(301.0)
    alert = next(p for p in s.suggestions if p.id == "naloxone-1:300")
    assert alert.kind == "suggestion"


def test_toggles_offer_the_files_words_and_one_half_only(bc: guidance_schema.Guidance) -> None:
    g = Guide(bc)
    s = g.state
    assert next(o for o in s.offered if o.action is A.BREATHS_START).label == "Started breaths"
    assert next(o for o in s.offered
                if o.action is A.COMPRESSIONS_START).label == "Started chest compressions"
    assert [o.action for o in s.offered].count(A.CALLED_911) == 1
    s = g.on_action(A.BREATHS_START, t=1.0)
    assert A.BREATHS_START not in offered(s) and A.BREATHS_STOP in offered(s)
    s = g.on_action(A.COMPRESSIONS_START, t=2.0)
    assert A.COMPRESSIONS_START not in offered(s) and A.COMPRESSIONS_STOP in offered(s)


def test_a_file_offering_one_route_still_gets_the_other() -> None:
    text = BARE + """
[[on]]
action = "naloxone"
label = "Gave naloxone"
params = { route = "im" }
"""
    proto, problems = guidance_schema.validate_text(text)
    assert proto is not None, problems
    s = Guide(proto).state
    nal = {o.params_dict["route"]: o.label for o in s.offered if o.action is A.NALOXONE}
    assert nal == {"im": "Gave naloxone", "nasal": "Naloxone (nasal)"}
