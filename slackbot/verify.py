"""Slack request signatures: every request to /slack/* proves it came from Slack."""

from __future__ import annotations

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
