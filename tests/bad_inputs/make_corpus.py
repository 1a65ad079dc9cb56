"""Writes the bad-input corpus files (run once; the files are committed). Every file is made
here from scratch: no captured device data is copied."""

from __future__ import annotations

import json
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


if __name__ == "__main__":
    main()
