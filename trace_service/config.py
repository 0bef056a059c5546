"""Every setting of the service, its default and its environment variable, in one place.

Settings are read in this order, later winning: the defaults below, environment variables
named ``OCOP_<NAME>``, then the mapping given to ``create_app``. The README's configuration
table is checked against ``SETTINGS`` by a test, so the two cannot drift apart.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

ENV_PREFIX = "OCOP_"


class ConfigError(ValueError):
    """A setting has a value the service cannot use; raised at start-up, never later."""


def _bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"expected true/false, got {raw!r}")


def _positive_int(raw: str) -> int:
    value = int(raw)
    if value <= 0:
        raise ValueError(f"expected a positive whole number, got {raw!r}")
    return value


def _yields(raw: str) -> dict[str, float]:
    """``{"roasting": 0.85, "drying": 0.55}``: maximum yields by process, over the defaults."""
    value = json.loads(raw) if raw.strip() else {}
    if not isinstance(value, dict) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) and 0 < v <= 10
        for v in value.values()
    ):
        raise ValueError(
            'expected a JSON object of process names to numbers, e.g. {"roasting": 0.85}'
        )
    return {str(k): float(v) for k, v in value.items()}


def _build_mode(raw: str) -> str:
    value = raw.strip().lower()
    if value not in {"background", "inline"}:
        raise ValueError(f"expected background or inline, got {raw!r}")
    return value


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError(f"expected zero or a positive whole number, got {raw!r}")
    return value


def _redis_url(raw: str) -> str:
    value = raw.strip()
    if value and not value.startswith(("redis://", "rediss://", "redis+unix://")):
        raise ValueError(f"expected a redis://, rediss:// or redis+unix:// URL, got {raw!r}")
    return value


def _replica_url(raw: str) -> str:
    """A PostgreSQL URL, or empty: only a streaming standby can be a replica (and only
    PostgreSQL's connections can be made read-only); an SQLite file named here would be a
    second, writable database that nothing keeps up to date."""
    value = raw.strip()
    scheme = value.split(":", 1)[0].lower()  # never the rest: it may hold a password
    if value and scheme.split("+", 1)[0] not in {"postgresql", "postgres"}:
        raise ValueError(
            "a read replica must be a PostgreSQL streaming standby, e.g. "
            f"postgresql+psycopg://user@host:5432/dbname; got a {scheme!r} URL"
        )
    return value


def replica_url(values: Mapping[str, Any]) -> str:
    """``DATABASE_REPLICA_URL`` checked, also when given in ``create_app``'s mapping (which
    is not parsed like the environment's text)."""
    try:
        return _replica_url(str(values.get("DATABASE_REPLICA_URL") or ""))
    except ValueError as exc:
        raise ConfigError(f"{ENV_PREFIX}DATABASE_REPLICA_URL: {exc}") from exc


def _hosts(raw: str) -> list[str]:
    """``tem.ocop.vn, .ocop.vn``: host names (a leading dot: every subdomain), or ``*``."""
    names = [name.strip().lower() for name in raw.split(",") if name.strip()]
    for name in names:
        if name != "*" and not re.fullmatch(r"\.?[a-z0-9-]+(\.[a-z0-9-]+)*", name):
            raise ValueError(f"expected host names without scheme or port, got {name!r}")
    return names


def trusted_hosts(values: Mapping[str, Any]) -> list[str] | None:
    """The Host header values requests may carry (Flask's ``TRUSTED_HOSTS``): the setting,
    or by default the label and public hosts and this machine; None (any) for ``*``.

    URLs the service builds from the request (the resolver's links, the linkset, the typed
    lookup's redirect) can then never name a host a client chose."""
    named = values.get("TRUSTED_HOSTS") or []
    if isinstance(named, str):
        named = _hosts(named)
    if "*" in named:
        return None
    if named:
        return list(named)
    hosts = ["localhost", "127.0.0.1"]
    for key in ("LABEL_BASE_URL", "PUBLIC_BASE_URL"):
        host = urlsplit(str(values.get(key) or "")).hostname
        if host and host not in hosts:
            hosts.append(host)
    return hosts


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    parse: Callable[[str], Any]
    doc: str

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "DATABASE_URL",
        "",
        str,
        "SQLAlchemy URL. Empty: an SQLite file `instance/ocop.sqlite3` (WAL, foreign keys on). "
        "PostgreSQL: `postgresql+psycopg://user@host:5432/dbname`.",
    ),
    Setting(
        "DATABASE_REPLICA_URL",
        "",
        _replica_url,
        "SQLAlchemy URL of a PostgreSQL read replica (a streaming standby of "
        "`OCOP_DATABASE_URL`; any other database is refused). Set: the public reads (label "
        "page, verify API, offline snapshot) go to it (as stale as its replication lag, up "
        "to `OCOP_DATABASE_REPLICA_MAX_LAG_SECONDS`), while every write (scans, "
        "scratch-code checks, reports) stays on the primary; if it cannot be reached they "
        "go to the primary (a warning is logged) and it is tried again 30 s later. Empty: "
        "no replica.",
    ),
    Setting(
        "DATABASE_REPLICA_MAX_LAG_SECONDS",
        30,
        _positive_int,
        "Most the read replica may be behind the primary (measured every 2 s per process) "
        "for the public reads to stay on it; further behind (its replay stopped, or cut off "
        "from the primary) they go to the primary, a warning is logged, and they return "
        "once it has caught up.",
    ),
    Setting(
        "DATABASE_WAIT_SECONDS",
        5,
        _positive_int,
        "Longest a web request waits on the PostgreSQL server (a frozen one that accepts "
        "and never answers, or one that is slow) at each step: a connection attempt (at "
        "least 2 s, anywhere), a pooled connection's check, and each statement of a public "
        "read (label page, verify API, offline snapshot); the request's other statements "
        "wait up to this or 20 s, whichever is longer. Then it answers as when the database "
        "is down (API 503 with Retry-After, the label page from its URL alone). Print-run "
        "builds, jobs, CLI commands and migrations are not bounded.",
    ),
    Setting("SQL_ECHO", False, _bool, "Log every SQL statement (debugging only)."),
    Setting(
        "MAX_BODY_BYTES",
        1_048_576,
        _positive_int,
        "Largest request body accepted; larger ones get 413.",
    ),
    Setting(
        "MAX_UPLOAD_BYTES",
        5_242_880,
        _positive_int,
        "Largest file accepted on upload routes (lab reports, certificate lists).",
    ),
    Setting(
        "IMPORT_MAX_ROWS",
        5_000,
        _positive_int,
        "Most data rows a certificate list (CSV/XLSX) may hold; a longer one gets 413.",
    ),
    Setting(
        "IMPORT_MAX_UNCOMPRESSED_BYTES",
        10_485_760,
        _positive_int,
        "Most an XLSX certificate list may unpack to (its ZIP directory is read before the "
        "file is parsed); a larger one gets 413.",
    ),
    Setting("PAGE_SIZE_DEFAULT", 20, _positive_int, "Items per page when a list asks for none."),
    Setting("PAGE_SIZE_MAX", 100, _positive_int, "Most items per page a client may ask for."),
    Setting(
        "TOKEN_TTL_DAYS",
        365,
        _non_negative_int,
        "Days a new personal API token stays valid; 0 means until revoked.",
    ),
    Setting(
        "PUBLIC_BASE_URL",
        "http://127.0.0.1:8000",
        str,
        "Public address of the service, used in links it prints (labels, letters).",
    ),
    Setting("LOG_LEVEL", "INFO", str, "Python logging level of the service's own logger."),
    Setting(
        "EXPIRY_WINDOW_DAYS",
        90,
        _positive_int,
        "A certificate is `expiring` when its last valid day is this close.",
    ),
    Setting(
        "OFFICE_NAME",
        "Văn phòng Điều phối Nông thôn mới tỉnh Lâm Đồng",
        str,
        "The province OCOP office, as it signs expiry letters.",
    ),
    Setting("OFFICE_PLACE", "Lâm Đồng", str, "Place name on the office's letters."),
    Setting(
        "SMTP_HOST",
        "",
        str,
        "Mail server for expiry notices; empty: e-mails wait (pending) until one is set.",
    ),
    Setting("SMTP_PORT", 25, _positive_int, "Mail server port."),
    Setting("SMTP_USERNAME", "", str, "Mail server login, if it needs one."),
    Setting("SMTP_PASSWORD", "", str, "Mail server password."),
    Setting("SMTP_STARTTLS", False, _bool, "Upgrade the mail connection with STARTTLS."),
    Setting("MAIL_FROM", "OCOP <ocop@localhost>", str, "Sender of expiry notices."),
    Setting(
        "WEBHOOK_URL",
        "",
        str,
        "Where expiry notices are also POSTed as JSON; empty: no webhook.",
    ),
    Setting(
        "WEBHOOK_SECRET",
        "",
        str,
        "Key of the `X-OCOP-Signature: sha256=<HMAC of the body>` header on webhooks.",
    ),
    Setting(
        "DELIVERY_MAX_ATTEMPTS", 6, _positive_int, "Tries per notice and channel before giving up."
    ),
    Setting(
        "DELIVERY_RETRY_SECONDS",
        300,
        _positive_int,
        "Wait before the first retry; it doubles after every failed try.",
    ),
    Setting(
        "MAX_YIELDS",
        {},
        _yields,
        "JSON object of maximum yields by process, over the built-in ones "
        '(`trace_service/trace/rules.py`), e.g. `{"roasting": 0.85}`.',
    ),
    Setting(
        "EPCIS_SCHEMA",
        "",
        str,
        "Path of GS1's EPCIS 2.0 JSON schema, which EPCIS imports are checked against; "
        "empty: the copy shipped in `trace_service/trace/gs1/`.",
    ),
    Setting(
        "KEYS_DIR",
        "",
        str,
        "Directory of the label-signing keys (made 0700); empty: `keys/` beside `trace_service/`.",
    ),
    Setting(
        "KEYS_PASSPHRASE",
        "",
        str,
        "Passphrase that encrypts the private keys (long and random; `scripts/run` makes one "
        "in `instance/` for development). Empty: labels cannot be signed.",
    ),
    Setting(
        "TRUST_LIST_TTL_DAYS",
        30,
        _positive_int,
        "Days a published trust list stays valid (`expires_at`); verifiers call older lists "
        "stale. The service signs the next version once half of it has passed.",
    ),
    Setting(
        "OFFLINE_STALE_AFTER_DAYS",
        7,
        _positive_int,
        "Days after which the inspectors' offline page shows its data in amber as old.",
    ),
    Setting(
        "OFFLINE_SNAPSHOT_TTL_DAYS",
        30,
        _positive_int,
        "Days an offline snapshot stays valid (`expires_at`); a new version is signed once "
        "half of it has passed, or sooner when the data changed.",
    ),
    Setting(
        "OFFLINE_SNAPSHOT_CHECK_SECONDS",
        60,
        _non_negative_int,
        "How often (at most) serving the offline snapshot looks for changed data; 0: at "
        "every request. A certificate decision in this process is seen at once.",
    ),
    Setting(
        "OFFLINE_SNAPSHOT_DIR",
        "",
        str,
        "Where signed offline snapshots are kept, one file per version (deltas are made "
        "between them); empty: `instance/offline/`.",
    ),
    Setting(
        "LABEL_BASE_URL",
        "",
        str,
        "Scheme and host printed in label QR codes (https; http only for localhost); "
        "empty: `OCOP_PUBLIC_BASE_URL`.",
    ),
    Setting(
        "LABEL_FILES_DIR",
        "",
        str,
        "Where print-run files (A4 PDF, thermal ZPL) are kept; empty: `instance/print_runs/`.",
    ),
    Setting(
        "LABEL_BUILD",
        "background",
        _build_mode,
        "`background`: print-run files are drawn in a thread after the order is saved; "
        "`inline`: within the request (tests, scripts).",
    ),
    Setting(
        "LABEL_BUILD_THREADS",
        2,
        _positive_int,
        "Builder threads per web process for background builds; further orders wait in a "
        "queue (status `queued`).",
    ),
    Setting(
        "LABEL_BUILD_LEASE_SECONDS",
        300,
        _positive_int,
        "How long a print run's builder may go without reporting progress before another "
        "takes the run over and finishes it from the same labels (a builder reports every "
        "page, well under a second).",
    ),
    Setting(
        "SCHEDULER",
        False,
        _bool,
        "Run the daily expiry sweep and deliveries inside the web process "
        "(single-machine installs; else use cron or a systemd timer).",
    ),
    Setting(
        "SCHEDULER_TIME",
        "06:00",
        str,
        "Vietnam time of day (HH:MM) at which the in-process scheduler sweeps.",
    ),
    Setting(
        "REDIS_URL",
        "",
        _redis_url,
        "Redis that holds the rate-limit counters shared by every worker and the job queue "
        "(print-run builds, notices, the daily sweep and the offline snapshot run on "
        "`flask jobs worker` processes), e.g. `redis://127.0.0.1:6379/0`; empty: each process "
        "counts on its own and runs jobs itself. If it cannot be reached, each process counts "
        "on its own and builds in-process (a warning is logged) until it can.",
    ),
    Setting(
        "REDIS_KEY_PREFIX",
        "ocop",
        str,
        "Prefix of the service's keys in Redis (several installations may share one Redis).",
    ),
    Setting(
        "RATE_LIMIT_SCALE",
        1,
        _positive_int,
        "Multiplies what every rate limit allows (benchmarks and load tests); 1 in production.",
    ),
    Setting(
        "SIGN_IN_MAX_FAILURES",
        10,
        _positive_int,
        "Wrong passwords for one account within `OCOP_SIGN_IN_WINDOW_SECONDS` before its "
        "sign-ins answer 429 for a while.",
    ),
    Setting(
        "SIGN_IN_MAX_FAILURES_PER_CLIENT",
        50,
        _positive_int,
        "Failed sign-ins from one client address (an IPv6 /64) within the window before that "
        "address's sign-ins answer 429 until the window frees up.",
    ),
    Setting(
        "SIGN_IN_WINDOW_SECONDS",
        900,
        _positive_int,
        "The window in which failed sign-ins are counted.",
    ),
    Setting(
        "SIGN_IN_FIRST_WAIT_SECONDS",
        60,
        _positive_int,
        "Wait after an account's failures reach the limit; it doubles with every further failure.",
    ),
    Setting(
        "SIGN_IN_MAX_WAIT_SECONDS",
        3600,
        _positive_int,
        "Longest wait an account's failures can impose (back-off, never a permanent lock).",
    ),
    Setting(
        "TRUSTED_PROXIES",
        0,
        _non_negative_int,
        "Number of reverse proxies in front of the service whose `X-Forwarded-For` and "
        "`X-Forwarded-Proto` are believed; 0: the client address is the socket's.",
    ),
    Setting(
        "TRUSTED_HOSTS",
        "",
        _hosts,
        "Host names requests may be addressed to, comma-separated (`.ocop.vn`: every "
        "subdomain; `*`: any, when a proxy in front checks them); any other `Host` header "
        "gets 400, so no link the service builds names a host a client chose. Empty: the "
        "hosts of `OCOP_LABEL_BASE_URL` and `OCOP_PUBLIC_BASE_URL`, `localhost` and "
        "`127.0.0.1`.",
    ),
    Setting(
        "HOTLINE",
        "",
        str,
        "Phone number shoppers call about a stamp or product (a `tel:` link beside the report "
        "form), e.g. `0263 3822 000`; empty: no hotline is shown.",
    ),
    Setting(
        "SECRET_KEY",
        "",
        str,
        "Key that signs the web pages' session cookies and form tokens (long and random; "
        "the same on every instance). Empty: one is made once in `instance/secret-key`.",
    ),
    Setting(
        "LABEL_COPY_MAX_SCANS",
        300,
        _positive_int,
        "A stamp whose page was viewed more times than this is flagged as possibly copied "
        "(a client's reloads within 10 minutes count once; the page's \"checked N times\" "
        "shows every view).",
    ),
    Setting(
        "LABEL_COPY_MAX_CLIENTS",
        10,
        _positive_int,
        "A stamp viewed by more distinct clients (address hashes) than this within "
        "`OCOP_LABEL_COPY_WINDOW_HOURS` is flagged as possibly copied.",
    ),
    Setting(
        "LABEL_COPY_WINDOW_HOURS",
        168,
        _positive_int,
        "The window for `OCOP_LABEL_COPY_MAX_CLIENTS`, in hours.",
    ),
    Setting(
        "SCAN_RETENTION_DAYS",
        400,
        _positive_int,
        "Days the scan log keeps each page view; `flask labels prune-scans` deletes older "
        "ones (the counters beside each stamp stay).",
    ),
)


def load_settings(overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, then ``OCOP_*`` environment variables, then ``overrides``."""
    values: dict[str, Any] = {}
    for setting in SETTINGS:
        value = setting.default
        raw = os.environ.get(setting.env)
        if raw is not None:
            try:
                value = setting.parse(raw)
            except ValueError as exc:
                raise ConfigError(f"{setting.env}: {exc}") from exc
        values[setting.name] = value
    if overrides:
        values.update(overrides)
    return values
