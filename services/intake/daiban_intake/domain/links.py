"""Short-lived signed links to the printable pages (receipt, one-time notice).

A clerk prints from a plain browser tab, which sends no Authorization header. So the `receipt_url`
and `notice_url` intake answers carry `?expires=<unix seconds>&sig=<hex HMAC-SHA256>` over the
page's path and the expiry: whoever holds the link may open that one page until it expires, and
nothing else. The key is derived from the node's JWT secret, so nothing new has to be configured,
and a link never doubles as a token (nor a token as a link).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlencode

LINK_TTL_SECONDS: Final = 15 * 60
# Separates this use of the JWT secret from every other one.
_PURPOSE: Final = b"daiban-intake-print-link-v1"


def link_key(jwt_secret: str) -> bytes:
    return hmac.new(jwt_secret.encode(), _PURPOSE, hashlib.sha256).digest()


@dataclass(frozen=True)
class LinkSigner:
    key: bytes
    ttl_seconds: int = LINK_TTL_SECONDS

    def _sig(self, path: str, expires: int) -> str:
        return hmac.new(self.key, f"{expires}\n{path}".encode(), hashlib.sha256).hexdigest()

    def sign(self, path: str, *, now: float) -> str:
        """`path` with the query that opens it without a token until `now` + the TTL."""
        expires = int(now) + self.ttl_seconds
        return f"{path}?{urlencode({'expires': expires, 'sig': self._sig(path, expires)})}"

    def valid(self, path: str, *, expires: int, sig: str, now: float) -> bool:
        """Whether `sig` was made for exactly `path` and `expires`, and that time has not passed."""
        return now < expires and hmac.compare_digest(
            self._sig(path, expires).encode(), sig.encode(errors="replace")
        )
