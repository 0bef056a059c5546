"""Ed25519 signing keys kept in files, encrypted, with public metadata beside them.

Layout of the key directory (mode 0700):

- ``<kid>.pem``: the private key, PKCS#8 PEM encrypted with the store's passphrase, mode 0600,
  created with ``O_CREAT | O_EXCL`` so an existing file is never overwritten;
- ``<kid>.json``: public metadata (kid, role, status, times, raw public key), mode 0600.

A key id (kid) is the first 8 bytes of SHA-256 over the raw 32-byte public key, base64url
without padding (11 characters), as the EU Digital COVID Certificate does. Two keys with the
same kid would make verifiers pick the wrong key, so a colliding kid is refused, never replaced.

Statuses: ``active`` (signs and verifies), ``retired`` (verifies only), ``compromised``
(nothing it signed is trusted). At most one key of each role is active. The root key signs
only the trust list (``trustlist.py``); label verification does not know it. The snapshot key
signs only the offline verifiers' snapshots: it is used often and by the web process, so it is
kept apart from the label keys (a snapshot key lost costs a new snapshot key, never the labels
in the shops) and from the root key, which stays cold.

Like warehouse's ``TokenService`` this wraps the crypto library: its exceptions become domain
errors (``KeyStoreLocked`` …) or a ``Verdict``; no private key is ever in a repr, str or log.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import stat
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from trace_service.errors import Conflict, DomainError, NotFound, Unavailable

log = logging.getLogger(__name__)

SIGNATURE_BYTES = 64
PUBLIC_KEY_BYTES = 32
KID_BYTES = 8
_KID_RE = re.compile(r"^[A-Za-z0-9_-]{11}$")
_B64URL_RE = re.compile(r"^[A-Za-z0-9_-]*$")
_LOCK_FILE = ".lock"
# Signing threads for a batch (the cores there are, at most four), each given at least this
# many messages: below it, starting threads costs more than it saves.
_SIGNING_THREADS = min(4, len(os.sched_getaffinity(0)))
_PER_THREAD_AT_LEAST = 64


# --- errors -------------------------------------------------------------------------------


class KeyStoreLocked(Unavailable):
    """The passphrase does not open the keys (wrong, or missing)."""

    code = "keystore_locked"

    def __init__(self) -> None:
        super().__init__(
            "Không mở được kho khóa ký: sai mật khẩu.",
            "The signing key store cannot be opened: wrong passphrase.",
        )


class KeyStoreInsecure(Unavailable):
    """Key files others may read: refused, like ssh refuses a loose private key."""

    code = "keystore_insecure"


class KeyStoreCorrupt(Unavailable):
    """A key file or its metadata is unreadable or inconsistent."""

    code = "keystore_corrupt"


class UnknownKey(NotFound):
    code = "unknown_key"

    def __init__(self, kid: str) -> None:
        super().__init__(f"Không có khóa {kid}.", f"No key {kid}.")
        self.kid = kid


class NoActiveKey(Unavailable):
    code = "no_active_key"


class KeyNotUsable(Conflict):
    """A retired or compromised key asked to sign, or a change its status forbids."""

    code = "key_not_usable"


class KeyIdCollision(Conflict):
    code = "key_id_collision"

    def __init__(self, kid: str) -> None:
        super().__init__(
            f"Mã khóa {kid} trùng với một khóa đã có; không tạo khóa mới.",
            f"Key id {kid} collides with an existing key; no key was created.",
        )
        self.kid = kid


# --- values -------------------------------------------------------------------------------


class KeyStatus(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"
    COMPROMISED = "compromised"


class KeyRole(StrEnum):
    SIGNING = "signing"
    ROOT = "root"
    SNAPSHOT = "snapshot"  # signs the offline verifiers' snapshots only (ocop_verify.snapshot)


class Verdict(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    UNKNOWN_KEY = "unknown_key"
    COMPROMISED_KEY = "compromised_key"

    @property
    def ok(self) -> bool:
        return self is Verdict.VALID


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding; ``ValueError`` on anything else."""
    if not isinstance(text, str) or not _B64URL_RE.fullmatch(text) or len(text) % 4 == 1:
        raise ValueError("not base64url without padding")
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except binascii.Error as exc:
        raise ValueError("not base64url") from exc
    if b64url_encode(data) != text:  # non-zero trailing bits: not the canonical encoding
        raise ValueError("not canonical base64url")
    return data


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_raw: bytes) -> str:
    """First 8 bytes of SHA-256 of the raw public key, base64url without padding."""
    return b64url_encode(hashlib.sha256(public_raw).digest()[:KID_BYTES])


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


@dataclass(frozen=True)
class KeyInfo:
    """Public facts about one key."""

    kid: str
    role: KeyRole
    status: KeyStatus
    created_at: datetime
    status_changed_at: datetime
    public_key_raw: bytes

    def __repr__(self) -> str:
        return f"KeyInfo(kid={self.kid!r}, role={self.role.value!r}, status={self.status.value!r})"

    __str__ = __repr__

    def to_json(self) -> dict[str, str]:
        return {
            "kid": self.kid,
            "role": self.role.value,
            "status": self.status.value,
            "created_at": self.created_at.isoformat(),
            "status_changed_at": self.status_changed_at.isoformat(),
            "public_key": b64url_encode(self.public_key_raw),
        }

    @classmethod
    def from_json(cls, data: Any) -> KeyInfo:
        try:
            info = cls(
                kid=data["kid"],
                role=KeyRole(data["role"]),
                status=KeyStatus(data["status"]),
                created_at=_aware(data["created_at"]),
                status_changed_at=_aware(data["status_changed_at"]),
                public_key_raw=b64url_decode(data["public_key"]),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"bad key metadata: {exc}") from exc
        if len(info.public_key_raw) != PUBLIC_KEY_BYTES or key_id(info.public_key_raw) != info.kid:
            raise ValueError("public key does not match kid")
        return info


def _aware(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.tzinfo is None:
        raise ValueError("naive datetime")
    return value


class Signer:
    """Signs label payloads with one active signing key.

    Re-reads the key's status before every signature (a small JSON file, ~20 µs, as much as
    the signature itself), so a signer held across a rotation or a compromise stops at once.
    """

    __slots__ = ("_key", "_store", "kid")

    def __init__(self, store: KeyStore, kid: str, key: Ed25519PrivateKey) -> None:
        self._store = store
        self.kid = kid
        self._key = key

    def __repr__(self) -> str:
        try:
            status = self._store.status(self.kid).value
        except DomainError:
            status = "unknown"
        return f"Signer(kid={self.kid!r}, status={status!r})"

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("a Signer holds a private key and cannot be pickled")

    def _check_active(self) -> None:
        status = self._store.status(self.kid)
        if status is not KeyStatus.ACTIVE:
            raise KeyNotUsable(
                f"Khóa {self.kid} đã {status.value}, không được ký nữa.",
                f"Key {self.kid} is {status.value} and signs no more.",
            )

    def sign(self, message: bytes) -> tuple[str, bytes]:
        self._check_active()
        return self.kid, self._key.sign(message)

    def sign_all(self, messages: list[bytes]) -> list[bytes]:
        """Signatures of ``messages``, the key's status read once for them all (a print run
        signs a slice of its stamps at a time: its status file was read for every one)."""
        with self.batches() as submit:
            return submit(messages)()

    @contextlib.contextmanager
    def batches(self) -> Iterator[Callable[[list[bytes]], Callable[[], list[bytes]]]]:
        """``submit(messages)`` starts signing a batch over threads and returns what waits
        for its signatures, in order; the caller goes on meanwhile (a print run inserts one
        slice while the next is signed).

        ``cryptography`` lets go of the GIL while it signs, so a batch signs on every core
        (a 100,000-stamp order spent 4 of its 7 s signing on one). The key's status is read
        once a batch and once more at the end; small batches sign at once, in the caller's
        thread."""
        sign = self._key.sign

        def stretch_signed(stretch: list[bytes]) -> list[bytes]:
            return [sign(message) for message in stretch]

        with ThreadPoolExecutor(_SIGNING_THREADS, thread_name_prefix="sign") as pool:

            def submit(messages: list[bytes]) -> Callable[[], list[bytes]]:
                self._check_active()
                threads = min(_SIGNING_THREADS, len(messages) // _PER_THREAD_AT_LEAST)
                if threads < 2:
                    signed = stretch_signed(messages)
                    return lambda: signed
                step = -(-len(messages) // threads)
                futures = [
                    pool.submit(stretch_signed, messages[start : start + step])
                    for start in range(0, len(messages), step)
                ]
                return lambda: [signature for future in futures for signature in future.result()]

            yield submit
        # Read once more when every batch is signed: a key retired, rotated or compromised
        # while the last batch was signed must not see that batch's order saved.
        self._check_active()


class KeyStore:
    """Ed25519 keys in ``directory``, private halves encrypted with ``passphrase``."""

    def __init__(
        self,
        directory: Path,
        passphrase: bytes,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        if not isinstance(passphrase, bytes) or not passphrase:
            raise KeyStoreLocked()
        self.directory = Path(directory)
        self._passphrase = passphrase
        self._meta_cache: dict[str, tuple[tuple[int, int, int], KeyInfo]] = {}
        self._clock = clock or (lambda: datetime.now(UTC))
        # verify()'s keys by kid, with the stat of the metadata file they were read from.
        self._verifying: dict[str, tuple[tuple[int, int, int], KeyInfo, Ed25519PublicKey]] = {}
        self._secure_directory()

    def __repr__(self) -> str:
        return f"KeyStore(directory={str(self.directory)!r})"

    def passphrase_for_derivation(self) -> bytes:
        """The passphrase, for deriving other secrets (``service.scratch_secret``) only."""
        return self._passphrase

    # -- filesystem ------------------------------------------------------------------------

    def _secure_directory(self) -> None:
        """Create the directory 0700, or tighten an existing one we own to 0700."""
        if not self.directory.exists():
            self.directory.mkdir(mode=0o700, parents=True)
        st = self.directory.stat()
        if not stat.S_ISDIR(st.st_mode):
            raise KeyStoreInsecure(
                "Thư mục khóa không phải là thư mục.", f"{self.directory} is not a directory."
            )
        if st.st_mode & 0o077:
            if st.st_uid != os.geteuid():
                raise KeyStoreInsecure(
                    "Thư mục khóa cho phép người khác truy cập.",
                    f"{self.directory} is open to others and not ours to tighten.",
                )
            log.warning(
                "key directory %s was mode %04o; set to 0700",
                self.directory,
                stat.S_IMODE(st.st_mode),
            )
            self.directory.chmod(0o700)

    def _pem_path(self, kid: str) -> Path:
        return self.directory / f"{kid}.pem"

    def _meta_path(self, kid: str) -> Path:
        return self.directory / f"{kid}.json"

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time across processes (CLI and web workers)."""
        fd = os.open(self.directory / _LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    @staticmethod
    def _write_new(path: Path, data: bytes) -> None:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    def _write_meta(self, info: KeyInfo, *, new: bool) -> None:
        data = json.dumps(info.to_json(), indent=2, sort_keys=True).encode() + b"\n"
        path = self._meta_path(info.kid)
        if new:
            self._write_new(path, data)
            return
        tmp = path.with_name(f".{info.kid}.json.tmp")
        tmp.unlink(missing_ok=True)
        self._write_new(tmp, data)
        tmp.replace(path)

    def _read_meta(self, kid: str) -> KeyInfo:
        if not isinstance(kid, str) or not _KID_RE.fullmatch(kid):
            raise UnknownKey(str(kid)[:40])
        path = self._meta_path(kid)
        try:
            stat = path.stat()
        except FileNotFoundError:
            raise UnknownKey(kid) from None
        # Every verification reads its key's status: parsed again only when the file changed
        # (a change replaces it: a new inode, size or time), so a status is never stale.
        version = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
        known = self._meta_cache.get(kid)
        if known is not None and known[0] == version:
            return known[1]
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            raise UnknownKey(kid) from None
        try:
            info = KeyInfo.from_json(json.loads(raw))
        except ValueError as exc:  # json.JSONDecodeError is a ValueError
            raise self._corrupt(path, exc) from None
        if info.kid != kid:
            raise self._corrupt(path, "kid differs from the file name")
        self._meta_cache[kid] = (version, info)
        return info

    @staticmethod
    def _corrupt(path: Path, why: object) -> KeyStoreCorrupt:
        log.error("key store: %s is unusable: %s", path, why)
        return KeyStoreCorrupt(
            "Tệp khóa bị hỏng.", f"The key file {path.name} is unreadable or inconsistent."
        )

    def _load_private(self, info: KeyInfo) -> Ed25519PrivateKey:
        path = self._pem_path(info.kid)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except FileNotFoundError:
            raise self._corrupt(path, "private key file missing") from None
        with os.fdopen(fd, "rb") as fh:
            if os.fstat(fh.fileno()).st_mode & 0o077:
                raise KeyStoreInsecure(
                    "Tệp khóa bí mật cho phép người khác đọc.",
                    f"{path.name} is readable by others; set it to mode 0600.",
                )
            pem = fh.read()
        try:
            key = serialization.load_pem_private_key(pem, password=self._passphrase)
        except (ValueError, TypeError) as exc:
            # cryptography says "Bad decrypt. Incorrect password?" as a ValueError; a PEM
            # that is not encrypted is a TypeError. Neither is shown: no key material leaks.
            if b"ENCRYPTED" not in pem:
                raise self._corrupt(path, "private key is not encrypted") from None
            log.warning("key store: passphrase does not open %s (%s)", path.name, type(exc))
            raise KeyStoreLocked() from None
        except UnsupportedAlgorithm:
            raise self._corrupt(path, "unsupported key algorithm") from None
        if not isinstance(key, Ed25519PrivateKey) or raw_public_key(key.public_key()) != (
            info.public_key_raw
        ):
            raise self._corrupt(path, "private key does not match its metadata")
        return key

    # -- reading ---------------------------------------------------------------------------

    def _all(self) -> list[KeyInfo]:
        infos = []
        for path in self.directory.glob("*.json"):
            if not _KID_RE.fullmatch(path.stem):
                raise self._corrupt(path, "not named after a key id")
            infos.append(self._read_meta(path.stem))
        return sorted(infos, key=lambda i: (i.created_at, i.kid))

    def public_keys(self) -> list[KeyInfo]:
        """Every key, root included, oldest first, with its status."""
        return self._all()

    def get(self, kid: str) -> KeyInfo:
        return self._read_meta(kid)

    def status(self, kid: str) -> KeyStatus:
        """A key's current status, read from its metadata file (no cache to go stale)."""
        return self._read_meta(kid).status

    def _active(self, role: KeyRole) -> KeyInfo | None:
        active = [i for i in self._all() if i.role is role and i.status is KeyStatus.ACTIVE]
        if len(active) > 1:
            raise KeyStoreCorrupt(
                "Có nhiều hơn một khóa đang hoạt động.",
                f"More than one active {role.value} key: {', '.join(i.kid for i in active)}.",
            )
        return active[0] if active else None

    def active_signing_key(self) -> KeyInfo:
        info = self._active(KeyRole.SIGNING)
        if info is None:
            raise NoActiveKey(
                "Chưa có khóa ký tem đang hoạt động; quản trị hệ thống cần chạy "
                "'flask keys init' (lần đầu) hoặc 'flask keys rotate'.",
                "No active signing key: run 'flask keys init' (first installation) or "
                "'flask keys rotate'.",
            )
        return info

    def root_key(self) -> KeyInfo:
        info = self._active(KeyRole.ROOT)
        if info is None:
            raise NoActiveKey(
                "Chưa có khóa gốc; quản trị hệ thống cần chạy 'flask keys init'.",
                "No active root key: run 'flask keys init'.",
            )
        return info

    def signer(self, kid: str | None = None) -> Signer:
        """A signer for the active signing key (or ``kid``, which must be it)."""
        info = self.active_signing_key() if kid is None else self._read_meta(kid)
        if info.role is not KeyRole.SIGNING or info.status is not KeyStatus.ACTIVE:
            raise KeyNotUsable(
                f"Khóa {info.kid} không được dùng để ký nhãn.",
                f"Key {info.kid} ({info.role.value}, {info.status.value}) may not sign labels.",
            )
        return Signer(self, info.kid, self._load_private(info))

    def sign_as_root(self, payload: bytes) -> tuple[str, bytes]:
        """The root key's signature; for ``trustlist.signed_trust_list`` only."""
        info = self.root_key()
        return info.kid, self._load_private(info).sign(payload)

    def sign_as_snapshot(self, payload: bytes) -> tuple[str, bytes]:
        """The active snapshot key's signature; for ``ocop_verify.snapshot.sign_snapshot``."""
        info = self._active(KeyRole.SNAPSHOT)
        if info is None:
            raise NoActiveKey(
                "Chưa có khóa ký dữ liệu ngoại tuyến; quản trị hệ thống cần chạy "
                "'flask keys init'.",
                "No active snapshot key: run 'flask keys init'.",
            )
        return info.kid, self._load_private(info).sign(payload)

    def _verifying_key(self, kid: str) -> tuple[KeyInfo, Ed25519PublicKey | None]:
        """The key's metadata as its file says now, and its public key. Read again whenever
        the file changed (a status change replaces it: new inode and time), else from memory:
        each page view verifies a signature, and a stat costs far less than a read."""
        if not isinstance(kid, str) or not _KID_RE.fullmatch(kid):
            raise UnknownKey(str(kid)[:40])
        try:
            found = os.stat(self._meta_path(kid))
        except FileNotFoundError:
            raise UnknownKey(kid) from None
        version = (found.st_ino, found.st_mtime_ns, found.st_size)
        held = self._verifying.get(kid)
        if held is not None and held[0] == version:
            return held[1], held[2]
        info = self._read_meta(kid)
        try:
            public: Ed25519PublicKey | None = Ed25519PublicKey.from_public_bytes(
                info.public_key_raw
            )
        except ValueError:
            public = None
        if public is not None:
            self._verifying[kid] = (version, info, public)
        return info, public

    def verify(self, kid: str, message: bytes, signature: bytes) -> Verdict:
        """A label signature's verdict; never raises for bad input."""
        try:
            info, public = self._verifying_key(kid)
        except UnknownKey:
            return Verdict.UNKNOWN_KEY
        if info.role is not KeyRole.SIGNING:
            return Verdict.UNKNOWN_KEY  # the root key signs no labels
        if info.status is KeyStatus.COMPROMISED:
            return Verdict.COMPROMISED_KEY
        if public is None or not isinstance(signature, bytes) or not isinstance(message, bytes):
            return Verdict.INVALID
        if len(signature) != SIGNATURE_BYTES:
            return Verdict.INVALID
        try:
            public.verify(signature, message)
        except (InvalidSignature, ValueError):
            return Verdict.INVALID
        return Verdict.VALID

    # -- changing --------------------------------------------------------------------------

    def _check_passphrase(self) -> None:
        """Open one existing key, so a wrong passphrase never adds a key nobody can open."""
        infos = self._all()
        if infos:
            self._load_private(infos[-1])

    def _generate(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.generate()

    def _create(self, role: KeyRole) -> KeyInfo:
        key = self._generate()
        public_raw = raw_public_key(key.public_key())
        kid = key_id(public_raw)
        if self._meta_path(kid).exists() or self._pem_path(kid).exists():
            log.error("key store: new key id %s collides with an existing key", kid)
            raise KeyIdCollision(kid)
        now = self._clock()
        info = KeyInfo(kid, role, KeyStatus.ACTIVE, now, now, public_raw)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self._passphrase),
        )
        try:
            self._write_new(self._pem_path(kid), pem)
        except FileExistsError:
            raise KeyIdCollision(kid) from None
        try:
            self._write_meta(info, new=True)
        except FileExistsError:
            self._pem_path(kid).unlink()
            raise KeyIdCollision(kid) from None
        log.info("key store: created %s key %s", role.value, kid)
        return info

    def create(self, role: KeyRole | str = KeyRole.SIGNING) -> KeyInfo:
        """A new active key; refused while another key of the role is active (use rotate)."""
        role = KeyRole(role)
        with self._locked():
            self._check_passphrase()
            current = self._active(role)
            if current is not None:
                raise KeyNotUsable(
                    f"Đã có khóa {role.value} đang hoạt động ({current.kid}).",
                    f"An active {role.value} key exists ({current.kid}); rotate instead.",
                )
            return self._create(role)

    def rotate(self) -> KeyInfo:
        """A new active signing key; the previous one is retired (verifies, signs no more)."""
        with self._locked():
            self._check_passphrase()
            previous = self._active(KeyRole.SIGNING)
            info = self._create(KeyRole.SIGNING)
            if previous is not None:
                self._set_status(previous, KeyStatus.RETIRED)
            return info

    def _set_status(self, info: KeyInfo, status: KeyStatus) -> KeyInfo:
        changed = KeyInfo(
            info.kid, info.role, status, info.created_at, self._clock(), info.public_key_raw
        )
        self._write_meta(changed, new=False)
        log.info("key store: key %s is now %s", info.kid, status.value)
        return changed

    def retire(self, kid: str) -> KeyInfo:
        """Stop a key signing; what it signed still verifies. Idempotent."""
        with self._locked():
            info = self._read_meta(kid)
            if info.status is KeyStatus.COMPROMISED:
                raise KeyNotUsable(
                    f"Khóa {kid} đã bị lộ; không thể chuyển về trạng thái ngừng dùng.",
                    f"Key {kid} is compromised; it cannot become merely retired.",
                )
            if info.status is KeyStatus.RETIRED:
                return info
            return self._set_status(info, KeyStatus.RETIRED)

    def mark_compromised(self, kid: str) -> KeyInfo:
        """Distrust a key: nothing it signed verifies any more. Idempotent and final."""
        with self._locked():
            info = self._read_meta(kid)
            if info.status is KeyStatus.COMPROMISED:
                return info
            return self._set_status(info, KeyStatus.COMPROMISED)


def verify_raw(public_raw: bytes, message: bytes, signature: bytes) -> Verdict:
    """VALID or INVALID for a raw Ed25519 public key; never raises."""
    if (
        not isinstance(signature, bytes)
        or len(signature) != SIGNATURE_BYTES
        or not isinstance(message, bytes)
        or not isinstance(public_raw, bytes)
        or len(public_raw) != PUBLIC_KEY_BYTES
    ):
        return Verdict.INVALID
    try:
        Ed25519PublicKey.from_public_bytes(public_raw).verify(signature, message)
    except (InvalidSignature, ValueError):
        return Verdict.INVALID
    return Verdict.VALID


__all__ = [
    "KeyIdCollision",
    "KeyInfo",
    "KeyNotUsable",
    "KeyRole",
    "KeyStatus",
    "KeyStore",
    "KeyStoreCorrupt",
    "KeyStoreInsecure",
    "KeyStoreLocked",
    "NoActiveKey",
    "Signer",
    "UnknownKey",
    "Verdict",
    "b64url_decode",
    "b64url_encode",
    "canonical_json",
    "key_id",
    "verify_raw",
]
