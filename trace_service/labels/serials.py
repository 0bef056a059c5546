"""Label serials: 70 random bits written as 15 characters a person can type back.

The alphabet is Crockford's base 32 (digits and capitals without I, L, O, U), so a code read
aloud or copied by hand has no look-alikes; typing accepts lower case, spaces and hyphens (or
any dash that looks like one), and reads I/L as 1 and O as 0, as Crockford's decoding does.
The fifteenth character is a check character, a weighted sum in GF(32) over the same
alphabet: it catches every single wrong character and every swap of two characters, so a
typo answers "no such code" before any lookup.

14 random characters carry 70 bits (at least the 64 the issue asks for): guessing one valid
serial among a billion issued labels takes ~2^40 tries. In the QR the serial is written
without hyphens (it is GS1 AI 21, serial number, up to 20 characters); on the stamp it is
grouped 5-5-5.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_CHARS = 14
_LETTER = [ALPHABET[byte % len(ALPHABET)] for byte in range(256)]  # 256 = 8 × 32: no bias
LENGTH = RANDOM_CHARS + 1
_VALUE = {ch: i for i, ch in enumerate(ALPHABET)}
_TYPED_ALIASES = str.maketrans({"I": "1", "L": "1", "O": "0"})
# What a phone's smart punctuation or a copy-paste puts between the groups instead of a
# hyphen: hyphen and non-breaking hyphen, figure, en and em dashes, minus, full-width hyphen.
DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_SEPARATORS = re.compile(f"[\\s{re.escape(DASHES)}]+")
_SERIAL_RE = re.compile(f"^[{ALPHABET}]{{{LENGTH}}}$")


def _gf32_tables() -> tuple[list[int], list[int]]:
    """Powers and logarithms of GF(32) with the primitive polynomial x^5 + x^2 + 1."""
    exp, log = [0] * 62, [0] * 32
    value = 1
    for power in range(31):
        exp[power] = exp[power + 31] = value
        log[value] = power
        value <<= 1
        if value & 32:
            value ^= 0b100101
    return exp, log


_EXP, _LOG = _gf32_tables()


def check_char(body: str) -> str:
    """Sum of each value times alpha^(position+1) in GF(32).

    Every weight is a distinct non-zero element, so one wrong character changes the sum, and
    swapping two different characters changes it by (a xor b) * (alpha^i xor alpha^j), never
    zero: unlike Luhn mod 32, which misses swapping "0Z" and "Z0".
    """
    total = 0
    for position, ch in enumerate(body):
        value = _VALUE[ch]
        if value:
            total ^= _EXP[_LOG[value] + (position + 1) % 31]
    return ALPHABET[total]


def new_serial() -> str:
    """A fresh random serial with its check character (15 characters, no separators)."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_CHARS))
    return body + check_char(body)


def new_serials(count: int) -> list[str]:
    """``count`` serials, distinct among themselves (the database makes them distinct overall).

    The randomness of all of them is drawn at once (one call to the system's generator, not
    one per character: for 100,000 stamps that was a third of the order's time); with 32
    letters each byte's low five bits pick one without bias."""
    seen: dict[str, None] = {}  # insertion-ordered, so a run's serials are in drawing order
    while len(seen) < count:
        wanted = count - len(seen)
        drawn = secrets.token_bytes(wanted * RANDOM_CHARS)
        for start in range(0, len(drawn), RANDOM_CHARS):
            body = "".join(_LETTER[b] for b in drawn[start : start + RANDOM_CHARS])
            seen[body + check_char(body)] = None
    return list(seen)


def is_serial(text: str) -> bool:
    """Exactly a canonical serial (as in a URL): 15 characters and a right check character."""
    return bool(_SERIAL_RE.fullmatch(text)) and check_char(text[:-1]) == text[-1]


def normalise_typed(text: str) -> str | None:
    """A serial as a person typed it ("7k3m9-qxa2b-cdef4", "7K3M9 QXA2B CDEF4") in canonical
    form, or ``None`` when it cannot be one (wrong length, unknown letter, bad check)."""
    if not isinstance(text, str):
        return None
    candidate = _SEPARATORS.sub("", text).upper().translate(_TYPED_ALIASES)
    return candidate if is_serial(candidate) else None


def grouped(serial: str) -> str:
    """The printed form: ``7K3M9-QXA2B-CDEF4``."""
    return "-".join(serial[i : i + 5] for i in range(0, len(serial), 5))


def scratch_code(secret: bytes, serial: str) -> str:
    """The code printed under a label's scratch-off layer: 10 characters (50 bits).

    Derived from the serial with a secret key (HMAC-SHA256) rather than stored, so a failed
    build draws the same codes again while the database holds only their hashes.
    """
    digest = int.from_bytes(hmac.new(secret, serial.encode("ascii"), "sha256").digest()[:7])
    return "".join(ALPHABET[(digest >> (5 * i)) & 31] for i in range(10))


def scratch_hash(serial: str, scratch_code: str) -> bytes:
    """What the database keeps of a scratch code: SHA-256 bound to its label's serial, so a
    hash copied to another label matches nothing. The code itself is never stored."""
    return hashlib.sha256(f"ocop-scratch/1\0{serial}\0{scratch_code}".encode("ascii")).digest()
