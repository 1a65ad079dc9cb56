"""`oxi-assist download`: recordings stored in a Contec V7.0 oximeter → native session files.

Stored samples are 1 Hz SpO2 / pulse (and PI on models that store it); a sample the device
stored as invalid becomes a gap (None + a flag), never a number.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from drivers.errors import ProtocolError, SourceError
from drivers.formats.native import SessionWriter
from drivers.printable import printable
from drivers.reading import Reading, Status
from drivers.safe_files import check_output, os_reason, output
from drivers.serial_download import StoredRecording, download_v7
from drivers.serial_transport import check_port, resolve_port
from oxi_assist.uris import OPENERS, parse_uri


def register(sub: Any) -> None:
    p = sub.add_parser("download", help="download recordings stored in a CMS50 (V7.0) oximeter",
                       description="Pull every recording stored in a Contec V7.0 oximeter "
                                   "(CMS50D+ fw 4.6+, CMS50E/F/I) into native session files.")
    p.add_argument("source", metavar="SOURCE",
                   help="serial:PORT or serial:auto (e.g. serial:/dev/ttyUSB0, serial:COM3)")
    p.add_argument("--output", "-o", required=True, metavar="FILE",
                   help="session file to write; with several recordings FILE-2, FILE-3, ...")
    p.add_argument("--force", action="store_true", help="replace output files that exist")
    p.set_defaults(func=run)


def output_paths(base: Path, n: int) -> list[Path]:
    return [base if i == 0 else base.with_name(f"{base.stem}-{i + 1}{base.suffix}")
            for i in range(n)]


def to_readings(rec: StoredRecording) -> list[Reading]:
    out = []
    for i, (spo2, pulse, pi) in enumerate(rec.samples):
        status = Status.NONE
        if spo2 is None and pulse is None:
            status = Status.FINGER_OUT  # what a stored all-invalid sample most often means
        elif spo2 is None or pulse is None:
            status = Status.SEARCHING
        out.append(Reading(t=float(i), spo2=spo2, pulse=pulse, pi=pi, status=status))
    return out


def write_recording(rec: StoredRecording, path: Path, source: str, device: str, *,
                    force: bool = False) -> int:
    """Writes one stored recording as a new session file (see `drivers.safe_files.output`)."""
    readings = to_readings(rec)
    start = rec.start.timestamp() if rec.start else None
    try:
        with output(path, force=force) as tmp, \
                SessionWriter(tmp, source=source, device=device, start_wall=start,
                              flush_every=float("inf"),
                              extra={"interval": 1.0, "user": rec.user, "segment": rec.segment,
                                     "downloaded": True,
                                     # the device's clock has no zone
                                     **({"start_naive": True} if start is not None else {})}
                              ) as w:
            for r in readings:
                w.reading(r)
            w.close(t=readings[-1].t if readings else 0.0, reason="downloaded")
    except OSError as e:
        raise SourceError(f"{path}: cannot write ({os_reason(e)})") from None
    return len(readings)


def run(args: argparse.Namespace) -> int:
    scheme = args.source.partition(":")[0].lower()
    src = args.source if scheme in OPENERS else f"serial:{args.source}"  # a bare port name
    u = parse_uri(src)
    if u.scheme != "serial":
        raise SourceError(f"download works with serial V7.0 devices (serial:PORT), "
                          f"not {u.scheme}:")
    proto = u.params.get("protocol")
    if proto not in (None, "cms50-v7"):
        raise ProtocolError(f"download needs a V7.0 device (protocol cms50-v7), not {proto}")
    out = Path(args.output)
    check_output(out, force=args.force)  # before the device is asked for anything
    path = resolve_port(u.target)
    check_port(path)
    recs = download_v7(path, progress=lambda m: print(m, flush=True))
    if not recs:
        print("no stored recordings on the device")
        return 0
    for rec, p in zip(recs, output_paths(out, len(recs)), strict=True):
        n = write_recording(rec, p, f"serial:{path}", f"CMS50 V7.0 on {path}",
                            force=args.force)
        short = f" (device announced {rec.announced})" if n < rec.announced else ""
        print(f"wrote {printable(p)}: {n} samples{short}")
    return 0
