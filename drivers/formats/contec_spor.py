"""Contec SpO2 Review `.spoR` / `.spo` binary; the reader lives beside `.SpO2`'s in
`contec_spo2` (same family, records in the reverse order `[PR, SpO2]`)."""

from __future__ import annotations

from drivers.formats._base import FormatInfo
from drivers.formats.contec_spo2 import NAME_R, read_r, sniff_r

FORMAT = FormatInfo(
    name=NAME_R, description="Contec SpO2 Review binary (.spoR, .spo)",
    extensions=(".spor", ".spo"), sniff=sniff_r, read=read_r,
)
