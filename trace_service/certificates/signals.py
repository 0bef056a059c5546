"""What the certificates layer announces to the layers above it, which it never imports.

``certificate_changed`` is sent once per certificate whose standing a decision has changed:
a new certificate (through the API or an import), the older one it supersedes, a revocation.
(Expiry is not a decision: it follows from the dates, day by day, ``standing.status_of``.)
It is sent after the service has flushed and audited the change, within the same unit of
work, so a receiver reads the change as written and its own writes commit or roll back with
it. A receiver must not commit; an exception it raises fails the request or command (and so
rolls the change back). Blinker calls receivers in-process, the same on SQLite and PostgreSQL.

Arguments:

- sender: the ``sqlalchemy.orm.Session`` the change was flushed in;
- ``change``: a ``CertificateChange`` (``issued``, ``superseded``, ``revoked``);
- ``certificate``: the ``Certificate`` changed, with its id, ``product_id`` and the dates
  of the change (``issue_date``; ``superseded_on`` and ``superseded_by_id``;
  ``revoked_on``).

Connect with ``certificate_changed.connect(receiver)``; a receiver takes
``(session, *, change, certificate)``.
"""

from __future__ import annotations

from enum import StrEnum

from blinker import Namespace
from sqlalchemy.orm import Session

from trace_service.certificates.models import Certificate

signals = Namespace()

certificate_changed = signals.signal(
    "certificate-changed",
    doc="A certificate was issued, superseded or revoked (see certificates/signals.py).",
)


class CertificateChange(StrEnum):
    ISSUED = "issued"
    SUPERSEDED = "superseded"
    REVOKED = "revoked"


def announce(session: Session, change: CertificateChange, certificate: Certificate) -> None:
    """Send ``certificate_changed``; call it after the change is flushed and audited."""
    certificate_changed.send(session, change=change, certificate=certificate)
