"""Domain exceptions and the one JSON error shape every error of the API takes.

Shape: ``{"status": 422, "code": "validation_error", "message": "<Vietnamese>",
"message_en": "<English>", "errors": {...}}``; ``errors`` only where there are field errors,
grouped by location (``json``, ``query``) as webargs reports them.
Services raise these exceptions; they never build HTTP responses themselves.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, has_request_context, jsonify, render_template, request
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """Base of every error a client can cause; carries a Vietnamese and an English message."""

    status = 400
    code = "bad_request"

    def __init__(
        self,
        message: str,
        message_en: str | None = None,
        *,
        errors: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message_en or message)
        self.message = message
        self.message_en = message_en or message
        self.errors = errors


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class Unavailable(DomainError):
    """Something the service needs is missing or down; the client may retry later."""

    status = 503
    code = "unavailable"


class InvalidInput(DomainError):
    """Input that is well-formed but breaks a rule (field errors under ``errors['json']``).

    ``field`` names the one field at fault, when there is one, so that a page can show the
    message beside it."""

    status = 422
    code = "validation_error"
    field: str | None = None


def field_error(field: str, *, vi: str, en: str) -> InvalidInput:
    """A rule broken by one field. The messages are keywords, Vietnamese first as everywhere,
    so the two languages can never be swapped."""
    error = InvalidInput(vi, en, errors={"json": {field: [en]}})
    error.field = field
    return error


# Messages for HTTP errors raised by Flask, werkzeug or webargs rather than by our services.
_HTTP_MESSAGES: dict[int, tuple[str, str, str]] = {
    400: ("bad_request", "Yêu cầu không hợp lệ.", "The request is malformed."),
    401: ("not_authenticated", "Cần đăng nhập hoặc mã truy cập API.", "Authentication required."),
    403: ("forbidden", "Bạn không có quyền thực hiện thao tác này.", "You may not do this."),
    404: ("not_found", "Không tìm thấy.", "Not found."),
    405: ("method_not_allowed", "Phương thức không được hỗ trợ.", "Method not allowed."),
    406: ("not_acceptable", "Định dạng phản hồi không được hỗ trợ.", "Not acceptable."),
    409: ("conflict", "Xung đột với dữ liệu hiện có.", "Conflicts with existing data."),
    413: (
        "payload_too_large",
        "Nội dung gửi lên quá lớn.",
        "The request body is larger than the service accepts.",
    ),
    415: (
        "unsupported_media_type",
        "Nội dung phải là JSON (Content-Type: application/json).",
        "The request body must be JSON (Content-Type: application/json).",
    ),
    422: ("validation_error", "Dữ liệu không hợp lệ.", "Some fields are invalid."),
    429: ("too_many_requests", "Quá nhiều yêu cầu, vui lòng thử lại sau.", "Too many requests."),
    503: (
        "unavailable",
        "Dịch vụ tạm thời không sẵn sàng, vui lòng thử lại.",
        "The service is temporarily unavailable; retry.",
    ),
}


def _wants_html() -> bool:
    """A person's browser outside the API (a phone opening a damaged label link) gets a
    page; the API and every other client get the JSON error shape."""
    if not has_request_context() or request.path.startswith("/api/"):
        return False
    return request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html"


def error_response(
    status: int,
    code: str,
    message: str,
    message_en: str,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    if _wants_html():
        html = render_template("error.html", status=status, message=message, message_en=message_en)
        page = Response(html, status=status, mimetype="text/html")
        for name, value in (headers or {}).items():
            page.headers[name] = value
        return page
    body: dict[str, Any] = {
        "status": status,
        "code": code,
        "message": message,
        "message_en": message_en,
    }
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def conflict_response() -> Response:
    """A change the database refused for a clash with other data (a unique or foreign key),
    at a flush or at the request's commit. Services check first; this is the race where
    two requests both passed the check."""
    return error_response(
        409,
        "conflict",
        "Xung đột với dữ liệu hiện có.",
        "The change conflicts with existing data (it may have been made concurrently).",
    )


def database_busy_response() -> Response:
    """The database could not be reached or was too busy (a lock, a lost connection)."""
    return error_response(
        503,
        "unavailable",
        "Cơ sở dữ liệu đang bận, vui lòng thử lại.",
        "The database is busy or unreachable; retry.",
        headers={"Retry-After": "1"},
    )


def http_error_response(error: HTTPException) -> Response:
    status = error.code or 500
    code, message, message_en = _HTTP_MESSAGES.get(
        status, ("error", "Đã xảy ra lỗi.", error.name if status < 500 else "Internal error.")
    )
    data = getattr(error, "data", None) or {}
    errors = data.get("messages") or data.get("errors")
    if status == 400 and errors and "json" in errors:
        message, message_en = "Nội dung JSON không đọc được.", "The JSON body cannot be parsed."
        code = "malformed_json"
    headers = dict(data.get("headers") or {})
    if status == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="ocop"')
    valid_methods = getattr(error, "valid_methods", None)
    if status == 405 and valid_methods:
        headers["Allow"] = ", ".join(valid_methods)
    return error_response(status, code, message, message_en, errors, headers)


def domain_error_response(error: DomainError) -> Response:
    headers = {"WWW-Authenticate": 'Bearer realm="ocop"'} if error.status == 401 else None
    return error_response(
        error.status, error.code, error.message, error.message_en, error.errors, headers
    )


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(DomainError, domain_error_response)
    app.register_error_handler(HTTPException, http_error_response)

    @app.errorhandler(IntegrityError)
    def _integrity(error: IntegrityError) -> Response:
        log.info("integrity error: %s", error.orig)
        return conflict_response()

    @app.errorhandler(DataError)
    def _data(error: DataError) -> Response:
        # Schemas should refuse such values first; this keeps a missed one from being a 500.
        log.warning("value refused by the database: %s", error.orig)
        return error_response(
            422,
            "validation_error",
            "Có giá trị không hợp lệ.",
            "A value is not acceptable to the database.",
        )

    @app.errorhandler(OperationalError)
    def _operational(error: OperationalError) -> Response:
        log.warning("database unavailable: %s", error.orig)
        return database_busy_response()

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        # Never show a stack trace; log it with the request so an operator can find it.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(
            500, "internal_error", "Lỗi hệ thống, đã được ghi nhận.", "Internal error; logged."
        )
