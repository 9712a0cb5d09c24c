"""Shared-secret checks for signed hooks: HMAC-SHA256 of the raw body, or a token compared whole.

Every comparison is constant-time and runs over every configured secret (a rotation lists the
old and the new one, comma-separated), so the time taken says nothing about which matched.
Headers are compared as bytes: a header with characters outside ASCII simply does not match.
"""

from __future__ import annotations

import hashlib
import hmac


def secrets(setting: str | None) -> list[str]:
    """The secrets of a comma-separated setting, blanks dropped."""
    return [part.strip() for part in (setting or "").split(",") if part.strip()]


def hmac_sha256_matches(configured: list[str], raw: bytes, offered: list[str]) -> bool:
    """True when an offered hex digest is the HMAC-SHA256 of `raw` under a configured secret."""
    if not configured or not offered:
        return False
    expected = [hmac.new(s.encode(), raw, hashlib.sha256).hexdigest().encode()
                for s in configured]
    given = [o.strip().lower().encode("utf-8", "replace") for o in offered]
    return any([hmac.compare_digest(e, g) for e in expected for g in given])


def token_matches(configured: list[str], offered: str | None) -> bool:
    """True when the offered token is one of the configured ones."""
    if not configured or not offered:
        return False
    given = offered.encode("utf-8", "replace")
    return any([hmac.compare_digest(s.encode(), given) for s in configured])
