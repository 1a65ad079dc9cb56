"""The fault matrix: each fault played into a live pipeline that ends in a recording `Session`,
then judged from the recording file: was the right alarm raised within its bound, was every
lost stretch recorded as a gap, did readings come back once the fault ended, and did anything
crash (a crash is an exception out of the run, or an `internal_error` event in the file).

Bounds (the numbers the rows are held to):
- link lost: the `link_lost` alarm within 1 s of the drop;
- silence: the Monitor's `no_data` alarm within `no_data_after_s` (5 s) of the last reading and
  `stale` within `stale_after_s` (10 s) of the last valid value (both from alarms.toml);
- resume: the first reading after the link is back within one frame period; on the pty also
  the reopen after the cable is back, within the host's reopen back-off + one frame; after a
  BLE outage (the device out of range for 5 s to 2 min) the first reading within the
  transport's first back-off step (0.5 s) + one frame;
- corruption and garbage: nothing out of range recorded as valid, and the stream resynchronises
  (the last clean frames all decode).

Transports: BLE through bleak's API and the virtual peripheral on a virtual clock; serial
through a real pty, pyserial and the serial transport on a virtual clock in lockstep with the
device's and the host's threads (the clock stands still while they work, with bounded real
waits; see benchmarks/reliability_lockstep.py);
in-process (codec → Session) on a virtual clock for faults that are about bytes or timestamps.
"""

from __future__ import annotations

from typing import Any

from benchmarks.reliability_ble_outages import ble_outages
from benchmarks.reliability_faults_ble import (
    ble_corruption,
    ble_drops,
    ble_garbage,
    ble_no_start,
    ble_silence,
)
from benchmarks.reliability_faults_inproc import (
    finger_out_storm,
    inproc_corruption,
    inproc_timestamps,
)
from benchmarks.reliability_faults_pty import pty_corruption, pty_faults


def run_matrix(quick: bool = True) -> list[dict[str, Any]]:
    rates = [1e-4, 1e-3, 1e-2, 1e-1]
    rows: list[dict[str, Any]] = []
    rows += ble_drops(10 if quick else 100)
    rows += ble_silence(3 if quick else 20)
    rows += ble_corruption(rates, 60 if quick else 600)
    rows += ble_garbage(5 if quick else 50)
    rows += ble_no_start()
    rows += ble_outages(9 if quick else 100)
    rows += pty_faults(5 if quick else 100)
    rows += pty_corruption(rates[1:] if quick else rates, 3.0 if quick else 10.0)
    rows += inproc_corruption(rates, 60 if quick else 600)
    rows += inproc_timestamps(300 if quick else 3000)
    rows += finger_out_storm(20 if quick else 200)
    return rows
