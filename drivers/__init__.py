"""Device-facing layer: the common `Reading`, byte codecs, transports and recorded-file formats.

Nothing here imports `simulators` or `oxi_assist`; everything above speaks in `Reading`s.
"""

from drivers.clock import Clock, RealClock, VirtualClock
from drivers.errors import FormatError, OxiError, ProtocolError, SourceError
from drivers.reading import LinkEvent, LinkState, Reading, Source, Status

__all__ = [
    "Clock",
    "FormatError",
    "LinkEvent",
    "LinkState",
    "OxiError",
    "ProtocolError",
    "Reading",
    "RealClock",
    "Source",
    "SourceError",
    "Status",
    "VirtualClock",
]
