"""Rules the layers above the registry hold over its records, declared here by them, so the
registry imports none of them.

- **Is this record still referred to?** Certificates, trace and labels keep rows that name a
  producer, a product or a raw-material area. Each registers, when its module is imported,
  the column that refers to the record and what to say while a row does; ``delete_*`` in
  ``registry/services.py`` refuses with the first that matches (409).
- **Checks on a product's change**: a layer may refuse a change to a product (the
  certificates layer: what the OCOP council rated stays as rated under its certificate).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from trace_service.errors import Conflict
from trace_service.principal import Principal


@dataclass(frozen=True)
class Reference:
    """Rows whose ``column`` holds a record's id keep that record from being deleted."""

    column: Any  # e.g. Lot.product_id
    message: str
    message_en: str


_references: dict[type[Any], list[Reference]] = {}


def refuse_delete_while_referred(
    model: type[Any], column: Any, message: str, message_en: str
) -> None:
    """A record of ``model`` is not deleted while a row's ``column`` holds its id. Registering
    the same column again changes nothing (modules may be imported more than once in tests)."""
    references = _references.setdefault(model, [])
    if not any(ref.column is column for ref in references):
        references.append(Reference(column, message, message_en))


def references_to(model: type[Any]) -> tuple[Reference, ...]:
    return tuple(_references.get(model, ()))


def check_not_referred(session: Session, record: Any) -> None:
    """Raise 409 with the registered words if any row still refers to ``record``."""
    for reference in references_to(type(record)):
        if session.scalar(select(exists().where(reference.column == record.id))):
            raise Conflict(reference.message, reference.message_en)


# (session, actor, product, the changes asked for): raises a DomainError to refuse them.
ProductCheck = Callable[[Session, Principal, Any, Mapping[str, Any]], None]
_product_checks: list[ProductCheck] = []


def check_product_changes(check: ProductCheck) -> ProductCheck:
    """Register ``check`` to run before every change of a product (as a decorator, too)."""
    if check not in _product_checks:
        _product_checks.append(check)
    return check


def run_product_checks(
    session: Session, actor: Principal, product: Any, data: Mapping[str, Any]
) -> None:
    for check in _product_checks:
        check(session, actor, product, data)
