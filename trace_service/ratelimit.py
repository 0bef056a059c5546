"""Rate limits: counters shared by every worker through Redis, or kept in each process.

Built on `limits` (the storage and moving-window code behind Flask-Limiter, by the same
maintainer): with ``OCOP_REDIS_URL`` set, every gunicorn worker counts in the same Redis;
without it, or while that Redis cannot be reached, each process counts on its own (a
warning is logged, Redis is tried again after ``RECHECK_SECONDS``): a limit may then let a
little more through, but no request fails because of it.

What the rest of the service uses:

- ``rate_limits()``: the app's :class:`RateLimits`, with moving windows (``hit``, ``test``,
  ``retry_after``, ``clear``) and plain expiring numbers (``get``, ``put``, ``delete``);
  ``auth/signin.py`` builds the sign-in throttle on it.
- ``limit(name, amount, per_seconds)``: a view decorator; more than ``amount`` requests
  from one client within ``per_seconds`` answer 429 with ``Retry-After``
  (``check_client_limit`` does the same from inside a view).
- ``client_address()`` (the socket's address, or the one ``ProxyFix`` took from
  ``X-Forwarded-For`` when ``OCOP_TRUSTED_PROXIES`` is set) and ``client_key(address)``,
  the key a client is counted under (an IPv6 address counts as its /64).
"""

from __future__ import annotations

import ipaddress
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, Response, current_app, has_request_context, request
from limits import RateLimitItem, RateLimitItemPerSecond
from limits.errors import ConfigurationError, StorageError
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

from trace_service.config import ConfigError
from trace_service.errors import DomainError, error_response

log = logging.getLogger(__name__)

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])

EXTENSION = "ocop_rate_limits"
# After a Redis error, count in memory this long before trying Redis again, so a dead Redis
# costs one failed connection per process and interval, not one per request.
RECHECK_SECONDS = 30.0
# A Redis that does not answer within this is treated as down (never a slow request).
REDIS_TIMEOUT_SECONDS = 0.5


@dataclass(frozen=True)
class Rate:
    """``amount`` events within any ``seconds``-long moving window."""

    amount: int
    seconds: int


class TooManyRequests(DomainError):
    """429: the client must wait ``retry_after`` seconds (sent as ``Retry-After``)."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, message_en: str, *, retry_after: int) -> None:
        super().__init__(message, message_en)
        self.retry_after = max(1, int(retry_after))


def wait_words(seconds: int) -> tuple[str, str]:
    """``seconds`` as a person reads a wait, in Vietnamese and English."""
    if seconds < 120:
        return f"{seconds} giây", f"{seconds} seconds"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} phút", f"{minutes} minutes"


def too_many_requests(retry_after: int) -> TooManyRequests:
    vi, en = wait_words(retry_after)
    return TooManyRequests(
        f"Quá nhiều yêu cầu; vui lòng thử lại sau {vi}.",
        f"Too many requests; try again in {en}.",
        retry_after=retry_after,
    )


class _InlineExpiryMemory(MemoryStorage):
    """``limits``' memory storage with its clean-up run inline, at most once a second. The
    library's own starts a 10 ms timer thread from nearly every hit: a thread started per
    page view in a busy worker. The clean-up only frees memory (a moving window reads its
    entries' times itself), so doing it later changes no answer."""

    EVERY_SECONDS = 1.0

    def __init__(self) -> None:
        super().__init__()
        self._next_expiry = 0.0

    def _MemoryStorage__schedule_expiry(self) -> None:  # the hook the library calls
        now = time.monotonic()
        if now >= self._next_expiry:
            self._next_expiry = now + self.EVERY_SECONDS
            self._MemoryStorage__expire_events()  # type: ignore[attr-defined]


class RateLimits:
    """Moving windows and expiring numbers in Redis (shared) or in this process's memory.

    ``scale`` multiplies every window's allowance (benchmarks); ``clock`` is the time used
    for the values callers store as times (the sign-in back-off), and tests move it.
    """

    def __init__(
        self,
        redis_url: str = "",
        *,
        prefix: str = "ocop",
        scale: int = 1,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.scale = scale
        self.clock = clock
        self._memory = _InlineExpiryMemory()
        self._memory_windows = MovingWindowRateLimiter(self._memory)
        self._redis: RedisStorage | None = None
        self._redis_windows: MovingWindowRateLimiter | None = None
        self._redis_down_until = 0.0
        self._lock = threading.Lock()
        if redis_url:
            try:
                self._redis = RedisStorage(
                    redis_url,
                    key_prefix=prefix,
                    wrap_exceptions=True,
                    socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                    socket_timeout=REDIS_TIMEOUT_SECONDS,
                )
            except (ValueError, ConfigurationError) as exc:
                raise ConfigError(f"OCOP_REDIS_URL: {exc}") from exc
            self._redis_windows = MovingWindowRateLimiter(self._redis)

    @property
    def shared(self) -> bool:
        """Whether counts are in Redis now (False: per process, by choice or by fallback)."""
        return self._redis is not None and time.monotonic() >= self._redis_down_until

    def _run(self, operation: Callable[[Storage, MovingWindowRateLimiter], T]) -> T:
        if self._redis is not None and self._redis_windows is not None and self.shared:
            try:
                return operation(self._redis, self._redis_windows)
            except (StorageError, RedisError) as exc:
                with self._lock:
                    first = self.shared
                    self._redis_down_until = time.monotonic() + RECHECK_SECONDS
                if first:
                    log.warning(
                        "Redis (OCOP_REDIS_URL) cannot be reached (%s): rate limits are "
                        "counted per process for the next %d s",
                        getattr(exc, "storage_error", exc),
                        RECHECK_SECONDS,
                    )
        return operation(self._memory, self._memory_windows)

    def _item(self, rate: Rate) -> RateLimitItem:
        return RateLimitItemPerSecond(rate.amount * self.scale, rate.seconds)

    # Moving windows ------------------------------------------------------------------------

    def hit(self, rate: Rate, *key: str) -> bool:
        """Count one event; False (and not counted) when the window is already full."""
        return self._run(lambda _s, windows: windows.hit(self._item(rate), *key))

    def test(self, rate: Rate, *key: str) -> bool:
        """Whether one more event would fit in the window (counts nothing)."""
        return self._run(lambda _s, windows: windows.test(self._item(rate), *key))

    def retry_after(self, rate: Rate, *key: str) -> int:
        """Whole seconds until the window has room again (at least 1)."""
        stats = self._run(lambda _s, windows: windows.get_window_stats(self._item(rate), *key))
        return max(1, math.ceil(stats.reset_time - time.time()))

    def clear(self, rate: Rate, *key: str) -> None:
        self._run(lambda _s, windows: windows.clear(self._item(rate), *key))

    # Expiring numbers ----------------------------------------------------------------------

    @staticmethod
    def _value_key(key: tuple[str, ...]) -> str:
        return "/".join(("VALUE", *key))

    def get(self, *key: str) -> int:
        """The number stored under ``key``, 0 when none is (or it has expired)."""
        return self._run(lambda storage, _w: int(storage.get(self._value_key(key))))

    def put(self, value: int, ttl_seconds: int, *key: str) -> None:
        """Store ``value`` (a positive whole number) under ``key`` for ``ttl_seconds``."""
        name = self._value_key(key)

        def write(storage: Storage, _w: MovingWindowRateLimiter) -> None:
            storage.clear(name)  # incr sets the expiry only on a new key
            storage.incr(name, max(1, int(ttl_seconds)), int(value))

        self._run(write)

    def delete(self, *key: str) -> None:
        self._run(lambda storage, _w: storage.clear(self._value_key(key)))

    def reset(self) -> None:
        """Forget every count of this installation (its prefix in Redis); for tests."""
        self._memory.reset()
        self._run(lambda storage, _w: storage.reset())


def init_rate_limits(app: Flask) -> RateLimits:
    limits = RateLimits(
        app.config["REDIS_URL"],
        prefix=app.config["REDIS_KEY_PREFIX"],
        scale=app.config["RATE_LIMIT_SCALE"],
    )
    app.extensions[EXTENSION] = limits
    app.register_error_handler(TooManyRequests, _too_many_requests_response)
    return limits


def rate_limits(app: Flask | None = None) -> RateLimits:
    return (app or current_app).extensions[EXTENSION]


def _too_many_requests_response(error: TooManyRequests) -> Response:
    return error_response(
        error.status,
        error.code,
        error.message,
        error.message_en,
        headers={"Retry-After": str(error.retry_after)},
    )


def client_address() -> str:
    """The requesting client's address: the socket's, or the one ProxyFix took from
    ``X-Forwarded-For`` when ``OCOP_TRUSTED_PROXIES`` names the proxies in front."""
    if not has_request_context():
        return "local"
    return request.remote_addr or "unknown"


def client_key(address: str) -> str:
    """The key a client is counted under: an IPv4 address as it is, an IPv6 address by its
    /64 (one household or server usually holds a whole /64)."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return address.strip()[:64] or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{ip}/64", strict=False))
    return str(ip)


def check_client_limit(name: str, rate: Rate, address: str | None = None) -> None:
    """Count one request of ``name`` from the client; raise 429 when it is over ``rate``."""
    limits = rate_limits()
    key = ("client", name, client_key(address or client_address()))
    if not limits.hit(rate, *key):
        raise too_many_requests(limits.retry_after(rate, *key))


def limit(name: str, amount: int, per_seconds: int) -> Callable[[F], F]:
    """Let one client call the view at most ``amount`` times within ``per_seconds``."""
    rate = Rate(amount, per_seconds)

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            check_client_limit(name, rate)
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
