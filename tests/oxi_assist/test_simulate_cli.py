"""`oxi-assist scenarios` and `oxi-assist simulate` end to end through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from drivers.formats import native
from drivers.reading import Status
from oxi_assist.cli import main


def test_scenarios_lists_names_with_descriptions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios"]) == 0
    out = capsys.readouterr().out.splitlines()
    names = [line.split()[0] for line in out]
    for n in ("baseline", "opioid-overdose", "fentanyl-benzo", "resedation", "xylazine",
              "smoking-desaturations", "artifacts"):
        assert n in names
    assert all(len(line.split(None, 1)) == 2 for line in out)


def test_scenarios_verbose_shows_expected_actions(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scenarios", "--verbose"]) == 0
    assert "treated: 1m:911,2m:breaths,2m:naloxone" in capsys.readouterr().out


def test_simulate_writes_a_native_session(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "od.jsonl"
    rc = main(["simulate", "opioid-overdose", "--seed", "3", "--duration", "10m",
               "--actions", "1m:911,2m:breaths,2m:naloxone:route=nasal", "-o", str(out)])
    assert rc == 0
    assert f"wrote {out}: 600 readings" in capsys.readouterr().err
    assert main(["simulate", "baseline", "-o", str(out)]) == 2  # never over it silently
    assert "already exists; use --force" in capsys.readouterr().err
    assert (out.stat().st_mode & 0o777) == 0o600
    rec = native.read(out)
    assert not rec.interrupted
    assert rec.source == "sim:opioid-overdose" and rec.device == "Simulator (opioid-overdose)"
    assert rec.header["seed"] == 3
    assert len(rec.readings) == 600 and rec.readings[-1].t == 600.0
    assert all(r.pleth == () for r in rec.readings)  # default --rate 0
    names = [(e["t"], e["name"], e["by"]) for e in rec.events]
    assert names == [(30.0, "drug", "scenario"), (60.0, "911", "responder"),
                     (120.0, "breaths", "responder"), (120.0, "naloxone", "responder")]
    assert rec.events[0]["drug"] == "fentanyl"
    assert rec.events[3]["route"] == "nasal"
    assert min(r.spo2 for r in rec.readings if r.valid) < 90
    assert rec.readings[-1].spo2 >= 90


def test_simulate_with_pleth_and_same_seed_is_identical(tmp_path: Path) -> None:
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for p in (a, b):
        assert main(["simulate", "artifacts", "--duration", "200", "--rate", "100",
                     "-o", str(p)]) == 0
    ra, rb = native.read(a), native.read(b)
    assert ra.readings == rb.readings
    good = [r for r in ra.readings if r.valid]
    assert all(len(r.pleth) == 100 and r.pleth_rate == 100 for r in good)
    fo = [r for r in ra.readings if r.status & Status.FINGER_OUT]
    assert fo and all(r.spo2 is None and r.pulse is None for r in fo)
    lines = a.read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[0])["format"] == "oxi-assist-session"


def test_untreated_default_duration_is_the_scenarios(tmp_path: Path) -> None:
    out = tmp_path / "x.jsonl"
    assert main(["simulate", "baseline", "-o", str(out)]) == 0
    assert native.read(out).readings[-1].t == 600.0


def test_scenario_from_a_toml_path(tmp_path: Path) -> None:
    sc = tmp_path / "mine.toml"
    sc.write_text('name = "mine"\ndescription = "d"\nduration = 30\n', encoding="utf-8")
    out = tmp_path / "m.jsonl"
    assert main(["simulate", str(sc), "-o", str(out)]) == 0
    assert len(native.read(out).readings) == 30


@pytest.mark.parametrize(("args", "words"), [
    (["simulate", "nope", "-o", "{out}"], "unknown scenario 'nope'"),
    (["simulate", "baseline", "--seed", "x", "-o", "{out}"], "bad --seed"),
    (["simulate", "baseline", "--seed", "-1", "-o", "{out}"], "bad --seed"),
    (["simulate", "baseline", "--duration", "soon", "-o", "{out}"], "bad time"),
    (["simulate", "baseline", "--duration", "0", "-o", "{out}"], "bad --duration"),
    (["simulate", "baseline", "--rate", "fast", "-o", "{out}"], "bad --rate"),
    (["simulate", "baseline", "--rate", "5000", "-o", "{out}"], "bad --rate"),
    (["simulate", "baseline", "--actions", "2m:dance", "-o", "{out}"], "unknown action"),
    (["simulate", "baseline", "--actions", "2m:naloxone:route=oral", "-o", "{out}"],
     "unknown route"),
    (["simulate", "baseline", "-o", "{tmp}/no/such/dir/x.jsonl"], "cannot write"),
    (["simulate", "{tmp}/bad.toml", "-o", "{out}"], "bad.toml:3:"),
])
def test_bad_input_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      args: list[str], words: str) -> None:
    (tmp_path / "bad.toml").write_text('name = "b"\ndescription = "d"\nduration = "x"\n',
                                       encoding="utf-8")
    argv = [a.format(out=tmp_path / "o.jsonl", tmp=tmp_path) for a in args]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "Traceback" not in err


def test_simulate_records_the_arrest_and_the_lowest_spo2_is_the_display_floor(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "od.jsonl"
    assert main(["simulate", "opioid-overdose", "--seed", "2", "--duration", "16m",
                 "--actions", "7m:no_pulse,7m:compressions,7m:breaths", "-o", str(out)]) == 0
    rec = native.read(out)
    names = [(e["name"], e["by"]) for e in rec.events]
    assert names == [("drug", "scenario"), ("cardiac_arrest", "simulator"),
                     ("no_pulse", "responder"), ("compressions", "responder"),
                     ("breaths", "responder"), ("circulation_returned", "simulator")]
    times = [e["t"] for e in rec.events]
    assert times == sorted(times) and 300 < times[1] < 420 and times[-1] > 420
    # no number while the heart is stopped and nobody compresses
    assert all(r.spo2 is None for r in rec.readings if times[1] <= r.t < 420)
    # a real fingertip display stops at its floor: never 6 %, as the untreated model's blood is
    capsys.readouterr()
    assert main(["info", str(out), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["spo2_min"] == 35.0
