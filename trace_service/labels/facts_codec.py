"""A print run's page facts (``page_facts.RunFacts``) as JSON, to be kept in the database for
every worker (labels/page_cache.py), and back.

JSON, not pickle: what the database holds is read as data, never run as code. Each field is
named here on both ways, so a stored body is read back into exactly the types the page
draws from (dates, decimals, the certificate's status). A body of another ``FORMAT``, or one
that does not read back, is not used: the facts are composed again and the row replaced.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from trace_service.certificates.rules import Status
from trace_service.labels.page_facts import CertificateFacts, RecallFacts, RunFacts, Step
from trace_service.registry.photos import PhotoRef
from trace_service.registry.units import Address

# Changed whenever RunFacts or what it holds changes shape: bodies kept by an older release
# are then composed again rather than misread.
FORMAT = 1

_CERTIFICATE_DATES = ("decision_date", "issue_date", "valid_until", "revoked_on", "superseded_on")


def _plain(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)  # exact: a plot of 1.25 ha stays 1.25
    raise TypeError(f"{type(value).__name__} is not kept in page facts")


def dumps(facts: RunFacts) -> str:
    kept = asdict(facts)
    del kept["drawn"]  # HTML drawn per worker and language from the facts
    return json.dumps({"format": FORMAT, **kept}, default=_plain, ensure_ascii=False)


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text is not None else None


def _step(kept: dict[str, Any]) -> Step:
    hectares = kept["hectares"]
    return Step(
        kept["kind"],
        date.fromisoformat(kept["day"]),
        (kept["name"][0], kept["name"][1]),
        place=kept["place"],
        hectares=Decimal(hectares) if hectares is not None else None,
        map_url=kept["map_url"],
    )


def _facts(kept: dict[str, Any]) -> RunFacts:
    address, certificate, photo = kept["address"], kept["certificate"], kept["photo"]
    return RunFacts(
        product=kept["product"],
        product_en=kept["product_en"],
        producer=kept["producer"],
        address=Address(address["now"], address["was"], _day(address["until"])),
        phone=kept["phone"],
        star=kept["star"],
        lot=kept["lot"],
        certificate=CertificateFacts(
            **certificate | {name: _day(certificate[name]) for name in _CERTIFICATE_DATES}
        ),
        certificate_status=Status(kept["certificate_status"]),
        packed_on=_day(kept["packed_on"]),
        chain=tuple(_step(step) for step in kept["chain"]),
        recalls=tuple(
            RecallFacts(r["reason"], r["decision"], datetime.fromisoformat(r["recalled_at"]))
            for r in kept["recalls"]
        ),
        photo=PhotoRef(**photo) if photo is not None else None,
    )


def loads(body: str) -> RunFacts | None:
    """The facts a body holds; None when it is of another format or does not read back."""
    try:
        kept = json.loads(body)
        if kept.get("format") != FORMAT:
            return None
        return _facts(kept)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError):
        return None
