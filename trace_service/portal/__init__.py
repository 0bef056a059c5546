"""Server-rendered pages for producers and the province OCOP office (Vietnamese first).

Pages call the same service functions as the API, with the same scoping; they hold no rule
of their own. Each area is a blueprint: ``account`` (sign-in, sign-out, password),
``producer`` (``/chu-the/…``) and ``office`` (``/van-phong/…``).
"""

from __future__ import annotations

from decimal import Decimal

from flask import Flask

from trace_service.portal.access import home_url
from trace_service.portal.forms import render_input
from trace_service.principal import current_principal
from trace_service.web.formatting import vn_number


def init_portal(app: Flask) -> None:
    from trace_service.portal.account import account
    from trace_service.portal.office import office
    from trace_service.portal.producer import producer

    for blueprint in (account, producer, office):
        app.register_blueprint(blueprint)
    app.jinja_env.globals["current_principal"] = current_principal
    app.jinja_env.globals["render_input"] = render_input
    app.jinja_env.globals["portal_home_url"] = home_url
    app.jinja_env.filters["vn_amount"] = vn_amount


def vn_amount(value: Decimal | float | int) -> str:
    """An amount as written here, without trailing zeros: 1.250, 12,5, 0,25."""
    text = vn_number(value, 3)
    return text.rstrip("0").rstrip(",") if "," in text else text
