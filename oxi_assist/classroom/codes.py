"""Join codes, station ids and the class id: the short secrets and names a class is built on.

A join code is 6 characters from an alphabet without look-alikes (no 0/O, 1/I/L, 2/Z, 5/S, 8/B),
drawn with `secrets`, so it can be read aloud across a room and typed on a phone. It is the
stations' broker password; the trainer has a separate secret of its own that is never shown.
The class id in every topic is a hash of the code, so the code itself never appears in a topic
name, a log line or the class record.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from drivers.errors import OxiError

#: 26 letters and 10 digits minus the look-alike pairs: 25 symbols, 6 of them ≈ 2.4e8 codes.
ALPHABET = "ACDEFGHJKMNPQRTUVWXY34679"
CODE_LENGTH = 6
#: Station ids that are topic names of their own (`cmd/all`) or the trainer's broker user.
RESERVED_IDS = frozenset({"all", "trainer", "class"})
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
TRAINER_USER = "trainer"


class CodeError(OxiError):
    """A join code, station name or station id that cannot be used."""


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))


def new_secret() -> str:
    """The trainer's own broker password: long, random, never printed."""
    return secrets.token_urlsafe(24)


def normalize_code(text: str) -> str:
    """The code as typed (any case, spaces or dashes between groups) → canonical form."""
    code = re.sub(r"[\s-]", "", text).upper()
    if len(code) != CODE_LENGTH:
        raise CodeError(f"join code {text!r}: expected {CODE_LENGTH} characters")
    bad = sorted({c for c in code if c not in ALPHABET})
    if bad:
        raise CodeError(f"join code {text!r}: {''.join(bad)!r} is not used in join codes "
                        f"(they use {ALPHABET})")
    return code


def class_id(code: str) -> str:
    """The class's topic name: 10 hex digits of a hash of the code."""
    return hashlib.sha256(f"oxi-assist class {code}".encode()).hexdigest()[:10]


def station_id(name: str) -> str:
    """A station's id (its broker user name and topic level) from the name the trainee gives:
    lower-case letters, digits and dashes, at most 32."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.strip().lower()).strip("-")[:32].strip("-")
    if not slug or not _ID.match(slug):
        raise CodeError(f"station name {name!r}: needs at least one letter or digit")
    if slug in RESERVED_IDS:
        raise CodeError(f"station name {name!r}: {slug!r} is reserved; choose another name")
    return slug


def valid_station_id(text: str) -> bool:
    return bool(_ID.match(text)) and text not in RESERVED_IDS
