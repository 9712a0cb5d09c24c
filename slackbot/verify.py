"""Slack request signatures: every request to /slack/* proves it came from Slack."""

from __future__ import annotations

import hashlib

from flask import abort, current_app, request
from slack_sdk.signature import SignatureVerifier


def verified_body() -> bytes:
    """Return the raw request body, or answer 401 unless Slack signed it within five minutes.

    slack-sdk's verifier checks `v0:<timestamp>:<body>` HMAC-SHA256 against X-Slack-Signature
    and refuses timestamps more than five minutes off (replays). Without a configured signing
    secret nothing can be verified, so everything is refused.
    """
    secret = current_app.config.get("SLACK_SIGNING_SECRET") or ""
    body = request.get_data(cache=True)
    if not secret.strip():
        abort(401, description="Slack signing secret is not configured")
    try:
        valid = SignatureVerifier(secret).is_valid_request(body, dict(request.headers))
    except ValueError:  # a timestamp header that is not a number
        valid = False
    if not valid:
        abort(401, description="invalid Slack signature or stale timestamp")
    return body


def replay_key(body: bytes) -> str:
    """The identity of one signed request: its timestamp and body. Slack signs each request it
    sends anew, so the same key twice is the same request replayed (within the five minutes the
    signature is accepted), never a second command."""
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    return "sha256:" + hashlib.sha256(timestamp.encode() + b":" + body).hexdigest()
