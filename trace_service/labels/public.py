"""The page a consumer's phone opens when it scans a stamp: one verdict (can I trust it,
since when, what to do), then the product, its producer, certificate and origin.

It answers at the label's own URL (the GS1 Digital Link path), with no login and no script.
Browsers lower-case the scheme and host but keep the path and query, so the URL is rebuilt
from the run's printed base and checked exactly as an offline verifier would.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, render_template, request
from markupsafe import Markup
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from trace_service.clock import today_vn
from trace_service.db import (
    begin_write,
    get_session,
    read_on_replica,
    reads_before_write,
    statements_stand_alone,
    utcnow,
    writes_late,
)
from trace_service.errors import Forbidden
from trace_service.labels import offline_verdict, payload, scans, scratch, serials
from trace_service.labels.jobs import label_base_url
from trace_service.labels.page_cache import StoredFacts, run_cache, store_facts
from trace_service.labels.page_check import (
    PageCheck,
    PageLabel,
    RunClaims,
    check_page,
    read_label,
)
from trace_service.labels.page_facts import page_facts
from trace_service.labels.verdict import page_verdict
from trace_service.ratelimit import (
    Rate,
    TooManyRequests,
    check_client_limit,
    client_address,
    client_key,
    rate_limits,
    wait_words,
)
from trace_service.signing.service import get_keystore
from trace_service.web import i18n
from trace_service.web.security import csrf_exempt

page = Blueprint("label_page", __name__, template_folder="templates")
Answer = tuple[str, int, dict[str, str]]


def _scanned_url(run: RunClaims | None) -> str:
    """The URL as printed: the run's own base (the host may have changed since), else the
    configured one; the query as sent, whose unsigned parameters the check drops."""
    if run is not None:
        base = run.base_url
    else:
        try:
            base = payload.canonical_base(label_base_url())
        except ValueError:
            base = "HTTPS://INVALID"
    return f"{base}{request.path}{offline_verdict.as_sent_query()}"


def _verify(session: Session, serial: str) -> PageCheck:
    """One query for the label (with its run, state and the page version), one signature,
    and the run's facts from this worker's cache. ``session`` may be the read replica's."""
    found = None
    if serials.is_serial(serial):
        with reads_before_write(session) as connection:
            found = read_label(connection, serial)
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    return check_page(
        session,
        get_keystore(),
        _scanned_url(found.label.run if found else None),
        today_vn(),
        app.config["EXPIRY_WINDOW_DAYS"],
        run_cache(app),
        found=found,
    )


def _scratch_form(result: PageCheck) -> dict[str, str] | None:
    """The scratch form, on the page of a stamp of ours that has a code and is not void."""
    label, claims = result.label, result.claims
    if label is None or claims is None or label.scratch_hash is None:
        return None
    if result.verdict != "genuine" or result.voided:
        return None
    # The signature as verified, not as Flask decodes the query: with "%53=1&S=<signed>"
    # the page reads the literal S (payload.signed_only) and request.args the other.
    signed = urlsplit(payload.label_url(claims, label.signature)).query
    return {"action": f"{request.path}?{signed}"}


def run_card(result: PageCheck, facts: dict[str, Any]) -> Markup:
    """The run's card (producer, certificate, lot, chain): the same on every label of the
    run, so drawn once per language with the run's cached facts."""
    if result.facts is None:
        return Markup("")
    drawn = result.facts.drawn
    language = i18n.current()
    if language not in drawn:
        drawn[language] = render_template("labels/_run.html", facts=facts)
    return Markup(drawn[language])  # noqa: S704 - our own template's output, escaped there


def render(result: PageCheck, answer: scratch.ScratchAnswer | None = None) -> Answer:
    """The page for a verification, with what the scratch form answered, if it was sent."""
    used_on = answer.first_on if answer and answer.answer == "reused" else None
    verdict = page_verdict(result, today_vn(used_on) if used_on else None)
    facts = page_facts(result.facts, result.label)
    html = render_template(
        "labels/page.html",
        result=result,
        verdict=verdict,
        facts=facts,
        run_card=run_card(result, facts),
        scratch=answer,
        # Once a right code was answered there is nothing more to try on this page.
        scratch_form=(
            None
            if answer and answer.answer not in ("wrong", "malformed", "limited")
            else _scratch_form(result)
        ),
        checked_at=utcnow(),
    )
    status = 200 if result.run is not None else 404
    # What the page says can change any day (a recall, an expiry): never serve it stale.
    return html, status, {"Cache-Control": "no-cache"}


def _seen() -> scans.Seen:
    """This view, as little as the scan log keeps of it."""
    now = utcnow()
    secret = str(current_app.secret_key or "")
    return scans.Seen(
        scans.client_hash(secret, client_key(client_address()), now),
        scans.device_class(request.headers.get("User-Agent", "")),
        scans.source_of(request.args.get("src"), request.referrer, request.host),
        counted=_a_person_looking(request.headers),
    )


def _a_person_looking(headers: Any) -> bool:
    """Whether this view is someone checking a stamp, as a browser tells it: a document
    loaded (not an image or frame), not a prefetch, and not a navigation another site made
    without its visitor's click (a camera app or a typed address says ``none``). Otherwise any
    website could make its visitors' browsers flag a genuine stamp as copied. Headers absent
    (older browsers, apps): a visit."""
    if headers.get("Sec-Fetch-Dest", "document") != "document":
        return False
    purpose = f"{headers.get('Sec-Purpose', '')} {headers.get('Purpose', '')}".lower()
    if "prefetch" in purpose or "prerender" in purpose:
        return False
    cross_site = headers.get("Sec-Fetch-Site") == "cross-site"
    return not cross_site or headers.get("Sec-Fetch-User") == "?1"


# A shopper opens a stamp's page a few times; a script opening it hundreds of times a minute
# costs every other shopper's wait (each view takes SQLite's write lock to be counted).
PAGE_RATE = Rate(120, 60)


def _count_and_keep(label: PageLabel, to_store: StoredFacts | None) -> None:
    """Count a view of ours (a reload too) and flag a copy: a HEAD request shows no one.
    Keep the run's facts if this view composed them, for every other worker (a HEAD too:
    link previews and monitors ask HEAD, and this worker's cache would then hold facts that
    no other worker gets)."""
    counted = request.method == "GET"
    if not counted and to_store is None:
        return
    session = get_session()  # ...written on the primary, always
    if counted:
        rule = scans.CopyRule.from_config(current_app.config)
        scans.record_view(session, label, _seen(), rule, utcnow())
    if to_store is not None:
        if not counted:
            begin_write(session)  # SQLite: take the write lock first, as a view does
        store_facts(session, label.run.id, to_store)
    # Committed before the page is drawn: the write's locks are held for its statements
    # only (SQLite's is the whole database's).
    session.commit()


def _answer(serial: str) -> Answer:
    check_client_limit("label_page", PAGE_RATE)
    try:
        # Read on the replica if there is one (a view may be as stale as its lag)...
        result = read_on_replica(lambda session: _verify(session, serial))
        if result.label is not None:
            _count_and_keep(result.label, result.to_store)
        return render(result)
    except DBAPIError as error:  # the database cannot answer: what the URL alone proves
        return offline_verdict.page_without_database(error)


def same_origin_only() -> None:
    """A browser names the page a form was posted from (``Origin``); refuse another site's
    (a public form has no session to protect, but no other site should post it)."""
    origin = request.headers.get("Origin")
    if origin and (origin == "null" or urlsplit(origin).netloc != request.host):
        raise Forbidden(
            "Biểu mẫu phải được gửi từ trang của tem.",
            "The form must be sent from the stamp's own page.",
        )


def _check_scratch(serial: str) -> Answer:
    same_origin_only()
    typed = request.form.get("code", "")  # the body first: no transaction waits on a sender
    result = read_on_replica(lambda session: _verify(session, serial))
    if result.label is None or _scratch_form(result) is None:
        return render(result)
    session = get_session()  # the primary: the code's first check is a write
    begin_write(session)
    try:
        answer = scratch.check_scratch(
            session, result.label, typed, client_key(client_address()), rate_limits(), utcnow()
        )
    except TooManyRequests as limited:
        # The stamp's own page with the wait above its verdict: a bare error page left the
        # buyer without the stamp or a way back to it (review user16b).
        wait = scratch.ScratchAnswer("limited", wait=wait_words(limited.retry_after))
        html, _, headers = render(result, wait)
        return html, 429, {**headers, "Retry-After": str(limited.retry_after)}
    return render(result, answer)


@page.get("/01/<gtin>/10/<lot>/21/<serial>")
@statements_stand_alone  # the view's count and log: one statement on PostgreSQL
def gs1_label(gtin: str, lot: str, serial: str) -> Answer:
    return _answer(serial)


@page.get("/P/<product>/10/<lot>/21/<serial>")
@statements_stand_alone
def product_label(product: str, lot: str, serial: str) -> Answer:
    return _answer(serial)


SCRATCH_EXEMPT = (
    "The scratch form of a public page: no signed-in state is read or changed, the code "
    "itself is the secret, tries are rate-limited, and another site's Origin is refused."
)


@page.post("/01/<gtin>/10/<lot>/21/<serial>")
@csrf_exempt(SCRATCH_EXEMPT)
@writes_late  # a read (the check), then the code's write
def gs1_label_scratch(gtin: str, lot: str, serial: str) -> Answer:
    return _check_scratch(serial)


@page.post("/P/<product>/10/<lot>/21/<serial>")
@csrf_exempt(SCRATCH_EXEMPT)
@writes_late
def product_label_scratch(product: str, lot: str, serial: str) -> Answer:
    return _check_scratch(serial)
