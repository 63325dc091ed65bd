"""Rate limits, keyed on the real client, kept where every worker sees them (Redis when workers share one).

Two kinds, both with the kept ``limits`` library underneath Flask-Limiter:

- Route limits (Flask-Limiter decorators): sign-in attempts per client and per account,
  customers' feedback per client.
- Misses (:class:`MissLimiter`): failed tracking-token lookups per client. Only misses count:
  a customer re-opening their own link is never slowed; a client that keeps guessing is answered
  429 for the rest of the minute. Each client has its own allowance, so a scanner locks out only
  itself.

"A client" is the real one: behind a trusted proxy, the address it forwarded (web.hardening
applies Werkzeug's ProxyFix for ``--trusted-proxies``).
"""

from __future__ import annotations

import flask
from flask_limiter import Limiter
from limits import RateLimitItemPerMinute
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

MISSES_PER_MINUTE = 30
SIGN_INS_PER_MINUTE = 10


def client_key() -> str:
    """Return the client of the current request (its address, as the trusted proxy forwarded it)."""
    return flask.request.remote_addr or "?"


def account_key() -> str:
    """Return the account a sign-in attempt names."""
    return "account:" + str(flask.request.form.get("user", ""))[:100].lower()


# Route limits: declared beside their routes, stored as configured by init_app (RATELIMIT_STORAGE_URI).
limiter = Limiter(key_func=client_key, default_limits=[], headers_enabled=True)


def storage_uri(redis_url: str | None) -> str:
    """Return where limits are counted: the workers' Redis when they share one, else this process's memory."""
    return redis_url if redis_url else "memory://"


class MissLimiter:
    """Counts failed lookups per client in a moving one-minute window."""

    def __init__(self, uri: str = "memory://", per_minute: int = MISSES_PER_MINUTE) -> None:
        self._window = MovingWindowRateLimiter(storage_from_string(uri))
        self._item = RateLimitItemPerMinute(per_minute)

    def blocked(self, client: str) -> bool:
        """Tell whether ``client`` used up its misses for this minute."""
        return not self._window.test(self._item, "tf-misses", client)

    def miss(self, client: str) -> None:
        """Count one failed lookup by ``client``."""
        self._window.hit(self._item, "tf-misses", client)
