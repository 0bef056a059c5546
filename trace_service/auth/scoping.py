"""The one rule of who sees what: a producer sees and changes only what belongs to its own
producer; the office and inspectors see everything (what a role may *do* is the routes'
``require_roles``, not this).

Each model names its owner as a path to the owning producer's id, e.g.
``Certificate.__owner__ = ("product", "producer_id")`` or ``Label.__owner__ = ("run",
"producer_id")``, so this module imports no domain model. The same path gives the check in
Python (``owner_of``) and in SQL (``scoped``), so a record a list shows is exactly a record
``get_owned`` returns.

Another producer's record answers as if it did not exist (the caller's ``NotFound``, or
the field error of a body that names it): its existence is not theirs to learn.

How a new route or page gets its scoping: fetch the record with ``get_owned`` (or check one
already loaded with ``check_owned``) and build every list with ``scoped``; a record a
producer creates or hands over goes through ``may_act_for``. No other code compares an
actor's producer with a record's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select
from sqlalchemy.orm import Session

from trace_service.errors import DomainError
from trace_service.principal import Principal

T = TypeVar("T")


def owner_path(model: type[Any]) -> tuple[str, ...]:
    path: tuple[str, ...] | None = getattr(model, "__owner__", None)
    if not path:
        raise TypeError(f"{model.__name__} declares no __owner__ path; scoping needs one")
    return path


def owner_of(record: Any) -> int | None:
    """The id of the producer ``record`` belongs to, following its model's owner path."""
    value = record
    for name in owner_path(type(record)):
        value = getattr(value, name)
        if value is None:
            return None
    return int(value)


def may_act_for(actor: Principal, producer_id: int | None) -> bool:
    """Whether ``actor`` may see and change what belongs to ``producer_id``: the office and
    inspectors any producer's (their roles limit what they do), a producer only its own."""
    if not actor.is_producer:
        return True
    return actor.owns(producer_id)


def may_see(actor: Principal, record: Any) -> bool:
    return not actor.is_producer or may_act_for(actor, owner_of(record))


def check_owned(actor: Principal, record: T | None, missing: Callable[[], DomainError]) -> T:
    """``record`` if ``actor`` may see it; ``missing()`` raised for none or another's."""
    if record is None or not may_see(actor, record):
        raise missing()
    return record


def get_owned(
    session: Session,
    actor: Principal,
    model: type[T],
    record_id: int,
    missing: Callable[[], DomainError],
    *,
    for_update: bool = False,
) -> T:
    """The record of ``model`` with this id, if ``actor`` may see it; else ``missing()``."""
    record = session.get(model, record_id, with_for_update=for_update or None)
    return check_owned(actor, record, missing)


def owner_clause(model: type[Any], producer_id: int | None) -> ColumnElement[bool]:
    """SQL: rows of ``model`` that belong to ``producer_id`` (through its owner path)."""
    return _clause(model, owner_path(model), producer_id)


def _clause(model: type[Any], path: tuple[str, ...], producer_id: int | None) -> Any:
    attribute = getattr(model, path[0])
    if len(path) == 1:
        return attribute == producer_id
    # A many-to-one hop: EXISTS on the related row, so no join changes the query's rows.
    target = attribute.property.mapper.class_
    return attribute.has(_clause(target, path[1:], producer_id))


def scoped(stmt: Select[Any], actor: Principal, model: type[Any]) -> Select[Any]:
    """``stmt`` narrowed to what ``actor`` may see of ``model``."""
    if not actor.is_producer:
        return stmt
    return stmt.where(owner_clause(model, actor.producer_id))
