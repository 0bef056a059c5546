"""Pages of the province OCOP office, under ``/van-phong/``: the registry, evaluations and
certificates, the expiry board, the plan board, imports and exports, inspections and reports."""

from __future__ import annotations

from flask import Blueprint, render_template

from trace_service.portal.access import page_roles
from trace_service.principal import Role

office = Blueprint("office", __name__, url_prefix="/van-phong", template_folder="../templates")


@office.route("/")
@page_roles(Role.ADMIN)
def home() -> str:
    return render_template("portal/office/home.html")
