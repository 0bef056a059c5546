"""The office's blueprint, apart from its pages so each page module can add to it."""

from __future__ import annotations

from flask import Blueprint

office = Blueprint("office", __name__, url_prefix="/van-phong", template_folder="../templates")
