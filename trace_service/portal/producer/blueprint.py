"""The producer's blueprint, apart from its pages so each page module can add to it."""

from __future__ import annotations

from flask import Blueprint

producer = Blueprint(
    "producer",
    __name__,
    url_prefix="/chu-the",
    template_folder="../templates",
    static_folder="../static",
    static_url_path="/tep",
)
