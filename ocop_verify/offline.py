"""The verdict on a scanned text, for a given day, from a trust list and a snapshot alone.

Steps, in this order (``docs/label-format.md``, "Verifying"):

1. ``malformed``: not exactly a label URL as printed;
2. ``unknown_key``: its key id is not a label key of the trust list;
3. ``invalid_signature``: the Ed25519 signature does not cover the signed bytes;
4. ``compromised_key``: the key is marked compromised (anyone may have signed);
5. ``genuine`` otherwise. The online API adds ``not_issued`` (the serial is not in the
   records with these claims); offline, a valid signature by a trusted key is issuance.

Then, for ``genuine`` and ``compromised_key``, what the snapshot says on the day: the label
(``issued``, ``voided``, ``possibly_copied``), the certificate's status, a recall of the lot,
the product and producer; and always the data's freshness. ``colour`` sums it up as the
pages show it (PAGES.md): red for anything not to trust, amber for a doubt, green otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from ocop_verify.encoding import ed25519_ok
from ocop_verify.label import Claims, Malformed, parse
from ocop_verify.snapshot import Snapshot
from ocop_verify.trustlist import TrustList
from ocop_verify.verdict import COLOURS, HEADLINES, RED_CERTIFICATE, sum_up, worst

VIETNAM = timezone(timedelta(hours=7), "ICT")

__all__ = ["COLOURS", "HEADLINES", "RED_CERTIFICATE", "VIETNAM", "Result", "verify", "worst"]


def vietnam_day(now: datetime) -> date:
    """The calendar day in Vietnam (UTC+7, no daylight saving) at ``now``."""
    return now.astimezone(VIETNAM).date()


@dataclass(frozen=True)
class Result:
    text: str
    verdict: str
    as_of: date
    claims: Claims | None = None
    key_status: str | None = None
    label_state: str | None = None  # issued | voided | possibly_copied (None: not judged)
    label_since: date | None = None
    certificate_status: str | None = None  # …, "unknown" when the snapshot lacks it
    certificate_number: str | None = None
    valid_until: date | None = None
    recalled_since: date | None = None
    recall_decision: str | None = None
    recall_reason: str | None = None
    product_name: str | None = None
    producer_name: str | None = None
    data_at: datetime | None = None
    stale: str | None = None  # None | no_snapshot | old | clock_before_data | trust_list_expired
    colour: str = "red"
    headline: str = "not_confirmed"

    def to_json(self) -> dict[str, Any]:
        def iso(value: date | datetime | None) -> str | None:
            return value.isoformat() if value is not None else None

        vi, en = HEADLINES[self.headline]
        return {
            "verdict": self.verdict,
            "colour": self.colour,
            "headline": self.headline,
            "message": vi,
            "message_en": en,
            "as_of": self.as_of.isoformat(),
            "claims": self.claims.to_json() if self.claims else None,
            "key_status": self.key_status,
            "label_state": self.label_state,
            "label_since": iso(self.label_since),
            "certificate_status": self.certificate_status,
            "certificate_number": self.certificate_number,
            "valid_until": iso(self.valid_until),
            "recalled": self.recalled_since is not None,
            "recalled_since": iso(self.recalled_since),
            "recall_decision": self.recall_decision,
            "recall_reason": self.recall_reason,
            "product_name": self.product_name,
            "producer_name": self.producer_name,
            "data_at": iso(self.data_at),
            "stale": self.stale,
        }


def freshness(trust_list: TrustList, snapshot: Snapshot | None, now: datetime) -> str | None:
    """Why the data may be out of date at ``now`` (the device's clock), or None."""
    if snapshot is None:
        return "no_snapshot"
    if now < snapshot.issued_at:
        return "clock_before_data"
    if now - snapshot.issued_at > timedelta(days=snapshot.stale_after_days):
        return "old"
    if trust_list.expired(now):
        return "trust_list_expired"
    return None


def _signature_verdict(claims: Claims, signature: bytes, trust_list: TrustList) -> str:
    key = trust_list.label_keys.get(claims.kid)
    if key is None:
        return "unknown_key"
    if not ed25519_ok(key.public_key, claims.message(), signature):
        return "invalid_signature"
    return "compromised_key" if key.status == "compromised" else "genuine"


def _facts(claims: Claims, snapshot: Snapshot | None, day: date) -> dict[str, Any]:
    """What the snapshot says about a label whose signature holds."""
    if snapshot is None:
        return {
            "certificate_status": "expired" if day > claims.valid_until else "unknown",
            "valid_until": claims.valid_until,
        }
    facts: dict[str, Any] = {"label_state": "issued", "valid_until": claims.valid_until}
    voided, flagged = snapshot.voided.get(claims.serial), snapshot.flagged.get(claims.serial)
    if voided is not None and voided <= day:
        facts.update(label_state="voided", label_since=voided)
    elif flagged is not None and flagged <= day:
        facts.update(label_state="possibly_copied", label_since=flagged)
    certificate = snapshot.certificates.get(claims.certificate_id)
    if certificate is None:
        # Newer than the snapshot: the label's own valid-until still tells expiry.
        facts["certificate_status"] = "expired" if day > claims.valid_until else "unknown"
    else:
        facts.update(
            certificate_status=snapshot.status_of(certificate, day),
            certificate_number=certificate.number,
            product_name=certificate.product_name,
            producer_name=snapshot.producers.get(certificate.producer_id),
        )
    recall = snapshot.recalls.get(f"{claims.product}/{claims.lot}")
    if recall is not None and recall.since <= day:
        facts.update(
            recalled_since=recall.since,
            recall_decision=recall.decision,
            recall_reason=recall.reason,
        )
    return facts


# The composition is shared with the label page (``verdict``), so the two never disagree.
_sum_up = sum_up


def verify(
    text: str,
    trust_list: TrustList,
    snapshot: Snapshot | None,
    *,
    now: datetime,
    as_of: date | None = None,
) -> Result:
    """The verdict on ``text`` (as scanned) on day ``as_of`` (default: Vietnam's day at
    ``now``), with freshness judged at ``now`` (the device's clock). Never raises for what a
    scan can contain."""
    day = as_of or vietnam_day(now)
    stale = freshness(trust_list, snapshot, now)
    data_at = snapshot.issued_at if snapshot else None
    shown = text if isinstance(text, str) else repr(text)
    try:
        claims, signature = parse(text)
    except Malformed:
        return Result(shown, "malformed", day, data_at=data_at, stale=stale)
    verdict = _signature_verdict(claims, signature, trust_list)
    key = trust_list.label_keys.get(claims.kid)
    facts = _facts(claims, snapshot, day) if verdict in ("genuine", "compromised_key") else {}
    colour, headline = _sum_up(verdict, facts, stale)
    return Result(
        shown,
        verdict,
        day,
        claims,
        key.status if key else None,
        data_at=data_at,
        stale=stale,
        colour=colour,
        headline=headline,
        **facts,
    )
