"""An alarm's priority: shared by the vitals the Monitor shows, the changes it reports and the
records it keeps, so it lives below all three (none of them imports another for it)."""

from __future__ import annotations

import enum


class Priority(enum.IntEnum):
    """IEC 60601-1-8 practice: high = death or irreversible injury likely if ignored."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3

    @property
    def label(self) -> str:
        return self.name.lower()
