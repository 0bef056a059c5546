"""The office's page of inspectors' devices: every phone an inspector signed in on, whose it
is, since when and its last use; revoking one stops its token at once (audited, through the
same service as ``DELETE /api/v1/inspector-devices/{id}``)."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from sqlalchemy import select
from werkzeug.wrappers import Response as WResponse

from trace_service.auth.models import ApiToken, User
from trace_service.db import get_session, utcnow
from trace_service.portal.access import page_roles
from trace_service.portal.office.blueprint import office
from trace_service.principal import Role, current_principal
from trace_service.verify.devices import device_query, revoke_device

MAX_SHOWN = 500


@office.route("/thiet-bi/")
@page_roles(Role.ADMIN)
def devices() -> str:
    session = get_session()
    found = list(session.scalars(device_query(current_principal()).limit(MAX_SHOWN)))
    users = {
        u.id: u
        for u in session.scalars(select(User).where(User.id.in_({d.user_id for d in found})))
    }
    tokens = {
        t.id: t
        for t in session.scalars(
            select(ApiToken).where(ApiToken.id.in_({d.token_id for d in found}))
        )
    }
    return render_template("portal/office/devices.html", devices=found, users=users, tokens=tokens)


@office.route("/thiet-bi/<id:device_id>/thu-hoi", methods=["POST"])
@page_roles(Role.ADMIN)
def revoke(device_id: int) -> WResponse:
    revoke_device(get_session(), current_principal(), device_id, utcnow())
    return redirect(url_for("office.devices", _anchor=f"thiet-bi-{device_id}"))
