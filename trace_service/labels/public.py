"""The page a consumer's phone opens when it scans a stamp: is it genuine, is the product
still certified, has anything in it been recalled, and where does it come from.

It answers at the label's own URL (the GS1 Digital Link path), with no login and no script.
Browsers lower-case the scheme and host but keep the path and query, so the URL is rebuilt
from the run's printed base and checked exactly as an offline verifier would.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, render_template, request

from trace_service.certificates.rules import STATUS_TEXT
from trace_service.clock import today_vn, vn_date
from trace_service.db import get_session
from trace_service.labels import payload, serials
from trace_service.labels.jobs import label_base_url
from trace_service.labels.models import Label
from trace_service.labels.verify import Verification, find_label, verify_url
from trace_service.signing.service import get_keystore
from trace_service.trace.services import areas_behind

page = Blueprint("label_page", __name__, template_folder="templates")


def _scanned_url(label: Label | None) -> str:
    """The URL as printed: the run's own base (the host may have changed since), else the
    configured one."""
    if label is not None:
        base = label.run.base_url
    else:
        try:
            base = payload.canonical_base(label_base_url())
        except ValueError:
            base = "HTTPS://INVALID"
    # Only the signed data counts: links shared on social networks gain parameters
    # (fbclid, utm_…) that must not make a genuine label look fake.
    signed = request.args.get("S")
    return f"{base}{request.path}" + (f"?S={signed}" if signed is not None else "")


def _facts(result: Verification) -> dict[str, Any]:
    run = result.run
    if run is None:
        return {}
    certificate = run.certificate
    status = result.certificate_status
    return {
        "product": certificate.product_name,
        "producer": run.producer.name,
        "star": run.star,
        "lot": run.lot_code,
        "certificate": certificate.number,
        "valid_until": vn_date(run.valid_until),
        "status": status.value if status else None,
        "status_text": STATUS_TEXT[status] if status else None,
        "areas": [area.name for area in areas_behind(get_session(), run.lot)],
        "code": serials.grouped(result.label.serial) if result.label else "",
        "recalls": [
            # The day in Vietnam: a recall at 00:00 +07:00 is stored as 17:00 UTC the day before.
            {"reason": r.reason, "decision": r.decision, "at": vn_date(today_vn(r.recalled_at))}
            for r in result.recalls
        ],
    }


def _answer(serial: str) -> tuple[str, int, dict[str, str]]:
    session = get_session()
    label = find_label(session, serial) if serials.is_serial(serial) else None
    result = verify_url(
        session,
        get_keystore(),
        _scanned_url(label),
        today_vn(),
        current_app.config["EXPIRY_WINDOW_DAYS"],
        known=label,
    )
    status = 200 if result.run is not None else 404
    html = render_template("labels/page.html", result=result, facts=_facts(result))
    # What the page says can change any day (a recall, an expiry): never serve it stale.
    return html, status, {"Cache-Control": "no-cache"}


@page.get("/01/<gtin>/10/<lot>/21/<serial>")
def gs1_label(gtin: str, lot: str, serial: str) -> tuple[str, int, dict[str, str]]:
    return _answer(serial)


@page.get("/P/<product>/10/<lot>/21/<serial>")
def product_label(product: str, lot: str, serial: str) -> tuple[str, int, dict[str, str]]:
    return _answer(serial)
