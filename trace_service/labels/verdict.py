"""The one verdict a label page shows, composed by ``ocop_verify.verdict`` (the offline
verifier's own composition) from what the service knows of the stamp today.

The facts are named as the offline snapshot names them, so a stamp judged here and on an
inspector's laptop gets the same colour and the same words.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from ocop_verify.verdict import ADVICE, HEADLINES, since, sum_up
from trace_service.clock import today_vn
from trace_service.labels.page_check import PageCheck


@dataclass(frozen=True)
class PageVerdict:
    colour: str  # green | amber | red
    headline: str  # a key of ocop_verify.verdict.HEADLINES
    since: date | None  # since when it holds (for "expiring": the last valid day)

    @property
    def title(self) -> tuple[str, str]:
        return HEADLINES[self.headline]

    @property
    def advice(self) -> tuple[str, str]:
        return ADVICE[self.headline]

    @property
    def icon(self) -> str:
        return {"green": "✓", "amber": "!"}.get(self.colour, "✕")


def facts_of(result: PageCheck, scratch_used_on: date | None = None) -> dict[str, Any]:
    """What the service knows of a label whose signature holds, in the composition's words:
    the run's facts (the same for all its labels) and the stamp's own state."""
    run, state = result.facts, result.state
    if run is None:
        return {}
    certificate = run.certificate
    facts: dict[str, Any] = {
        "label_state": result.label_state,
        "certificate_status": run.certificate_status.value,
        "valid_until": certificate.valid_until,
        "revoked_on": certificate.revoked_on,
        "superseded_on": certificate.superseded_on,
        "issue_date": certificate.issue_date,
        "scratch_used_on": scratch_used_on,
    }
    if state is not None and result.voided and state.voided_at is not None:
        facts["label_since"] = today_vn(state.voided_at)
    elif state is not None and state.flagged_at is not None:
        facts["label_since"] = today_vn(state.flagged_at)
    if run.recalled_since is not None:
        facts["recalled_since"] = run.recalled_since
    return facts


def page_verdict(result: PageCheck, scratch_used_on: date | None = None) -> PageVerdict:
    facts = facts_of(result, scratch_used_on)
    colour, headline = sum_up(result.verdict, facts, None)
    return PageVerdict(colour, headline, since(headline, facts))
