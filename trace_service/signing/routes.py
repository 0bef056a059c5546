"""Public keys for verifiers: the JWKS (as SMART Health Cards publish) and the signed trust
list offline verifiers carry (as EU DCC apps do)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from trace_service.db import get_session
from trace_service.errors import NotFound
from trace_service.signing.service import get_keystore, served_trust_list
from trace_service.signing.trustlist import jwks

blp = Blueprint("well_known", __name__, url_prefix="/.well-known")

# Verifiers refresh often enough to learn of a compromised key within minutes.
_CACHE = "public, max-age=300"


@blp.get("/jwks.json")
def jwks_document() -> Response:
    response = jsonify(jwks(get_keystore()))
    response.headers["Cache-Control"] = _CACHE
    return response


@blp.get("/ocop-trust-list.json")
def trust_list_document() -> Response:
    document = served_trust_list(get_session(), get_keystore())
    if document is None:  # before `flask keys init`
        raise NotFound("Chưa có danh sách khóa tin cậy.", "No trust list published yet.")
    response = jsonify(document)
    response.headers["Cache-Control"] = _CACHE
    return response
