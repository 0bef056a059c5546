"""Password hashing with Argon2id (argon2-cffi): the OWASP-recommended memory-hard hash,
with parameters that upgrade themselves as the library's defaults rise."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the user is unknown, so a wrong username costs as much as a wrong password.
_DUMMY_HASH = _hasher.hash("not-a-password")

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def check_password(stored_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False
