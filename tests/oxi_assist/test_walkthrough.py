"""Scenario walkthroughs: the simulator through the real Monitor and the guide, headless."""

from __future__ import annotations

import re

import pytest

from oxi_assist.cli import main
from oxi_assist.commands.walkthrough import run_walkthrough
from oxi_assist.guide.engine import GuideState
from oxi_assist.monitor.vitals import Quality

LINE = re.compile(r"^\d{2,}:\d{2}  (STEP|ACTION|CUE|PROMPT|WARN|ALARM|SPO2|END)\s+\S.*$")


def naloxone_suggested(s: GuideState) -> bool:
    return any(p.suggests == "naloxone" for p in s.suggestions)


def test_opioid_overdose_naloxone_at_2m_recovers_into_observation() -> None:
    w = run_walkthrough("opioid-overdose",
                        "1m:911,2m:breaths,2m:naloxone,5m:breathing_normal,6m:breaths_stop,"
                        "7m:awake", duration=600)
    # before help arrived the guide asked for breaths on a low reading
    low = [ln for ln in w.kinds("PROMPT") if "Oxygen is low" in ln.text]
    assert low and low[0].t < 150
    assert any(ln.kind == "ALARM" and "spo2_low" in ln.text for ln in w.lines)
    # breathing recovers: trusted SpO2 ≥ 90 % from 6 min on
    late = [v for v in w.vitals if v.t >= 360 and v.quality is Quality.GOOD and v.spo2]
    assert late and min(v.spo2 for v in late if v.spo2 is not None) >= 90
    # and the guide is in the observation step with the re-sedation watch running
    st = w.state
    assert st is not None
    assert st.step.id == "aftercare"
    watch = next(t for t in st.timers if t.id == "resedation-watch")
    assert watch.remaining is None and watch.elapsed == pytest.approx(600 - 120, abs=1)
    assert st.doses == 1 and st.called_911
    steps = [ln.text.split(":")[0] for ln in w.kinds("STEP")]
    assert steps == ["stimulate", "airway", "evaluate", "evaluate-support", "sedation",
                     "aftercare"]
    # never a "give another dose" once breathing was marked normal with a good SpO2
    assert not any(naloxone_suggested(s) for s in w.states if s.t >= 300)


def test_resedation_second_desaturation_is_caught() -> None:
    w = run_walkthrough("resedation",
                        "1m30s:911,2m:breaths,2m30s:naloxone,6m:awake,7m:breaths_stop",
                        duration=75 * 60)
    # calm in between: no low-oxygen prompt from 10 to 30 min
    assert not any("Oxygen is low" in ln.text for ln in w.kinds("PROMPT")
                   if 600 <= ln.t <= 1800)
    back = [ln for ln in w.kinds("PROMPT") if "coming back" in ln.text]
    assert back, "the second desaturation must prompt again"
    assert 30 * 60 <= back[0].t <= 75 * 60
    # at that moment the guide asks to check the person: the number alone never pushes
    # naloxone (BC decides it on breathing), but naloxone, breaths and 911 stay offered
    s = next(s for s in w.states if s.t >= back[0].t)
    assert not naloxone_suggested(s)
    assert any("check them now" in p.text.lower() for p in s.suggestions)
    assert {"naloxone", "911", "breaths"} <= {o.action.value for o in s.offered}


def test_resedation_found_unresponsive_goes_back_to_breaths_and_naloxone() -> None:
    w = run_walkthrough("resedation",
                        "1m30s:911,2m:breaths,2m30s:naloxone,6m:awake,7m:breaths_stop,"
                        "68m30s:unresponsive,68m40s:breathing_not_normal,68m45s:breaths,"
                        "69m:breathing_not_normal", duration=76 * 60)
    steps = [ln.text.split(":")[0] for ln in w.kinds("STEP")]
    assert steps[-3:] == ["airway", "ventilate", "medication"] or "medication" in steps
    s = next(s for s in w.states if s.t >= 69 * 60 + 2)
    assert s.step.id == "medication"
    assert any("inject 1 ml of naloxone" in ln.lower() for ln in s.step.lines)
    assert not any(t.id == "no-use" for t in s.timers)


def test_fentanyl_benzo_takes_the_prolonged_sedation_branch() -> None:
    w = run_walkthrough("fentanyl-benzo",
                        "1m30s:911,2m:breaths,2m30s:naloxone,7m:breathing_normal,"
                        "8m:breaths_stop,8m:recovery", duration=20 * 60)
    steps = [ln.text.split(":")[0] for ln in w.kinds("STEP")]
    assert "sedation" in steps and steps[-1] == "watch"
    assert any("no more naloxone" in ln.text for ln in w.kinds("PROMPT"))
    after = [s for s in w.states if s.t >= 7 * 60]
    assert after and not any(naloxone_suggested(s) for s in after)
    assert not any("another dose" in ln.text for ln in w.lines if ln.t >= 7 * 60)
    assert w.state is not None and w.state.doses == 1


def test_second_guidance_file_runs_on_the_same_engine() -> None:
    w = run_walkthrough("opioid-overdose", "30s:unresponsive,1m:911,1m:breaths",
                        guidance="alberta-save-me", duration=200)
    assert w.state is not None and w.state.guidance_id == "alberta-save-me"
    prompt = [ln for ln in w.kinds("PROMPT") if "2 minutes of breaths" in ln.text]
    assert prompt and prompt[0].t == pytest.approx(180.0)
    assert "other-jurisdiction" in w.state.step.labels


def test_cli_prints_a_timeline(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["walkthrough", "opioid-overdose", "--actions", "1m:911,2m:breaths,2m:naloxone",
               "--duration", "4m", "--seed", "3"])
    assert rc == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out and all(LINE.match(o) for o in out), out
    assert out[0].startswith("00:00  STEP")
    assert any(o.startswith("02:00  ACTION naloxone") for o in out)
    assert out[-1].startswith("04:00  END")


def test_cli_plays_trainer_cues(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["walkthrough", "opioid-overdose", "--actions", "30s:unresponsive,40s:911",
               "--cues", "1m:finger_out:seconds=30,2m:link_lost", "--duration", "3m"])
    assert rc == 0
    out = capsys.readouterr().out.splitlines()
    assert all(LINE.match(o) for o in out), out
    assert "01:00  CUE    finger_out seconds=30" in out
    assert any(o.startswith("01:0") and "WARN   No reading" in o for o in out)
    assert any(o.startswith("02:0") and "Oximeter lost" in o for o in out)


@pytest.mark.parametrize("argv, needle", [
    (["walkthrough", "opioid-overdose", "--cues", "2m:sneeze"], "unknown cue 'sneeze'"),
    (["walkthrough", "opioid-overdose", "--cues", "2m:finger_out:long"], "bad cue parameter"),
    (["walkthrough", "opioid-overdose", "--actions", "2m:dance"], "unknown action"),
    (["walkthrough", "no-such-scenario"], "unknown scenario"),
    (["walkthrough", "opioid-overdose", "--guidance", "nope"], "no guidance file"),
    (["walkthrough", "opioid-overdose", "--seed", "-1"], "bad --seed"),
    (["walkthrough", "opioid-overdose", "--duration", "0"], "bad --duration"),
])
def test_cli_bad_input_is_one_line_exit_2(argv: list[str], needle: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert needle in err and err.count("\n") == 1
