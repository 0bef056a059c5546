"""Users and personal API tokens: creating, authenticating, revoking."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, exists, select, update
from sqlalchemy.orm import Session, joinedload

from trace_service.audit.services import changes, record_event
from trace_service.audit.tags import Tag
from trace_service.auth.models import ApiToken, User
from trace_service.auth.passwords import MIN_PASSWORD_LENGTH, hash_password
from trace_service.db import utcnow
from trace_service.errors import Conflict, NotAuthenticated, NotFound, field_error
from trace_service.principal import Principal, Role

TOKEN_PREFIX = "ocop_"
# last_used_at is a hint for people, not an exact log; writing it on every request would
# turn every read into a write.
_LAST_USED_GRANULARITY = timedelta(minutes=10)


def principal_of(user: User) -> Principal:
    return Principal(
        user_id=user.id, name=user.username, role=user.role, producer_id=user.producer_id
    )


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _producer_exists(session: Session, producer_id: int) -> bool:
    """Whether the producer an account would be bound to exists. Producers are the
    registry's, a layer above; the account's own foreign key names their table."""
    (key,) = User.__table__.c.producer_id.foreign_keys
    return bool(session.scalar(select(exists().where(key.column == producer_id))))


def _check_binding(session: Session, role: Role, producer_id: int | None) -> None:
    if role is Role.PRODUCER:
        if producer_id is None:
            raise field_error(
                "producer_id",
                vi="Tài khoản chủ thể phải gắn với một chủ thể.",
                en="A producer account must name its producer.",
            )
        if not _producer_exists(session, producer_id):
            raise field_error(
                "producer_id", vi="Không có chủ thể với mã này.", en="No producer has this id."
            )
    elif producer_id is not None:
        raise field_error(
            "producer_id",
            vi="Chỉ tài khoản chủ thể mới gắn với chủ thể.",
            en="Only producer accounts are bound to a producer.",
        )


def _check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise field_error(
            "password",
            vi=f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự.",
            en=f"Use at least {MIN_PASSWORD_LENGTH} characters.",
        )


def create_user(session: Session, actor: Principal, data: dict[str, Any]) -> User:
    role = Role(data["role"])
    producer_id = data.get("producer_id")
    _check_binding(session, role, producer_id)
    if session.scalar(select(User.id).where(User.username == data["username"])) is not None:
        raise Conflict(
            "Tên đăng nhập đã có người dùng.",
            "This username is taken.",
            errors={"json": {"username": ["This username is taken."]}},
        )
    password = data.get("password")
    if password is not None:
        _check_password_strength(password)
    user = User(
        username=data["username"],
        display_name=data.get("display_name") or data["username"],
        email=data.get("email"),
        role=role,
        producer_id=producer_id,
        password_hash=hash_password(password) if password else None,
        is_active=data.get("is_active", True),
    )
    session.add(user)
    session.flush()
    record_event(
        session,
        actor,
        Tag.USER_CREATED,
        "user",
        user.id,
        {"username": user.username, "role": role, "producer_id": producer_id},
    )
    return user


def update_user(session: Session, actor: Principal, user: User, data: dict[str, Any]) -> User:
    before = {
        k: getattr(user, k) for k in ("display_name", "email", "role", "producer_id", "is_active")
    }
    role = Role(data.get("role", user.role))
    producer_id = data.get("producer_id", user.producer_id)
    if role is not Role.PRODUCER and "producer_id" not in data:
        producer_id = None  # changing a producer account to another role unbinds it
    _check_binding(session, role, producer_id)
    for key in ("display_name", "email", "is_active"):
        if key in data:
            setattr(user, key, data[key])
    user.role, user.producer_id = role, producer_id
    details = changes(before, {k: getattr(user, k) for k in before})
    if "password" in data:
        _check_password_strength(data["password"])
        user.password_hash = hash_password(data["password"])
        details["password"] = "changed"
    session.flush()  # on PostgreSQL this locks the user's row until the commit
    record_event(session, actor, Tag.USER_UPDATED, "user", user.id, details)
    if "password" in data:
        # A new password is often a reset after a leak: tokens made with the old one go too.
        revoke_user_tokens(session, actor, user, "password_changed")
    elif "is_active" in details:
        # Disabling ends every token for good; re-enabling revokes any that survived from
        # before this rule, so the account starts again with new tokens only.
        revoke_user_tokens(
            session, actor, user, "user_disabled" if not user.is_active else "user_enabled"
        )
    return user


def change_own_password(session: Session, actor: Principal, new_password: str) -> User:
    """The signed-in account's new password (its current one checked by the caller, through
    the sign-in throttle). Like any password change, it ends the account's API tokens and
    every page session signed in with the old password."""
    user = session.get(User, actor.user_id) if actor.user_id is not None else None
    if user is None:
        raise NotFound("Không tìm thấy người dùng.", "No such user.")
    return update_user(session, actor, user, {"password": new_password})


def user_query(args: dict[str, Any]) -> Select[User]:
    """Accounts in the order they were made, narrowed by role or producer."""
    stmt = select(User).order_by(User.id)
    if "role" in args:
        stmt = stmt.where(User.role == args["role"])
    if "producer_id" in args:
        stmt = stmt.where(User.producer_id == args["producer_id"])
    return stmt


def get_user(session: Session, user_id: int | None) -> User:
    user = session.get(User, user_id) if user_id is not None else None
    if user is None:
        raise NotFound("Không tìm thấy người dùng.", "No user has this id.")
    return user


@dataclass(frozen=True)
class IssuedToken:
    record: ApiToken
    token: str  # the secret: shown once, never stored


def issue_token(
    session: Session,
    actor: Principal,
    user: User,
    name: str,
    ttl_days: int,
    now: datetime | None = None,
    not_after: datetime | None = None,
    parent: ApiToken | None = None,
) -> IssuedToken:
    """A new token; ``parent`` is the token it is made with, if any: it joins that token's
    family (revoked with it) and lives no longer than it (``not_after`` caps its life too),
    so a stolen token can neither renew itself for ever nor outlive its revocation."""
    now = now or utcnow()
    # Under the user's row lock, as revocations and disabling take it: a token made at the
    # same moment as its parent is revoked or its user disabled is either seen by that
    # revocation or sees it, never neither (PostgreSQL; SQLite runs writers one at a time).
    active = session.scalar(_lock_user(user.id).with_only_columns(User.is_active))
    if not active:
        raise NotAuthenticated("Tài khoản đã bị khóa.", "This account is disabled.")
    if parent is not None:
        parent_revoked = session.scalar(select(ApiToken.revoked_at).where(ApiToken.id == parent.id))
        if parent_revoked is not None or parent.user_id != user.id:
            raise NotAuthenticated(
                "Mã truy cập không hợp lệ hoặc đã bị thu hồi.", "The token is invalid or revoked."
            )
        caps = [t for t in (not_after, parent.expires_at) if t]
        not_after = min(caps) if caps else None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    record = ApiToken(
        user_id=user.id,
        name=name,
        token_hash=_hash_token(token),
        prefix=token[: len(TOKEN_PREFIX) + 6],
        created_at=now,
        expires_at=min(
            (t for t in (now + timedelta(days=ttl_days) if ttl_days else None, not_after) if t),
            default=None,
        ),
        parent_id=parent.id if parent is not None else None,
        family_id=(parent.family_id or parent.id) if parent is not None else None,
    )
    session.add(record)
    session.flush()
    record_event(
        session,
        actor,
        Tag.TOKEN_CREATED,
        "api_token",
        record.id,
        {
            "user_id": user.id,
            "name": name,
            "prefix": record.prefix,
            "expires_at": record.expires_at,
            "parent_id": record.parent_id,
        },
    )
    return IssuedToken(record=record, token=token)


def list_tokens(session: Session, user_id: int | None) -> list[ApiToken]:
    return list(
        session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id))
    )


def _lock_user(user_id: int) -> Select[Any]:
    """The user's row, locked until the commit (PostgreSQL; SQLite ignores FOR UPDATE)."""
    return select(User.id).where(User.id == user_id).with_for_update()


def _family_below(token: ApiToken) -> Select[Any]:
    """Ids of ``token`` and of every token made from it, however deep (one recursive query
    within its family)."""
    family = token.family_id or token.id
    tree = select(ApiToken.id).where(ApiToken.id == token.id).cte("token_tree", recursive=True)
    tree = tree.union_all(
        select(ApiToken.id)
        .join(tree, ApiToken.parent_id == tree.c.id)
        .where(ApiToken.family_id == family)
    )
    return select(tree.c.id)


def _revoke_where(
    session: Session,
    actor: Principal,
    condition: ColumnElement[bool],
    reason: str,
    object_type: str,
    object_id: int,
    user_id: int,
) -> list[dict[str, Any]]:
    """Revoke the live tokens that meet ``condition``, in one statement, and audit which
    and why (nothing is written when none was live)."""
    rows = session.execute(
        update(ApiToken)
        .where(condition, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
        .returning(ApiToken.id, ApiToken.prefix, ApiToken.parent_id)
        .execution_options(synchronize_session="fetch")
    ).all()
    revoked = sorted(
        ({"id": r.id, "prefix": r.prefix, "parent_id": r.parent_id} for r in rows),
        key=lambda t: t["id"],
    )
    if revoked:
        record_event(
            session,
            actor,
            Tag.TOKEN_REVOKED,
            object_type,
            object_id,
            {"user_id": user_id, "reason": reason, "tokens": revoked},
        )
    return revoked


def revoke_token(session: Session, actor: Principal, token_id: int) -> ApiToken:
    """Revoke a token and every token made from it (children, their children, …)."""
    record = session.get(ApiToken, token_id)
    # Another user's token is reported missing, not forbidden: its existence is not yours to know.
    if record is None or (record.user_id != actor.user_id and not actor.is_admin):
        raise NotFound("Không tìm thấy mã truy cập.", "No token has this id.")
    session.execute(_lock_user(record.user_id))  # see issue_token
    _revoke_where(
        session,
        actor,
        ApiToken.id.in_(_family_below(record)),
        "revoked",
        "api_token",
        record.id,
        record.user_id,
    )
    return record


def revoke_user_tokens(session: Session, actor: Principal, user: User, reason: str) -> None:
    """Revoke every live token of ``user`` (disabled, new password), audited with ``reason``."""
    session.execute(_lock_user(user.id))
    _revoke_where(session, actor, ApiToken.user_id == user.id, reason, "user", user.id, user.id)


def _invalid_token() -> NotAuthenticated:
    return NotAuthenticated(
        "Mã truy cập không hợp lệ hoặc đã bị thu hồi.", "The token is invalid or revoked."
    )


def _refuse_unusable(
    revoked_at: datetime | None, expires_at: datetime | None, active: bool, now: datetime
) -> None:
    if revoked_at is not None:
        raise _invalid_token()
    if expires_at is not None and expires_at <= now:
        raise NotAuthenticated("Mã truy cập đã hết hạn.", "The token has expired.")
    if not active:
        raise NotAuthenticated("Tài khoản đã bị khóa.", "This account is disabled.")


def _stale(last_used_at: datetime | None, now: datetime) -> bool:
    return last_used_at is None or now - last_used_at > _LAST_USED_GRANULARITY


def authenticate_token(session: Session, token: str, now: datetime | None = None) -> ApiToken:
    now = now or utcnow()
    record = session.scalar(
        select(ApiToken)
        .where(ApiToken.token_hash == _hash_token(token))
        .options(joinedload(ApiToken.user))
    )
    if record is None:
        raise _invalid_token()
    _refuse_unusable(record.revoked_at, record.expires_at, record.user.is_active, now)
    if _stale(record.last_used_at, now):
        record.last_used_at = now
    return record


# Every API request with a token reads this: plain columns of the token and its account in
# one statement built once (no ORM objects on the hot path).
_BEARER = (
    select(
        ApiToken.id,
        ApiToken.revoked_at,
        ApiToken.expires_at,
        ApiToken.last_used_at,
        User.id.label("user_id"),
        User.username,
        User.role,
        User.producer_id,
        User.is_active,
    )
    .join(User, ApiToken.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("token_hash"))
)


def authenticate_bearer(
    session: Session, token: str, now: datetime | None = None
) -> tuple[Principal, int]:
    """(who the bearer token is, its id), as ``authenticate_token`` checks it."""
    now = now or utcnow()
    hashed = _hash_token(token)
    row = session.connection().execute(_BEARER, {"token_hash": hashed}).one_or_none()
    if row is None:
        raise _invalid_token()
    _refuse_unusable(row.revoked_at, row.expires_at, row.is_active, now)
    if _stale(row.last_used_at, now):
        # Rarely (once in _LAST_USED_GRANULARITY): through the ORM, so the write waits for
        # the request's commit, where a read-only request's failure to write is forgiven.
        record = session.get(ApiToken, row.id)
        if record is not None:
            record.last_used_at = now
    principal = Principal(
        user_id=row.user_id, name=row.username, role=row.role, producer_id=row.producer_id
    )
    return principal, row.id
