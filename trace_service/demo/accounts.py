"""The demo accounts of ``accounts.csv``. Their passwords are drawn when they are made and
never stored anywhere but as the accounts' hashes (the command line shows and saves them)."""

from __future__ import annotations

import secrets
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from trace_service.audit.models import AuditEvent
from trace_service.audit.tags import Tag
from trace_service.auth.models import User
from trace_service.auth.services import create_user, update_user
from trace_service.demo.files import read_csv
from trace_service.principal import Principal, Role
from trace_service.registry.models import Producer

Progress = Callable[[str, int, int], None]
Credentials = list[tuple[str, str, str]]  # (username, role, password)


def _password() -> str:
    return secrets.token_urlsafe(12)


def make_accounts(
    session: Session,
    actor: Principal,
    producers: dict[str, Producer],
    progress: Progress | None,
) -> Credentials:
    """Create the accounts that do not exist yet; return them with their new passwords."""
    rows = read_csv("accounts.csv")
    made: Credentials = []
    for done, row in enumerate(rows, start=1):
        taken = session.scalar(select(User.id).where(User.username == row["username"]))
        if taken is None:
            producer = producers[row["producer"]] if row["producer"] else None
            password = _password()
            create_user(
                session,
                actor,
                {
                    "username": row["username"],
                    "role": Role(row["role"]),
                    "producer_id": producer.id if producer else None,
                    "display_name": row["display_name"],
                    "password": password,
                },
            )
            made.append((row["username"], row["role"], password))
        if progress:
            progress("users", done, len(rows))
    return made


def reset_demo_passwords(session: Session, actor: Principal) -> Credentials:
    """New passwords for the demo accounts that still exist (those the demo load recorded
    in the audit log), for an installation whose saved credentials were lost."""
    loaded = session.scalar(
        select(AuditEvent.details)
        .where(AuditEvent.tag == Tag.DEMO_LOADED.value)
        .order_by(AuditEvent.id)
        .limit(1)
    )
    names = list((loaded or {}).get("users", []))
    users = session.scalars(select(User).where(User.username.in_(names)).order_by(User.id))
    reset: Credentials = []
    for user in users:
        password = _password()
        update_user(session, actor, user, {"password": password})
        reset.append((user.username, user.role, password))
    return reset
