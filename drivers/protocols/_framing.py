"""The feed loop the byte-stream codecs share: buffer, find a sync byte, wait for a whole frame,
check it, count it, resynchronise one byte past a bad one, keep the unfinished tail.

Each protocol keeps its own rules in one hook, `_frame_at`, which looks at the buffer at a sync
position and answers with a frame length (a good frame, whose readings it has appended) or one
of the codes below. The loop itself lives here once, so every codec counts skipped bytes and bad
frames the same way (PROTOCOLS.md §13: corrupt bytes are skipped and counted).
"""

from __future__ import annotations

from typing import Any

from drivers.reading import CodecStats

#: `_frame_at` answers: the frame is not complete yet; keep the tail for the next feed.
NEED_MORE = 0
#: Not a frame start after all (a sync byte inside other data): skip one byte, no frame counted.
NOT_FRAME = -1
#: A frame that fails its checks: counted bad, and the search restarts one byte past its start.
BAD = -2


class FrameScanner:
    """Base of a codec whose frames start with a sync byte.

    `sync` is either one byte value (found with `bytearray.find`) or a 256-entry table whose
    truthy entries are the bytes that may start a frame.
    """

    sync: int | bytes = 0

    def __init__(self) -> None:
        self.stats = CodecStats()
        self._buf = bytearray()

    @property
    def pending(self) -> bytes:
        """Bytes of an unfinished frame, held until the next feed completes it."""
        return bytes(self._buf)

    def _frame_at(self, buf: bytearray, i: int, n: int, out: list[Any]) -> int:
        """At sync byte `buf[i]` (`n` bytes buffered): a good frame's length (its readings
        appended to `out`), or NEED_MORE, NOT_FRAME or BAD."""
        raise NotImplementedError

    def _scan(self, data: bytes | bytearray, out: list[Any]) -> list[Any]:
        """Feed `data`; what the hook appends to `out` comes back in `out`."""
        buf = self._buf
        buf += data
        stats = self.stats
        frame_at = self._frame_at
        sync = self.sync
        one = sync if isinstance(sync, int) else -1
        table = sync if isinstance(sync, bytes) else b""
        n = len(buf)
        i = 0
        skipped = 0
        good = 0
        bad = 0
        while i < n:
            if one >= 0:
                j = buf.find(one, i)
                if j < 0:
                    j = n
            else:
                j = i
                while j < n and not table[buf[j]]:
                    j += 1
            skipped += j - i
            i = j
            if i >= n:
                break
            length = frame_at(buf, i, n, out)
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
        stats.bytes_skipped += skipped
        stats.frames_good += good
        stats.frames_bad += bad
        return out
