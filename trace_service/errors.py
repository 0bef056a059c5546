"""Domain exceptions and the one JSON error shape every error of the API takes.

Shape: ``{"status": 422, "code": "validation_error", "message": "<Vietnamese>",
"message_en": "<English>", "errors": {...}}``; ``errors`` only where there are field errors,
grouped by location (``json``, ``query``) as webargs reports them.
Services raise these exceptions; they never build HTTP responses themselves.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from flask import (
    Flask,
    Response,
    current_app,
    has_request_context,
    jsonify,
    render_template,
    request,
)
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
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
    problems: list[InvalidInput] | None = None  # several fields at fault (``raise_all``)


def field_error(field: str, *, vi: str, en: str) -> InvalidInput:
    """A rule broken by one field. The messages are keywords, Vietnamese first as everywhere,
    so the two languages can never be swapped."""
    error = InvalidInput(vi, en, errors={"json": {field: [en]}})
    error.field = field
    return error


def raise_all(problems: list[InvalidInput]) -> None:
    """Refuse with every field's problem at once (one: as it is), so a person fixes them in
    one pass; ``problems`` on the error keeps each with its own field and messages."""
    if not problems:
        return
    if len(problems) == 1:
        raise problems[0]
    named: dict[str, list[Any]] = {}
    for problem in problems:
        for key, messages in ((problem.errors or {}).get("json") or {}).items():
            named.setdefault(key, []).extend(messages)
    error = InvalidInput(
        " ".join(p.message for p in problems),
        " ".join(p.message_en for p in problems),
        errors={"json": named},
    )
    error.problems = list(problems)
    raise error


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


ERROR_PAGE = "error_page_template"  # app.extensions: () -> a template name, or None


def _error_template() -> str:
    """The public error page, unless an area of the site (the portal's signed-in pages)
    names its own, so its errors keep that area's layout and navigation."""
    chooser = current_app.extensions.get(ERROR_PAGE)
    return (chooser() if chooser else None) or "error.html"


def error_response(
    status: int,
    code: str,
    message: str,
    message_en: str,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    if _wants_html():
        html = render_template(
            _error_template(), status=status, message=message, message_en=message_en
        )
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


@dataclass(frozen=True)
class DatabaseFault:
    """Why the database refused a request, in words for the client, and when to retry."""

    kind: str  # busy | locked | unreachable | read_only | storage
    message: str
    message_en: str
    retry_after: int  # seconds


BUSY = DatabaseFault(
    "busy",
    "Cơ sở dữ liệu đang bận, vui lòng thử lại.",
    "The database is busy; retry.",
    1,
)
UNREACHABLE = DatabaseFault(
    "unreachable",
    "Tạm thời không kết nối được cơ sở dữ liệu; không có thay đổi nào được lưu. "
    "Vui lòng thử lại sau ít phút.",
    "The database cannot be reached for now; nothing was changed. Retry in a few minutes.",
    10,
)
# A row lock waited for past the statement's lock_timeout (an order of 100,000 stamps holds
# its lot for some seconds): the database is well, another request holds the record.
LOCKED = DatabaseFault(
    "locked",
    "Dữ liệu này đang được một yêu cầu khác thay đổi (ví dụ một đơn in tem lớn của cùng lô); "
    "không có thay đổi nào được lưu. Vui lòng thử lại sau ít giây.",
    "Another request is changing this record (a large order of the same lot, say); nothing "
    "was changed. Retry in a few seconds.",
    5,
)
READ_ONLY = DatabaseFault(
    "read_only",
    "Cơ sở dữ liệu đang ở chế độ chỉ đọc (bảo trì); không có thay đổi nào được lưu. "
    "Vui lòng thử lại sau.",
    "The database is read-only for now (maintenance); nothing was changed. Retry later.",
    60,
)
STORAGE = DatabaseFault(
    "storage",
    "Không ghi được dữ liệu (ổ đĩa đầy hoặc lỗi ghi); không có thay đổi nào được lưu. "
    "Vui lòng thử lại sau.",
    "The database cannot write (disk full or a write error); nothing was changed. Retry later.",
    60,
)

# PostgreSQL's SQLSTATE classes: 08 connection exceptions, 57P operator intervention (a
# shutdown, "cannot connect now"); 25006 a write in a read-only transaction
# (default_transaction_read_only, a hot standby); 53100 disk full.
_UNREACHABLE_STATES = ("08", "57P")


def database_fault(error: BaseException) -> DatabaseFault | None:
    """What a database error means to the client, or None for a fault of ours (a bug)."""
    if not isinstance(error, DBAPIError):
        return None
    state = getattr(error.orig, "sqlstate", None)
    text = str(error.orig).lower()
    if state == "25006" or "readonly database" in text:
        return READ_ONLY
    if state == "55P03":  # lock_not_available: a lock_timeout ran out
        return LOCKED
    if state == "53100" or "disk is full" in text or "disk i/o error" in text:
        return STORAGE
    if not isinstance(error, OperationalError):
        return None
    if error.connection_invalidated or "unable to open database" in text:
        return UNREACHABLE
    sqlite = "sqlite" in type(error.orig).__module__
    if sqlite and ("no such " in text or "syntax error" in text):
        return None  # a schema or statement of ours is wrong: retrying will not help
    if state is None and not sqlite:
        return UNREACHABLE  # psycopg names no state when no server answered
    if state and state.startswith(_UNREACHABLE_STATES):
        return UNREACHABLE
    return BUSY  # a lock, a deadlock, a serialisation failure: retry at once


def database_fault_response(fault: DatabaseFault = BUSY) -> Response:
    """The database could not answer: 503 with when to retry, and nothing changed (the
    request's unit of work is rolled back)."""
    return error_response(
        503,
        "unavailable",
        fault.message,
        fault.message_en,
        headers={"Retry-After": str(fault.retry_after)},
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

    @app.errorhandler(DBAPIError)
    def _database(error: DBAPIError) -> Response:
        fault = database_fault(error)
        if fault is None:
            return _unexpected(error)
        log.warning("database %s: %s", fault.kind, error.orig)
        return database_fault_response(fault)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        # Never show a stack trace; log it with the request so an operator can find it.
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(
            500, "internal_error", "Lỗi hệ thống, đã được ghi nhận.", "Internal error; logged."
        )
