"""Writes the bad-input corpus files (run once; the files are committed). Every file is made
here from scratch: no captured device data is copied.

What git cannot hold (FIFOs, links, a file name with an escape code, files of many megabytes)
is made at test time in a copy of the corpus by `make_special(folder)`."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

HERE = Path(__file__).parent


def w(rel: str, data: bytes | str) -> None:
    p = HERE / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)


HEADER = json.dumps({"format": "oxi-assist-session", "version": 1, "source": "sim:x",
                     "device": "", "start_wall": 1700000000.0}, separators=(",", ":"))


def main() -> None:
    # a valid recording, for the config cases (the config is what is broken there)
    rows = [HEADER] + [json.dumps({"k": "r", "t": i, "spo2": 96 - i % 3, "pulse": 70})
                       for i in range(1, 61)] + ['{"k":"end","t":60}']
    w("good/short.jsonl", "\n".join(rows) + "\n")
    w("good/plain.csv", "time,spo2,pulse\n" + "".join(f"{i},{95 + i % 3},{70 + i % 4}\n"
                                                      for i in range(30)))

    # recordings
    w("recordings/empty.jsonl", b"")
    w("recordings/binary.jsonl", bytes(range(256)) * 4)
    w("recordings/wrong-magic.jsonl", '{"format":"something-else","version":1}\n'
      '{"k":"r","t":1,"spo2":96}\n')
    w("recordings/bad-json-line.jsonl", HEADER + '\n{"k":"r","t":1,"spo2":96}\n'
      '{"k":"r","t":2,"spo2":\n{"k":"r","t":3,"spo2":97}\n{"k":"end","t":3}\n')
    w("recordings/future-version.jsonl", HEADER.replace('"version":1', '"version":99') + "\n")
    w("recordings/latin1.jsonl", HEADER.encode() + b'\n{"k":"event","t":1,"name":"caf\xe9"}\n'
      b'{"k":"end","t":1}\n')
    w("recordings/time-backwards.jsonl", HEADER + '\n{"k":"r","t":5,"spo2":96}\n'
      '{"k":"r","t":"soon","spo2":95}\n{"k":"end","t":5}\n')
    w("recordings/oxi-csv-bad-row.csv", '# oxi-assist-csv 1 {"interval": 1.0}\n'
      "t,time,spo2,pulse,pi,status\n0,,96,70,,\n1,,96,70,,\nnot-a-time,,96,70,,\n2,,96,70,,\n")
    w("recordings/oxi-csv-bad-meta.csv", "# oxi-assist-csv 1 {not json\nt,spo2\n0,96\n")
    w("recordings/unknown.xyz", b"\x00\x01 nothing any reader knows \x02\x03" * 8)
    w("recordings/header-only.csv", "time,spo2,pulse\n")
    w("recordings/edf-truncated.edf", b"0       " + b"patient".ljust(80) + b"rec".ljust(80))
    w("recordings/edf-garbage.edf", b"0       " + bytes(range(256)) * 2)
    w("recordings/contec-truncated.SpO2", struct.pack("<H", 8) + b"\x00" * 30)
    w("recordings/contec-zero-count.SpO2", struct.pack("<H", 2) + b"\x01" + b"\x00" * 250)
    w("recordings/spor-bad-offset.spor", struct.pack("<H", 3) + b"\x00" * 60)
    w("recordings/viatom-truncated.vld", struct.pack("<HH", 3, 2020) + b"\x08")
    w("recordings/o2ring-odd.o2r", bytes([1, 3]) + b"\xff" * 7)
    w("recordings/md300-truncated.dat", bytes([7]) + struct.pack("<H", 50) + b"\x00" * 20)
    w("recordings/wfdb-bad.hea", "this is not a record line at all\n")
    w("recordings/wfdb-no-dat.hea", "rec 1 1 10\nrec.dat 16 200 12 0 0 0 0 SpO2\n")
    w("recordings/rad8-garbage.txt", "\x00\x01\x02 binary in a text file \xff\n".encode("latin-1"))

    # byte captures for `decode --hex`
    w("captures/odd-digits.hex", "01 80 81 82 8\n")
    w("captures/not-hex.hex", "01 80 zz 81\n")

    # alarm configs for `analyze --config`
    w("configs/syntax.toml", "[alarms.spo2_low\nlimit = 88\n")
    w("configs/unknown-key.toml", "[alarms.spo2_low]\nlimt = 88\n")
    w("configs/wrong-type.toml", '[alarms.spo2_low]\nlimit = "ninety"\n')
    w("configs/out-of-range.toml", "[alarms.spo2_low]\nlimit = 150.0\n")
    w("configs/unknown-alarm.toml", "[alarms.spo2_lowest]\nlimit = 88.0\n")
    w("configs/binary.toml", b"\xff\xfe\x00\x00garbage")

    # scenarios for `simulate FILE`
    w("scenarios/syntax.toml", 'name = "x"\nduration = \n')
    w("scenarios/unknown-key.toml", 'name = "x"\ndescription = "d"\nduration = "5m"\n'
      "wobble = 3\n")
    w("scenarios/bad-duration.toml", 'name = "x"\ndescription = "d"\nduration = "forever"\n')
    w("scenarios/bad-action.toml", 'name = "x"\ndescription = "d"\nduration = "5m"\n\n'
      '[[events]]\nat = "30s"\naction = "teleport"\n')
    w("scenarios/bad-drug.toml", 'name = "x"\ndescription = "d"\nduration = "5m"\n\n'
      '[[events]]\nat = "30s"\naction = "drug"\ndrug = "unobtainium"\n')

    # guidance files for `guidance check` and `walkthrough --guidance`
    w("guidance/syntax.toml", '[guidance\nid = "x"\n')
    w("guidance/empty.toml", "")
    w("guidance/no-steps.toml", '[guidance]\nid = "x"\ntitle = "x"\njurisdiction = "x"\n'
      'version = "1"\nstart = "first"\nlanguage = "en"\n')
    w("guidance/binary.toml", bytes(range(256)))


    more()


#: [section] key = value lines for `analyze --config`: every numeric key at its edges
CONFIG_NUMBERS: dict[str, str] = {
    "window-nan": "[monitor]\nwindow_s = nan\n",
    "window-inf": "[monitor]\nwindow_s = inf\n",
    "window-zero": "[monitor]\nwindow_s = 0\n",
    "window-negative": "[monitor]\nwindow_s = -8\n",
    "window-huge": "[monitor]\nwindow_s = 1e308\n",
    "stale-nan": "[monitor]\nstale_after_s = nan\n",
    "stale-inf": "[monitor]\nstale_after_s = inf\n",
    "no-data-nan": "[monitor]\nno_data_after_s = nan\n",
    "trend-nan": "[monitor]\ntrend_window_s = nan\n",
    "pi-low-nan": "[monitor]\npi_low = nan\n",
    "escalate-nan": "[monitor]\nescalate_within_s = nan\n",
    "acquisition-minus-inf": "[monitor]\nacquisition_s = -inf\n",
    "limit-nan": "[alarms.spo2_low]\nlimit = nan\n",
    "limit-minus-nan": "[alarms.spo2_low]\nlimit = -nan\n",
    "limit-inf": "[alarms.spo2_low]\nlimit = inf\n",
    "limit-zero": "[alarms.spo2_low]\nlimit = 0\n",
    "limit-overflow": "[alarms.spo2_low]\nlimit = 1e999\n",
    "delay-nan": "[alarms.spo2_low]\ndelay_s = nan\n",
    "delay-negative": "[alarms.spo2_low]\ndelay_s = -1\n",
    "hysteresis-nan": "[alarms.spo2_low]\nhysteresis = nan\n",
    "rapid-drop-nan": "[alarms.spo2_low]\nrapid_drop = nan\n",
    "rapid-window-inf": "[alarms.spo2_low]\nrapid_window_s = inf\n",
    "severe-limit-nan": "[alarms.spo2_severe]\nlimit = nan\n",
    "pulse-low-nan": "[alarms.pulse_low]\nlimit = nan\n",
    "pulse-high-inf": "[alarms.pulse_high]\nlimit = inf\n",
    "falling-fast-nan": "[alarms.falling_fast]\nlimit = nan\n",
    "finger-out-delay-nan": "[alarms.finger_out]\ndelay_s = nan\n",
    "drops-nan": "[desaturation]\ndrops = [3.0, nan]\n",
    "drops-zero": "[desaturation]\ndrops = [0]\n",
    "recovery-nan": "[desaturation]\nrecovery = nan\n",
    "baseline-nan": "[desaturation]\nbaseline_window_s = nan\n",
    "min-duration-inf": "[desaturation]\nmin_duration_s = inf\n",
    "thresholds-nan": "[time_below]\nthresholds = [90.0, nan]\n",
    "thresholds-inf": "[time_below]\nthresholds = [inf]\n",
}

SCENARIO_HEAD = 'name = "x"\ndescription = "d"\nduration = "2m"\n'
#: scenario files whose numbers are at the edges (`simulate FILE`)
SCENARIO_NUMBERS: dict[str, str] = {
    "co2-store-zero": "[patient]\nco2_store_l = 0\n",
    "frc-zero": "[patient]\nfrc_l = 0\n",
    "blood-zero": "[patient]\nblood_l = 0\n",
    "hb-zero": "[patient]\nhb = 0\n",
    "hr-huge": "[patient]\nhr = 1e308\n",
    "fio2-above-one": "[patient]\nfio2 = 5\n",
    "barometric-zero": "[patient]\nbarometric = 0\n",
    "tidal-huge": "[patient]\ntidal_volume_l = 1e300\n",
    "tolerance-zero": "[patient]\nopioid_tolerance = 0\n",
    "averaging-huge": "[oximeter]\naveraging_s = 1e308\n",
    "pi-zero": "[oximeter]\npi = 0\n",
    "lag-huge": "[oximeter]\nlag_s = 1e9\n",
    "noise-huge": "[oximeter]\nspo2_noise = 1e308\n",
    "dose-huge": '[[events]]\nat = "10s"\naction = "drug"\ndrug = "fentanyl"\ndose = 1e308\n',
    "naloxone-mg-huge": '[[events]]\nat = "10s"\naction = "naloxone"\nmg = 1e300\n',
    "seconds-huge": '[[events]]\nat = "10s"\naction = "finger_out"\nseconds = 1e308\n',
    "at-huge": '[[events]]\nat = 1e308\naction = "oxygen"\n',
}


def edf(*, nrec: str = "10", dur: str = "1", ns: str = "1", hdr: str | None = None,
        physmin: str = "0", physmax: str = "100", digmin: str = "0", digmax: str = "1000",
        spr: str = "1") -> bytes:
    """A one-signal EDF (SpO2, 10 records of one sample) with any header field replaced."""

    def f(v: str, n: int) -> bytes:
        return v.encode().ljust(n)[:n]

    k = int(ns) if ns.strip().isdigit() and int(ns) < 50 else 1
    h = (f("0", 8) + f("X X X X", 80) + f("Startdate 01-JAN-2020 X X X", 80) + f("01.01.20", 8)
         + f("00.00.00", 8) + f(hdr if hdr is not None else str(256 + 256 * k), 8) + f("", 44)
         + f(nrec, 8) + f(dur, 8) + f(ns, 4))
    for value, width in (("SpO2", 16), ("", 80), ("%", 8), (physmin, 8), (physmax, 8),
                         (digmin, 8), (digmax, 8), ("", 80), (spr, 8), ("", 32)):
        h += f(value, width) * k
    return h + struct.pack("<10h", *([960] * 10))


#: damaged EDF headers (`info FILE`): each names the field in our words
EDF_HEADERS: dict[str, dict[str, str]] = {
    "duration-huge": {"dur": "1e308"},
    "duration-zero": {"dur": "0"},
    "duration-nan": {"dur": "nan"},
    "duration-negative": {"dur": "-1"},
    "records-text": {"nrec": "abc"},
    "records-negative": {"nrec": "-5"},
    "signals-text": {"ns": "ab"},
    "signals-zero": {"ns": "0"},
    "header-size-wrong": {"hdr": "999"},
    "physical-same": {"physmin": "5", "physmax": "5"},
    "physical-text": {"physmin": "abc"},
    "physical-inf": {"physmax": "inf"},
    "physical-huge": {"physmin": "-1e308", "physmax": "1e308"},
    "digital-same": {"digmin": "7", "digmax": "7"},
    "digital-reversed": {"digmin": "1000", "digmax": "0"},
    "samples-text": {"spr": "x"},
    "samples-zero": {"spr": "0"},
}


def more() -> None:
    """The file-system-and-edges part of the corpus (numbers, nesting, EDF headers)."""
    w("good/scenario.toml", SCENARIO_HEAD)
    for name, body in CONFIG_NUMBERS.items():
        w(f"numbers/config-{name}.toml", body)
    for name, body in SCENARIO_NUMBERS.items():
        w(f"numbers/scenario-{name}.toml", SCENARIO_HEAD + body)
    w("numbers/scenario-duration-huge.toml", SCENARIO_HEAD.replace('"2m"', "1e308"))
    w("good/ok.edf", edf())
    for name, kw in EDF_HEADERS.items():
        w(f"edf/{name}.edf", edf(**kw))
    # nesting: recursion in a parser must be a message, not a traceback
    w("nested/arrays.toml", "x = " + "[" * 1000 + "]" * 1000 + "\n")
    w("nested/tables.toml", "x = " + "{a = " * 1000 + "1" + "}" * 1000 + "\n")
    w("nested/scenario.toml", SCENARIO_HEAD + "notes = " + "[" * 1000 + "]" * 1000 + "\n")
    w("nested/deep.jsonl", HEADER + "\n" + '{"k":"event","t":1,"name":"x","d":'
      + "[" * 100_000 + "]" * 100_000 + "}\n" + '{"k":"end","t":1}\n')
    w("nested/deep-header.jsonl", '{"format":"oxi-assist-session","version":1,"x":'
      + "{\"a\":" * 50_000 + "1" + "}" * 50_000 + "}\n")
    # outputs a command must not replace or write through
    for ext in ("jsonl", "txt", "svg", "csv", "edf"):
        w(f"outputs/existing.{ext}", f"a user's file that must survive ({ext})\n")


BIG = 20 * 1024 * 1024


def make_special(root: Path) -> None:
    """Creates, in a copy of the corpus, the cases git cannot hold: FIFOs, links, a folder
    named like a file, names with escape codes and line breaks, files of many megabytes."""
    sp = root / "special"
    sp.mkdir(exist_ok=True)
    for name in ("fifo.jsonl", "fifo.toml", "fifo.hex", "fifo.csv", "fifo.edf"):
        os.mkfifo(sp / name)
    (sp / "dir.jsonl").mkdir()
    (sp / "dir.toml").mkdir()
    (sp / "link-to-fifo.jsonl").symlink_to("fifo.jsonl")
    (sp / "link-to-zero.toml").symlink_to("/dev/zero")
    (sp / "dangling.jsonl").symlink_to("nowhere.jsonl")
    (sp / "loop.jsonl").symlink_to("loop.jsonl")
    out = root / "outputs"
    (out / "dangling.csv").symlink_to("nowhere.csv")
    (out / "link-to-input.jsonl").symlink_to("../good/short.jsonl")
    os.link(root / "good" / "short.jsonl", out / "hard-input.jsonl")
    (out / "folder.jsonl").mkdir()
    esc = root / "escapes"
    esc.mkdir(exist_ok=True)
    (esc / "red\x1b[31m.jsonl").write_bytes(b"")
    (esc / "two\nlines.jsonl").write_bytes(b"")
    (esc / "bell\x07\x1b]0;title\x07.toml").write_bytes(b"[monitor]\nwindow_s = nan\n")
    meta = json.dumps({"format": "oxi-assist-session", "version": 1, "source": "x",
                       "device": "Pulse\x1b[2J\x1b[31mOx", "start_wall": 1700000000.0})
    (esc / "device-escape.jsonl").write_text(meta + "\n" + '{"k":"r","t":1,"spo2":97,"pulse":70}\n')
    big = root / "big"
    big.mkdir(exist_ok=True)
    with open(big / "huge.toml", "wb") as f:
        f.write(b"# comment\n" * (BIG // 10))
    with open(big / "huge-scenario.toml", "wb") as f:
        f.write(SCENARIO_HEAD.encode() + b"# comment\n" * (BIG // 10))
    with open(big / "long-line.jsonl", "wb") as f:
        f.write(HEADER.encode() + b'\n{"k":"event","t":1,"name":"' + b"x" * BIG + b'"}\n')
    with open(big / "long-line.hex", "wb") as f:
        f.write(b"00" * (BIG // 2) + b"\n")


if __name__ == "__main__":
    main()
