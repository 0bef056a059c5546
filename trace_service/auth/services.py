"""Users and personal API tokens: creating, authenticating, revoking."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trace_service.audit.services import changes, record_event
from trace_service.audit.tags import Tag
from trace_service.auth.models import ApiToken, User
from trace_service.auth.passwords import MIN_PASSWORD_LENGTH, check_password, hash_password
from trace_service.auth.principal import Principal, Role
from trace_service.db import utcnow
from trace_service.errors import Conflict, NotAuthenticated, NotFound, field_error
from trace_service.registry.models import Producer

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


def _check_binding(session: Session, role: Role, producer_id: int | None) -> None:
    if role is Role.PRODUCER:
        if producer_id is None:
            raise field_error(
                "producer_id",
                "A producer account must name its producer.",
                "Tài khoản chủ thể phải gắn với một chủ thể.",
            )
        if session.get(Producer, producer_id) is None:
            raise field_error(
                "producer_id", "No producer has this id.", "Không có chủ thể với mã này."
            )
    elif producer_id is not None:
        raise field_error(
            "producer_id",
            "Only producer accounts are bound to a producer.",
            "Chỉ tài khoản chủ thể mới gắn với chủ thể.",
        )


def _check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise field_error(
            "password",
            f"Use at least {MIN_PASSWORD_LENGTH} characters.",
            f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự.",
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
        # A new password is often a reset after a leak: tokens made with the old one go too.
        now = utcnow()
        revoked = [t for t in user.tokens if t.revoked_at is None]
        for token in revoked:
            token.revoked_at = now
        details["tokens_revoked"] = [t.prefix for t in revoked]
    session.flush()
    record_event(session, actor, Tag.USER_UPDATED, "user", user.id, details)
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
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
) -> IssuedToken:
    """A new token; ``not_after`` caps its life (a token made with another token lives no
    longer than that one, so a stolen token cannot renew itself for ever)."""
    now = now or utcnow()
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
        },
    )
    return IssuedToken(record=record, token=token)


def list_tokens(session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.scalars(select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id))
    )


def revoke_token(session: Session, actor: Principal, token_id: int) -> ApiToken:
    record = session.get(ApiToken, token_id)
    # Another user's token is reported missing, not forbidden: its existence is not yours to know.
    if record is None or (record.user_id != actor.user_id and not actor.is_admin):
        raise NotFound("Không tìm thấy mã truy cập.", "No token has this id.")
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        session.flush()
        record_event(
            session,
            actor,
            Tag.TOKEN_REVOKED,
            "api_token",
            record.id,
            {"user_id": record.user_id, "prefix": record.prefix},
        )
    return record


def authenticate_token(session: Session, token: str, now: datetime | None = None) -> ApiToken:
    now = now or utcnow()
    record = session.scalar(select(ApiToken).where(ApiToken.token_hash == _hash_token(token)))
    if record is None or record.revoked_at is not None:
        raise NotAuthenticated(
            "Mã truy cập không hợp lệ hoặc đã bị thu hồi.", "The token is invalid or revoked."
        )
    if record.expires_at is not None and record.expires_at <= now:
        raise NotAuthenticated("Mã truy cập đã hết hạn.", "The token has expired.")
    user = record.user
    if not user.is_active:
        raise NotAuthenticated("Tài khoản đã bị khóa.", "This account is disabled.")
    if record.last_used_at is None or now - record.last_used_at > _LAST_USED_GRANULARITY:
        record.last_used_at = now
    return record


def authenticate_password(session: Session, username: str, password: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    ok = check_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.is_active:
        raise NotAuthenticated("Sai tên đăng nhập hoặc mật khẩu.", "Wrong username or password.")
    return user
