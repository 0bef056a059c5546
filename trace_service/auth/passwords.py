"""Password hashing with Argon2id (argon2-cffi): the OWASP-recommended memory-hard hash,
with parameters that upgrade themselves as the library's defaults rise."""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


@cache
def _dummy_hash() -> str:
    """Verified against when the user is unknown, so a wrong username costs as much as a
    wrong password (made on first use: an Argon2 hash at import slowed every command)."""
    return _hasher.hash("not-a-password")


MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False
