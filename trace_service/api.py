"""API conventions shared by every blueprint: errors, pagination, ids, JSON-only bodies.

Lists are returned as ``{"items": [...], "page": 1, "page_size": 20, "total": 93, "pages": 5}``
and take ``?page=`` and ``?page_size=`` (at most ``PAGE_SIZE_MAX``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from functools import cache
from typing import Any, NoReturn, TypeVar

from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from flask import Flask, Response, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask_smorest import Api, Blueprint
from marshmallow import RAISE, Schema, fields, validate
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import (
    HTTPException,
    NotFound,
    RequestEntityTooLarge,
    UnsupportedMediaType,
)
from werkzeug.routing import BaseConverter

from trace_service.errors import InvalidInput, http_error_response
from trace_service.fields import MAX_ID

API_PREFIX = "/api/v1"


class IdConverter(BaseConverter):
    """``<id:...>``: a positive 64-bit id in ASCII digits.

    Anything else is a 404 for every method: refusing inside ``to_python`` would let werkzeug
    try the other rules and answer 405; and only ASCII digits count ("１" is no id).
    """

    regex = "[0-9]+"
    part_isolating = True

    def to_python(self, value: str) -> int:
        number = int(value)
        if not 1 <= number <= MAX_ID:
            raise NotFound()
        return number

    def to_url(self, value: Any) -> str:
        return str(int(value))


NON_FINITE_MESSAGE = (
    "NaN, Infinity and numbers beyond a double's range (such as 1e400) are not JSON numbers; "
    "send a finite number."
)


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name}: {NON_FINITE_MESSAGE}")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text}: {NON_FINITE_MESSAGE}")
    return value


class StrictJSONProvider(DefaultJSONProvider):
    """The app's JSON: a non-finite number can be neither read nor written (writing one
    raises, so a value that slipped past validation is an error, never invalid JSON)."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        kwargs.setdefault("allow_nan", False)
        return super().dumps(obj, **kwargs)

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_constant", _refuse_constant)
        kwargs.setdefault("parse_float", _finite_float)
        return super().loads(s, **kwargs)


MAX_JSON_DEPTH = 32  # far deeper than any body of the API; deeper ones cost stack, not data
SURROGATE_MESSAGE = (
    "A lone surrogate (an escape such as \\ud800) is not text; send UTF-8 characters."
)
DEPTH_MESSAGE = f"Nested more than {MAX_JSON_DEPTH} levels deep."
_SURROGATE = re.compile("[\ud800-\udfff]")


def _problem(value: Any, depth: int) -> str | None:
    if isinstance(value, float) and not math.isfinite(value):
        return NON_FINITE_MESSAGE
    if isinstance(value, str) and _SURROGATE.search(value):
        return SURROGATE_MESSAGE
    if isinstance(value, dict | list) and depth > MAX_JSON_DEPTH:
        return DEPTH_MESSAGE
    if isinstance(value, dict) and any(_SURROGATE.search(str(k)) for k in value):
        return SURROGATE_MESSAGE
    return None


def body_errors(data: Any) -> Any:
    """Field errors shaped as marshmallow's (``{"lot": {"quantity": [message]}}``) for what
    no field may hold, wherever it is in a parsed JSON body, or None: NaN and ±Infinity
    (Python's json reads ``NaN``, ``Infinity`` and ``1e400`` as such floats), lone
    surrogates (``"\\ud800"`` parses, but no database or encoder takes it), and nesting
    deeper than ``MAX_JSON_DEPTH`` (a free-form field such as ``details`` would keep it, and
    every reader after would recurse through it). Walked without recursion."""
    parents: list[tuple[int, Any]] = [(-1, None)]  # (parent node, key) of each node
    stack: list[tuple[int, int, Any]] = [(0, 0, data)]
    found: list[tuple[int, str]] = []
    while stack:
        node, depth, value = stack.pop()
        if (problem := _problem(value, depth)) is not None:
            found.append((node, problem))
            continue
        if isinstance(value, dict):
            items: Any = value.items()
        elif isinstance(value, list):
            items = enumerate(value)
        else:
            continue
        for key, child in items:
            parents.append((node, key))
            stack.append((len(parents) - 1, depth + 1, child))
    return _shaped(found, parents) if found else None


def _shaped(found: list[tuple[int, str]], parents: list[tuple[int, Any]]) -> Any:
    if any(node == 0 for node, _ in found):  # the whole body is one such value
        return [message for node, message in found if node == 0]
    errors: dict[Any, Any] = {}
    for node, message in found:
        path = []
        while node > 0:
            node, key = parents[node]
            path.append(key)
        *outer, last = reversed(path)
        branch = errors
        for key in outer:
            branch = branch.setdefault(key, {})
        branch[last] = [message]
    return errors


_BODY_MESSAGES: dict[str | None, tuple[str, str]] = {
    NON_FINITE_MESSAGE: (
        "NaN, Infinity và số vượt giới hạn (như 1e400) không phải là số JSON; hãy gửi một số "
        "hữu hạn.",
        NON_FINITE_MESSAGE,
    ),
    SURROGATE_MESSAGE: (
        "Dữ liệu có ký tự không hợp lệ (\\ud800…); hãy gửi văn bản UTF-8.",
        SURROGATE_MESSAGE,
    ),
    DEPTH_MESSAGE: (
        f"Dữ liệu lồng quá {MAX_JSON_DEPTH} cấp.",
        DEPTH_MESSAGE,
    ),
    None: (
        "Dữ liệu có giá trị không dùng được ở các trường đã nêu.",
        "The body holds values no field takes; see the fields named.",
    ),
}


def _kinds(errors: Any) -> str | None:
    """The one kind of problem in ``errors``, or None when there are several."""
    seen: set[str] = set()
    stack = [errors]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            seen.update(m for m in node if isinstance(m, str))
    return seen.pop() if len(seen) == 1 else None


class StrictParser(FlaskParser):
    """webargs, stricter: unknown query parameters are refused (a typo such as ``?pagesize=``
    must not silently return everything), JSON nested too deeply to parse is bad JSON, and
    NaN or Infinity anywhere in a body is a field error (JSON has no such numbers)."""

    # An instance attribute in webargs, so no ClassVar here (mypy refuses the override).
    DEFAULT_UNKNOWN_BY_LOCATION: dict[str, str | None] = {  # noqa: RUF012
        **FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION,
        "query": RAISE,
        "querystring": RAISE,
    }

    def _raw_load_json(self, req: Any) -> Any:
        try:
            data = super()._raw_load_json(req)
        except json.JSONDecodeError:
            raise
        except RecursionError as exc:
            raise json.JSONDecodeError("JSON nested too deeply", "?", 0) from exc
        except ValueError as exc:  # an integer of more than 4,300 digits (CPython's limit)
            raise json.JSONDecodeError("JSON number too long", "?", 0) from exc
        if (errors := body_errors(data)) is not None:
            vi, en = _BODY_MESSAGES.get(_kinds(errors), _BODY_MESSAGES[None])
            raise InvalidInput(vi, en, errors={"json": errors})
        return data


class ApiBlueprint(Blueprint):
    ARGUMENTS_PARSER = StrictParser()


class ErrorSchema(Schema):
    status = fields.Integer(metadata={"description": "HTTP status code"})
    code = fields.String(metadata={"description": "Stable machine-readable error code"})
    message = fields.String(metadata={"description": "What went wrong, in Vietnamese"})
    message_en = fields.String(metadata={"description": "What went wrong, in English"})
    errors = fields.Dict(
        metadata={"description": "Field errors by location (json, query), then field name"}
    )


class ServiceApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def handle_http_exception(self, error: HTTPException) -> Response:
        return http_error_response(error)


def patch_schema(schema_cls: type[Schema]) -> Schema:
    """A PATCH body: each top-level field optional, but nested objects still complete
    (``partial=True`` would also let a listing without its URL through)."""
    names = tuple(name for name, f in schema_cls._declared_fields.items() if not f.dump_only)
    return schema_cls(partial=names)


class PageArgs(Schema):
    page = fields.Integer(
        load_default=1, strict=False, validate=validate.Range(min=1, max=1_000_000)
    )
    page_size = fields.Integer(load_default=None, validate=validate.Range(min=1))


@cache
def page_schema(item_schema: type[Schema]) -> type[Schema]:
    name = item_schema.__name__.removesuffix("Schema") + "Page"
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema)),
            "page": fields.Integer(),
            "page_size": fields.Integer(),
            "total": fields.Integer(),
            "pages": fields.Integer(),
        },
        name=name,
    )


def paginate(session: Session, stmt: Select[Any], args: dict[str, Any]) -> dict[str, Any]:
    """Run ``stmt`` for one page; ``stmt`` must already be ordered for stable pages."""
    page = args.get("page", 1)
    size = args.get("page_size") or current_app.config["PAGE_SIZE_DEFAULT"]
    limit = current_app.config["PAGE_SIZE_MAX"]
    if size > limit:
        raise InvalidInput(
            f"Mỗi trang tối đa {limit} mục.",
            f"page_size may be at most {limit}.",
            errors={"query": {"page_size": [f"Must be between 1 and {limit}."]}},
        )
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    items = list(session.scalars(stmt.limit(size).offset((page - 1) * size)).unique())
    return {
        "items": items,
        "page": page,
        "page_size": size,
        "total": total or 0,
        "pages": math.ceil((total or 0) / size),
    }


def _schema_name(schema: type[Schema] | Schema) -> str:
    """OpenAPI component name; PATCH bodies (partial schemas) get their own, e.g. ProductPatch."""
    schema_cls: type[Schema] = resolve_schema_cls(schema)  # type: ignore[assignment]
    name = schema_cls.__name__.removesuffix("Schema")
    if isinstance(schema, Schema) and schema.partial:
        name += "Patch"
    return name


F = TypeVar("F", bound=Callable[..., Any])


def accepts_files(view: F) -> F:
    """Mark a route that takes a multipart file upload instead of a JSON body."""
    view.accepts_files = True  # type: ignore[attr-defined]
    return view


def takes_no_body(view: F) -> F:
    """Mark a POST that is a plain action (``/print-runs/{id}/build``): no body needed."""
    view.takes_no_body = True  # type: ignore[attr-defined]
    return view


def read_whole_body() -> bytes:
    """The request's body, read now and whole, bounded by ``request.max_content_length``: a
    slow client then holds no lock or transaction (a write session begins after it), and a
    chunked body that reaches the limit is refused (413) rather than cut there and read as
    if whole (Werkzeug stops reading a chunked body at the limit without a word)."""
    data = request.get_data(cache=True)
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(data) >= limit:
        raise RequestEntityTooLarge()
    return data


def _require_json_body() -> None:
    """Every POST, PUT and PATCH of the API takes a JSON object (or, where marked, a file):
    a missing body or one we cannot read as JSON is refused up front, not read as "no
    fields" (a PATCH with no body would otherwise answer 200 having changed nothing)."""
    if request.method not in {"POST", "PUT", "PATCH"} or not request.path.startswith(API_PREFIX):
        return
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "accepts_files", False) and request.mimetype == "multipart/form-data":
        request.max_content_length = current_app.config["MAX_UPLOAD_BYTES"]
        read_whole_body()
        return
    request.max_content_length = current_app.config["MAX_BODY_BYTES"]
    has_body = (request.content_length or 0) > 0 or "chunked" in request.headers.get(
        "Transfer-Encoding", ""
    )
    if not has_body and getattr(view, "takes_no_body", False):
        return
    if not has_body and request.endpoint is not None:
        raise InvalidInput(
            "Thiếu nội dung JSON.",
            "A JSON body is required.",
            errors={"json": ["Missing request body."]},
        )
    if has_body and not request.is_json:
        raise UnsupportedMediaType()
    read_whole_body()


def init_api(app: Flask) -> ServiceApi:
    app.url_map.converters["id"] = IdConverter
    app.config.update(
        API_TITLE="OCOP trace service",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        # Served by this app (see docs.py), so the page works with no internet.
        OPENAPI_SWAGGER_UI_URL=f"{API_PREFIX}/docs/assets/",
        API_SPEC_OPTIONS={
            "info": {
                "description": (
                    "Registry of OCOP producers, products and raw-material areas. "
                    "Authenticate with a personal token: `Authorization: Bearer ocop_…` "
                    f"(create one with `POST {API_PREFIX}/auth/tokens` and your password). "
                    "Errors always have the shape of `Error`."
                )
            },
            "components": {
                "securitySchemes": {
                    "bearerAuth": {"type": "http", "scheme": "bearer"},
                    "passwordAuth": {"type": "http", "scheme": "basic"},
                }
            },
            "security": [{"bearerAuth": []}],
        },
    )
    plugin = MarshmallowPlugin(schema_name_resolver=_schema_name)
    api = ServiceApi(app, spec_kwargs={"marshmallow_plugin": plugin})
    api.register_converter(
        IdConverter, lambda _c: {"type": "integer", "format": "int64", "minimum": 1}
    )
    # First of all the request's hooks: the body is read, within its route's limit, before
    # anything (the principal's token check) opens a session that would hold it.
    app.before_request_funcs.setdefault(None, []).insert(0, _require_json_body)
    return api
