"""OCOP trace service: registry, certificates, signed star labels and traceability."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from flask import Flask, Response, request
from sqlalchemy.exc import DBAPIError, IntegrityError
from werkzeug.http import parse_date
from werkzeug.middleware.proxy_fix import ProxyFix

from trace_service.api import StrictJSONProvider
from trace_service.config import load_settings, replica_url, trusted_hosts
from trace_service.db import (
    Database,
    default_database_url,
    get_session,
    has_session,
    make_engine,
    request_reads_only,
)
from trace_service.db_waits import bound_requests
from trace_service.errors import (
    conflict_response,
    database_fault,
    database_fault_response,
    register_error_handlers,
)
from trace_service.ratelimit import init_rate_limits

log = logging.getLogger(__name__)

# Scripts only from files we serve: no page has an inline script (the API documentation starts
# Swagger UI from static/docs/swagger-start.js). Inline styles stay allowed for now (the
# label and error pages carry their own <style>, Swagger UI sets style attributes).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'"
)

HSTS = "max-age=31536000"


# The wiring below imports every package inside its function, not at the top: any
# ``import trace_service.<module>`` runs this file first, and must not load the whole app.


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults, then ``OCOP_*`` environment variables, then ``config``."""
    # Static files are the web package's (trace_service/web/static, at /static).
    app = Flask(__name__, instance_relative_config=True, static_folder=None)
    settings = load_settings(config)
    app.config.update(settings)
    # The larger limit for the upload routes; api.py narrows it for every other request.
    app.config["MAX_CONTENT_LENGTH"] = max(settings["MAX_BODY_BYTES"], settings["MAX_UPLOAD_BYTES"])
    app.config["DATABASE_URL"] = settings["DATABASE_URL"] or default_database_url(app.instance_path)
    app.config["TRUSTED_HOSTS"] = trusted_hosts(settings)  # a spoofed Host header gets 400
    app.json = StrictJSONProvider(app)  # no NaN or Infinity, in or out
    app.json.ensure_ascii = False  # Vietnamese stays readable in responses
    logging.getLogger("trace_service").setLevel(settings["LOG_LEVEL"])

    replica_at = replica_url(settings)  # PostgreSQL only: any other is refused here
    waits = settings["DATABASE_WAIT_SECONDS"]
    replica = (
        make_engine(replica_at, settings["SQL_ECHO"], read_only=True, wait_seconds=waits)
        if replica_at
        else None
    )
    primary = make_engine(app.config["DATABASE_URL"], settings["SQL_ECHO"], wait_seconds=waits)
    Database(primary, replica, settings["DATABASE_REPLICA_MAX_LAG_SECONDS"]).init_app(app)
    bound_requests(app, waits)  # a frozen server costs a request seconds, not its worker
    _ignore_unreadable_dates(app)
    _register_proxy_fix(app)
    register_error_handlers(app)
    init_rate_limits(app)
    from trace_service.web import init_web

    init_web(app)
    # after_request runs in reverse order: headers last, so every response carries them.
    _register_security_headers(app)
    _register_unit_of_work(app)
    _register_blueprints(app)
    _register_cli(app)
    from trace_service.certificates.daily import start_scheduler

    start_scheduler(app)
    return app


_DATE_CONDITIONS = ("HTTP_IF_MODIFIED_SINCE", "HTTP_IF_UNMODIFIED_SINCE", "HTTP_IF_RANGE")


def _ignore_unreadable_dates(app: Flask) -> None:
    """A conditional request's date that cannot be read is ignored, as RFC 9110 asks (an
    If-Range so ignored takes its Range with it: the whole file is sent). werkzeug's
    ``parse_date`` raises ``OverflowError`` on a zone offset of twenty digits, which was a
    500 on any file, static ones included, for anyone who sent it."""
    inner: Callable[..., Any] = app.wsgi_app

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> Any:
        for key in _DATE_CONDITIONS:
            value = environ.get(key)
            if value is None or value.startswith(('"', "W/")):  # an ETag, not a date
                continue
            try:
                parse_date(value)
            except (OverflowError, ValueError):
                del environ[key]
                if key == "HTTP_IF_RANGE":
                    environ.pop("HTTP_RANGE", None)
        return inner(environ, start_response)

    app.wsgi_app = wsgi_app  # type: ignore[method-assign]


def _register_proxy_fix(app: Flask) -> None:
    """Believe ``X-Forwarded-For`` and ``X-Forwarded-Proto`` only as set by the number of
    proxies the operator named: without it a client could pick the address it is counted
    (and rate-limited, and audited) as by sending the header itself."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def _register_api(app: Flask) -> None:
    """The JSON API's blueprints, under /api/v1 with its documentation."""
    from trace_service.api import init_api
    from trace_service.audit.routes import blp as audit_blp
    from trace_service.auth.routes import blp as auth_blp
    from trace_service.certificates.routes import blp as certificates_blp
    from trace_service.labels.routes import blp as labels_blp
    from trace_service.queue.routes import blp as jobs_blp
    from trace_service.registry.routes import BLUEPRINTS as registry_blps
    from trace_service.reports.routes import blp as reports_blp
    from trace_service.trace.routes import blp as trace_blp
    from trace_service.verify.device_routes import blp as devices_blp
    from trace_service.verify.inspection_routes import blp as inspections_blp

    api = init_api(app)
    api_blueprints = (
        auth_blp,
        *registry_blps,
        certificates_blp,
        trace_blp,
        labels_blp,
        inspections_blp,
        devices_blp,
        audit_blp,
        reports_blp,
        jobs_blp,
    )
    for blueprint in api_blueprints:
        api.register_blueprint(blueprint)


def _register_blueprints(app: Flask) -> None:
    from trace_service.auth.access import init_access
    from trace_service.auth.web_session import init_web_sessions
    from trace_service.docs import docs_assets
    from trace_service.health import health
    from trace_service.labels.lookup import lookup as label_lookup
    from trace_service.labels.public import page as label_page
    from trace_service.labels.resolver import init_resolver
    from trace_service.portal import init_portal
    from trace_service.queue.pages import pages as office_jobs_pages
    from trace_service.registry.photos import photos_page
    from trace_service.reports.pages import reports_page
    from trace_service.signing.routes import blp as well_known_blp
    from trace_service.verify.devices import init_devices
    from trace_service.verify.page import page as offline_page
    from trace_service.verify.routes import blp as offline_blp
    from trace_service.verify.snapshot_store import watch_certificates

    _register_layer_rules()
    init_access(app)
    init_devices(app)  # after the principal: a device's token is limited
    init_web_sessions(app)  # after the API's principal: a page's comes from its session
    _register_api(app)
    app.register_blueprint(docs_assets)
    app.register_blueprint(health)
    app.register_blueprint(office_jobs_pages)
    app.register_blueprint(well_known_blp)
    app.register_blueprint(label_page)
    app.register_blueprint(label_lookup)
    app.register_blueprint(reports_page)
    app.register_blueprint(photos_page)
    init_resolver(app)
    app.register_blueprint(offline_blp)
    app.register_blueprint(offline_page)
    watch_certificates()
    init_portal(app)


def _register_layer_rules() -> None:
    """The rules upper layers hold over lower layers' records are registered when their
    modules are imported (trace's and labels' with their models, through the blueprints).
    Certificates' rules over the registry are imported here, until certificates' own models
    import them."""
    import trace_service.certificates.registry_rules  # noqa: F401


def _register_cli(app: Flask) -> None:
    from trace_service.cli import register_commands

    register_commands(app)


def _register_unit_of_work(app: Flask) -> None:
    """Commit once after a successful request; roll back after any error response."""

    @app.after_request
    def _finish(response: Response) -> Response:
        if not has_session():
            return response
        session = get_session()
        if not session.in_transaction():  # nothing since the view's own commit (a label page)
            return response
        if response.status_code >= 400:
            session.rollback()
            return response
        try:
            session.commit()
        except IntegrityError as error:
            session.rollback()
            log.info("integrity error at commit: %s", error.orig)
            return conflict_response()
        except DBAPIError as error:
            fault = database_fault(error)
            if fault is None:
                raise
            session.rollback()
            if request_reads_only():
                # Only bookkeeping was lost (a token's last use): the answer stands.
                log.warning("commit of a read-only request failed", exc_info=True)
                return response
            log.exception("commit failed")
            return database_fault_response(fault)
        return response


def _register_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if request.is_secure:
            # Served over HTTPS (directly, or behind the proxies OCOP_TRUSTED_PROXIES names,
            # whose X-Forwarded-Proto says https): browsers keep to HTTPS for a year. Never
            # over plain HTTP, where a development machine would be locked out of itself.
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response
