import pytest

from oxi_assist import __version__
from oxi_assist.cli import main


def test_version(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "not a medical device" in out


@pytest.mark.parametrize("argv", [["no-such-command"], ["--no-such-option"]])
def test_usage_errors_are_one_line_and_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "error" in err


def test_analyze_of_a_csv_imports_only_what_it_needs(tmp_path):
    """Start-up is most of a short command's run: analysing a CSV loads neither the action
    table and the simulator (only a recorded session has responder actions), nor pkgutil
    (the command and format modules are found without it), nor numpy.ma (np.unique)."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    from benchmarks.bench_formats import write_vihealth_csv

    root = Path(__file__).resolve().parents[2]
    p = tmp_path / "night.csv"
    write_vihealth_csv(p, 4000)
    code = ("import io, json, sys\n"
            f"sys.path.insert(0, {str(root)!r})\n"
            "from oxi_assist.cli import main\n"
            "out, sys.stdout = sys.stdout, io.StringIO()\n"
            f"rc = main(['analyze', {str(p)!r}])\n"
            "sys.stdout = out\n"
            "print(json.dumps([rc, sorted(sys.modules)]))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120, check=True)
    rc, mods = json.loads(r.stdout.strip().splitlines()[-1])
    assert rc == 0 and "oxi_assist.analysis" in mods
    heavy = {"oxi_assist.actions", "simulators", "simulators.scenario", "pkgutil", "numpy.ma",
             "asyncio", "textual", "oxi_assist.guide"}
    assert heavy.isdisjoint(mods), sorted(heavy & set(mods))
