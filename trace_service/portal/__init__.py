"""Server-rendered pages for producers and the province OCOP office (Vietnamese first).

Pages call the same service functions as the API, with the same scoping; they hold no rule
of their own. Each area is a blueprint: ``account`` (sign-in, sign-out, password),
``producer`` (``/chu-the/…``) and ``office`` (``/van-phong/…``).
"""

from __future__ import annotations

from flask import Flask, g, request

from trace_service.auth.web_session import session_principal
from trace_service.certificates.notices import current_authority
from trace_service.clock import today_vn, vn_date
from trace_service.errors import ERROR_PAGE
from trace_service.labels.render.stocks import get_stock
from trace_service.portal.access import home_url
from trace_service.portal.forms import error_items, note_label, render_input
from trace_service.principal import current_principal
from trace_service.registry.models import AdministrativeUnit
from trace_service.registry.units import place_on
from trace_service.web.formatting import vn_amount


def init_portal(app: Flask) -> None:
    from trace_service.portal.account import account
    from trace_service.portal.office import office
    from trace_service.portal.producer import producer

    for blueprint in (account, producer, office):
        app.register_blueprint(blueprint)
    app.jinja_env.globals["current_principal"] = current_principal
    app.jinja_env.globals["render_input"] = render_input
    app.jinja_env.globals["note_label"] = note_label
    app.jinja_env.globals["error_items"] = error_items
    app.jinja_env.globals["portal_home_url"] = home_url
    app.jinja_env.globals["stock_named"] = get_stock
    app.jinja_env.filters["vn_amount"] = vn_amount
    app.jinja_env.globals["place_today"] = place_today
    app.jinja_env.globals["authority_today"] = lambda cert: current_authority(cert, today_vn())
    app.extensions[ERROR_PAGE] = error_page


# Where a signed-in person's error page keeps the portal's layout (navigation, "Đăng xuất").
SIGNED_IN_AREAS = ("/chu-the/", "/van-phong/", "/tai-khoan/", "/kiem-tra-vien/")


def error_page() -> str | None:
    """The portal's error page for a signed-in account inside the portal, else None (the
    public page: a label's link, the API's browser pages)."""
    if not request.path.startswith(SIGNED_IN_AREAS):
        return None
    if current_principal().is_anonymous and request.endpoint is None:
        # No page matched, so the session was not read (``web_session._load``): read it
        # here, for paths of the portal only, so a mistyped address keeps the layout.
        g.principal = session_principal() or current_principal()
    return None if current_principal().is_anonymous else "portal/error.html"


def place_today(unit: AdministrativeUnit | None) -> dict[str, str] | None:
    """A producer's or area's unit as it is today ("now"), and as it was recorded when that
    unit has since been merged away ("recorded", with its old district and province), so a
    page never shows an abolished district as where someone is now."""
    if unit is None:
        return None
    today = today_vn()
    now = place_on(unit, today)
    if unit.is_valid_on(today):
        return {"now": now}
    last = unit.valid_to or today
    return {"now": now, "recorded": place_on(unit, last), "until": vn_date(last)}
