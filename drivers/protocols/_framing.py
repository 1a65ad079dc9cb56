"""The feed loop the byte-stream codecs share: buffer, find a sync byte, wait for a whole frame,
check it, count it, resynchronise one byte past a bad one, keep the unfinished tail.

Each protocol keeps its own rules in one hook, `_frame_at`, which looks at the buffer at a sync
position and answers with a frame length (a good frame, whose readings it has appended) or one
of the codes below. The loop itself lives here once, so every codec counts skipped bytes and bad
frames the same way (PROTOCOLS.md §13: corrupt bytes are skipped and counted).
"""

from __future__ import annotations

from typing import Any

from drivers.protocols._blecodec import Timeline
from drivers.reading import CodecStats, Reading

#: `_frame_at` answers: the frame is not complete yet; keep the tail for the next feed.
NEED_MORE = 0
#: Not a frame start after all (a sync byte inside other data): skip one byte, no frame counted.
NOT_FRAME = -1
#: A frame that fails its checks: counted bad, and the search restarts one byte past its start.
BAD = -2


class BufferedCodec:
    """What every stream codec holds between feeds: its counters and an unfinished tail."""

    def __init__(self) -> None:
        self.stats = CodecStats()
        self._buf = bytearray()

    @property
    def pending(self) -> bytes:
        """Bytes of an unfinished frame, held until the next feed completes it."""
        return bytes(self._buf)


class FrameScanner(BufferedCodec):
    """Base of a codec whose frames start with a sync byte.

    `sync` is either one byte value (skipped to with `bytearray.find`) or a 256-entry table whose
    truthy entries are the bytes that may start a frame.
    """

    sync: int | bytes = 0
    _starts: bytes = bytes(256)  # 256-entry table of frame-start bytes, from `sync`
    _one: int = -1  # the single sync byte, or -1 when `sync` is a table

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        sync = cls.sync
        if isinstance(sync, int):
            cls._one = sync
            cls._starts = bytes(1 if b == sync else 0 for b in range(256))
        else:
            if len(sync) != 256:
                raise ValueError(f"{cls.__name__}.sync: a table needs 256 entries")
            cls._one = -1
            cls._starts = sync

    def __init__(self) -> None:
        super().__init__()
        self._time = Timeline()
        self._starts = self._starts  # on the instance: the fastest lookup in the hot loop
        self._one = self._one

    def _frame_at(self, buf: bytearray, i: int, n: int, out: list[Reading]) -> int:
        """At sync byte `buf[i]` (`n` bytes buffered): a good frame's length (its readings
        appended to `out`), or NEED_MORE, NOT_FRAME or BAD."""
        raise NotImplementedError

    def feed(self, data: bytes | bytearray, char: str | None = None,
             t: float | None = None) -> list[Reading]:
        """Bytes as they arrive (`t`: the caller's clock, else nominal frame time)."""
        self._time.start(t)
        out: list[Reading] = []
        buf = self._buf
        buf += data
        starts = self._starts
        one = self._one
        n = len(buf)
        i = 0
        skipped = 0
        good = 0
        bad = 0
        while i < n:
            if not starts[buf[i]]:  # out of sync: skip to the next byte that may start a frame
                if one >= 0:
                    j = buf.find(one, i + 1)
                    if j < 0:
                        j = n
                else:
                    j = i + 1
                    while j < n and not starts[buf[j]]:
                        j += 1
                skipped += j - i
                i = j
                if i >= n:
                    break
            length = self._frame_at(buf, i, n, out)
            if length > 0:
                good += 1
                i += length
            elif length == NEED_MORE:
                break
            else:
                if length == BAD:
                    bad += 1
                skipped += 1
                i += 1
        if i:
            del buf[:i]
            stats = self.stats
            if good:
                stats.frames_good += good
            if bad:
                stats.frames_bad += bad
            if skipped:
                stats.bytes_skipped += skipped
        return out
