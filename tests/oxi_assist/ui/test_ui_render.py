"""The widgets' drawing functions on hand-made screen models: no reading is never a number,
colour is never the only cue, gaps stay gaps, the core actions are always offered."""

from __future__ import annotations

from drivers.reading import LinkState, Status
from oxi_assist.monitor.priority import Priority
from oxi_assist.monitor.vitals import Alarm, Band, Quality, VitalsState
from oxi_assist.ui.action_keys import compact_text, tall_text
from oxi_assist.ui.adapter import CORE_KEYS
from oxi_assist.ui.alarm_banner import banner_text, flash_on, flashes
from oxi_assist.ui.model import GuideView, KeyView, ScreenModel, TimerView
from oxi_assist.ui.pleth import render_pleth
from oxi_assist.ui.timers import metronome_text, timer_line
from oxi_assist.ui.trainer import next_speed
from oxi_assist.ui.trend_chart import render_trend
from oxi_assist.ui.vitals_panel import no_value_state


def vs(spo2: float | None = 96, quality: Quality = Quality.GOOD, band: Band = Band.NORMAL,
       **kw: object) -> VitalsState:
    return VitalsState(t=10.0, spo2=spo2, pulse=70, pi=2.0, band=band, quality=quality,
                       trend=0.0, **kw)  # type: ignore[arg-type]


def model(**kw: object) -> ScreenModel:
    base: dict[str, object] = {"elapsed": 10.0, "link": LinkState.CONNECTED, "vitals": vs()}
    base.update(kw)
    return ScreenModel(**base)  # type: ignore[arg-type]


def test_good_reading_is_shown() -> None:
    assert no_value_state(model()) is None


def test_every_no_value_state_has_its_own_word() -> None:
    cases = {
        "finger": model(vitals=vs(None, Quality.NONE, Band.UNKNOWN, flags=Status.FINGER_OUT)),
        "poor": model(vitals=vs(93, Quality.POOR, Band.WATCH, flags=Status.MOTION)),
        "stale": model(vitals=vs(96, stale=True, last_valid_t=-25.0)),
        "lost": model(link=LinkState.LOST),
        "closed": model(link=LinkState.CLOSED),
        "none": model(link=None, vitals=None),
        "waiting": model(vitals=None),
    }
    words = {k: no_value_state(m) for k, m in cases.items()}
    assert words["finger"] == ("NO READING", "finger out / probe off")
    assert words["poor"] is not None and words["poor"][0] == "SIGNAL POOR"
    assert words["stale"] is not None and words["stale"][0] == "DATA OLD"
    assert "0:35" in words["stale"][1]
    assert words["lost"] == ("NO READING", "link lost")
    assert words["closed"] == ("NO READING", "source ended")
    assert words["none"] is not None and words["none"][0] == "NO OXIMETER"
    assert words["waiting"] is not None and words["waiting"][0] == "NO READING"


def test_trend_gap_draws_nothing_and_lines_are_labelled() -> None:
    ts = [float(t) for t in range(0, 300)]
    vals: list[float | None] = [None if 100 <= t < 200 else 97.0 for t in range(300)]
    text = render_trend(ts, vals, now=300.0, window=300.0, cols=44, rows=8).plain
    lines = text.split("\n")
    assert lines[0].startswith("100")
    assert any(ln.startswith(" 90") for ln in lines) and any(ln.startswith(" 85") for ln in lines)
    top = lines[0][4:]  # 97 % lies in the top row; the gap's columns stay blank there
    third = len(top) // 3
    assert top[third + 2:2 * third - 2].strip() == ""
    assert top[:third - 2].replace("⠀", "").strip() != ""
    assert "90 BC" in lines[-1] and "85 other" in lines[-1]


def test_pleth_without_samples_says_so() -> None:
    assert "no waveform" in render_pleth([], 30, 2).plain
    wave = render_pleth([float(i % 10) for i in range(200)], 30, 2).plain
    assert len(wave.split("\n")) == 2 and all(len(r) == 30 for r in wave.split("\n"))


def test_alarm_banner_words_and_flash() -> None:
    high = Alarm("spo2_low", Priority.HIGH, "SpO2 low", 0.0)
    text, cls = banner_text(model(alarm=high, elapsed=0.0))
    assert text.plain.startswith("*** HIGH PATIENT") and cls == "alarm-high"
    _, cls_off = banner_text(model(alarm=high, elapsed=0.3))
    assert cls_off == "alarm-high-off"  # flashing at 2 Hz from the session clock
    assert flash_on(0.0) and not flash_on(0.25) and flash_on(0.5)
    med = Alarm("finger_out", Priority.MEDIUM, "Finger out", 0.0, technical=True)
    text, cls = banner_text(model(alarm=med))
    assert text.plain.startswith("** MEDIUM TECHNICAL") and cls == "alarm-medium"
    text, cls = banner_text(model(alarm=high, alarm_paused_for=95.0))
    assert "ALARM PAUSED 1:35" in text.plain and cls == "alarm-paused"
    text, cls = banner_text(model())
    assert cls == "alarm-none" and "No active alarm" in text.plain


def flash_rate(alarm: Alarm, seconds: float = 20.0, step: float = 0.01, **kw: object) -> float:
    """Flashes per second of the banner (off → on edges), sampled on a fine grid of clock
    times."""
    starts, was_on = 0, True
    for k in range(int(seconds / step)):
        _, cls = banner_text(model(alarm=alarm, elapsed=5.0, flash_t=k * step, **kw))
        on = not cls.endswith("-off")
        starts += on and not was_on
        was_on = on
    return starts / seconds


def test_alarm_flash_rates_follow_iec_60601_1_8() -> None:
    high = Alarm("spo2_severe", Priority.HIGH, "SpO2 very low", 0.0)
    med = Alarm("spo2_low", Priority.MEDIUM, "SpO2 low", 0.0)
    low = Alarm("low_battery", Priority.LOW, "Battery low", 0.0, technical=True)
    assert 1.4 <= flash_rate(high) <= 2.8  # red, flashing fast
    assert 0.4 <= flash_rate(med) <= 0.8  # yellow, flashing slowly
    assert flash_rate(low) == 0.0  # steady
    # the phase comes from the clock time given (flash_t), not the session's elapsed time
    _, on = banner_text(model(alarm=med, elapsed=0.9, flash_t=0.1))
    _, off = banner_text(model(alarm=med, elapsed=0.1, flash_t=0.9))
    assert (on, off) == ("alarm-medium", "alarm-medium-off")
    # acknowledged or paused: steady (the words and marks stay)
    ack = Alarm("spo2_low", Priority.MEDIUM, "SpO2 low", 0.0, acknowledged=True)
    assert flash_rate(ack, seconds=3) == 0.0
    assert not flashes(model(alarm=med, alarm_paused_for=30.0))
    assert flashes(model(alarm=med)) and flashes(model(alarm=high))
    assert not flashes(model(alarm=low)) and not flashes(model())


def test_core_keys_are_the_table_s_911_breaths_naloxone_and_cpr() -> None:
    assert [kb.id for kb in CORE_KEYS] == ["9", "b", "n", "m", "c"]


def test_chips_keep_every_key_whole_at_every_width() -> None:
    keys = (KeyView("9", "9", "911 called", "911", core=True),
            KeyView("b", "b", "Start breaths", "Start breaths", core=True),
            KeyView("n", "n", "Naloxone (injection)", "naloxone", core=True),
            KeyView("u", "u", "NOT breathing normally", "NOT breathing OK", urgent=True))
    for width in (38, 44, 60, 100):
        plain = compact_text(keys, width, short=width < 60).plain
        rows = plain.split("\n")
        assert all(len(r) <= width for r in rows)
        for k in keys:
            label = k.short if width < 60 else k.label
            assert any(f" {k.shown} {label} " in r for r in rows), (width, k)
        assert "… " in plain  # the chip that opens every action
    for width in (40, 45, 60):
        rows = tall_text(keys, width).plain.split("\n")
        assert all(len(r) <= width for r in rows)
        assert any(" 9  911" in r for r in rows) and any(" n  naloxone" in r for r in rows)
        # three rows a chip: the label's row has a padded row above and below it
        i = next(i for i, r in enumerate(rows) if " 9  911" in r)
        assert rows[i - 1][:8].strip() == "" and rows[i + 1][:8].strip() == ""


def test_metronome_and_timers() -> None:
    off = metronome_text(GuideView()).plain
    assert "Breaths off" in off
    now = metronome_text(GuideView(breaths_on=True, breath_due_in=0.2)).plain
    assert "BREATHE NOW" in now
    wait = metronome_text(GuideView(breaths_on=True, breath_due_in=3.0)).plain
    assert "next breath" in wait and "3 s" in wait
    line = timer_line(TimerView("Since naloxone dose 1", 185.0, urgent=True,
                                note="re-evaluate")).plain
    assert "3:05" in line and "naloxone" in line and "re-evaluate" in line
    assert "left" in timer_line(TimerView("Observation", 60.0, countdown=True)).plain


def test_speed_steps_clamp_to_1_and_20() -> None:
    assert next_speed(1.0, -1) == 1.0
    assert next_speed(1.0, 1) == 2.0
    assert next_speed(10.0, 1) == 20.0
    assert next_speed(20.0, 1) == 20.0


# ---------------------------------------------------------------- origins, prompts, log, trend

def test_reassurance_is_drawn_last_and_calm_with_every_prompt_s_origin() -> None:
    from oxi_assist.guide.state import Prompt, SourceRef
    from oxi_assist.ui.adapter import prompt_views
    from oxi_assist.ui.guidance_panel import TONE_STYLE, prompts_text
    from oxi_assist.ui.model import Tone

    bc = (SourceRef("gov-bc", "BC-official", "u"),)
    ours = (SourceRef("app", "app-defined"),)
    normal = Prompt("normal", "Oxygen 95–100% is the normal range.", kind="reassurance",
                    sources=bc, priority=3)
    call = Prompt("call", "They did not wake up. Call 911 now.", sources=bc, priority=1)
    signal = Prompt("sig", "No good reading. Check their breathing.", kind="warning",
                    sources=ours, priority=3)
    st = type("St", (), {"warnings": (signal,), "suggestions": (normal, call)})()
    views = prompt_views(st)  # type: ignore[arg-type]
    assert [v.tone for v in views] == [Tone.WARNING, Tone.INSTRUCTION, Tone.REASSURANCE]
    assert [v.origin for v in views] == ["ours", "BC", "BC"]
    text = prompts_text(views)
    rows = text.plain.split("\n")
    assert rows[1].startswith("▸ They did not wake up") and rows[1].endswith("(BC)")
    assert rows[2].startswith("· Oxygen 95–100%")
    # the reassurance is not styled like a warning: not bold, not the warning colour
    span = next(s for s in text.spans if text.plain[s.start:s.end].startswith("Oxygen"))
    assert str(span.style) == TONE_STYLE[Tone.REASSURANCE][1]
    assert "bold" not in str(span.style)


def test_log_lines_wrap_under_their_time_and_are_never_cut() -> None:
    from oxi_assist.ui.event_log import log_text
    from oxi_assist.ui.model import LogLineView

    lines = [LogLineView(5.0, "911 called", "action"),
             LogLineView(62.0, "Alarm (high): Finger out / probe off", "alarm"),
             LogLineView(70.0, "No reading. Check their breathing directly, not the screen.",
                      "guide")]
    text = log_text(lines, rows=10, width=30).plain
    rows = text.split("\n")
    assert all(len(r) <= 30 for r in rows)
    assert " ".join(" ".join(rows).split()) == (
        "0:05 911 called 1:02 Alarm (high): Finger out / probe off 1:10 No reading. Check "
        "their breathing directly, not the screen.")
    # too few rows: the newest whole events, never half of one
    short = log_text(lines, rows=3, width=30).plain
    assert short.startswith("  1:10 No reading.") and short.endswith("screen.")


def test_trend_axis_extends_below_70_and_marks_the_lowest_point() -> None:
    ts = [float(t) for t in range(300)]
    vals: list[float | None] = [97.0 if t < 100 else max(21.0, 97.0 - (t - 100) * 0.8)
                                for t in range(300)]
    text = render_trend(ts, vals, now=300.0, window=300.0, cols=60, rows=12)
    rows = text.plain.split("\n")
    assert rows[-2].startswith(" 20┤")  # the axis goes down to the ten below 21 %
    assert any(r.startswith(" 70┤") for r in rows[:-2])
    plot = [r[4:] for r in rows[:-1]]
    assert plot[-1].strip("⠀ ") != ""  # the fall is drawn down to the bottom row
    assert "▼ low 21% at 3:15" in rows[-1]
    # the lowest point's cell is marked (reverse), on the chart itself
    marked = [s for s in text.spans if "reverse" in str(s.style)]
    assert marked and all(text.plain[s.start:s.end].strip() for s in marked)
    # a value that stays above 70 keeps the usual axis
    flat = render_trend(ts, [97.0] * 300, now=300.0, window=300.0, cols=60, rows=8).plain
    assert flat.split("\n")[-2].startswith(" 70┤")


def test_the_readme_keys_table_lists_every_key_of_the_action_table() -> None:
    from pathlib import Path

    from oxi_assist.actions import KEYS

    text = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### The live screen"):text.index("### Sources")]
    for kb in KEYS:
        for k in kb.keys.split(","):
            assert f"| `{k}`" in section or f"/ `{k}`" in section, k


def test_the_trainer_bar_shows_the_patient_s_words_only_when_there_are_some() -> None:
    from oxi_assist.ui.adapter import trainer_view
    from oxi_assist.ui.trainer import trainer_text

    class Controls:  # the trainer's controls over a simulated patient
        paused = False
        speed = 2.0
        words = ""

        def inject(self, action: str, **params: object) -> None: ...
        def set_speed(self, x: float) -> None: ...
        def pause(self) -> None: ...
        def resume(self) -> None: ...
        def patient_status(self) -> str:
            return self.words

    src = Controls()
    tv = trainer_view(src, "opioid-overdose")
    assert tv is not None and tv.speed == 2.0 and tv.status == ""
    src.words = "NOT BREATHING"
    tv = trainer_view(src, "opioid-overdose")
    assert tv is not None and "NOT BREATHING" in trainer_text(tv).plain
    assert trainer_view(object(), "x") is None


def test_the_narrow_quiet_banner_carries_the_vitals_and_never_an_untrusted_number() -> None:
    """On a phone the figures sit below the guidance and the keys: the quiet banner says SpO2
    and pulse; with no trustworthy value it says why, with no number."""
    text, cls = banner_text(model(vitals=vs(96)), 60, with_vitals=True)
    assert cls == "alarm-none" and text.plain == "✓ No alarm · SpO₂ 96% ✓ · pulse 70"
    assert banner_text(model(vitals=vs(96)), 60)[0].plain == "✓ No active alarm"  # wide
    for m, word in [
        (model(vitals=vs(93, Quality.POOR, Band.WATCH, flags=Status.MOTION)), "SIGNAL POOR"),
        (model(vitals=vs(96, stale=True, last_valid_t=-25.0)), "DATA OLD"),
        (model(link=LinkState.LOST), "NO READING"),
        (model(vitals=None), "NO READING"),
    ]:
        plain = banner_text(m, 60, with_vitals=True)[0].plain
        assert plain == f"✓ No alarm · SpO₂ -- {word}"
        assert not any(ch in "0123456789" for ch in plain)  # (₂ is not a reading)
