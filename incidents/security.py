"""Per-request user loading, trusted proxies, and the response headers every answer carries."""

from __future__ import annotations

import secrets

from flask import Flask, current_app, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from incidents.auth.permissions import load_current_user

HSTS_MAX_AGE = 365 * 24 * 3600


def _nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def _headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    # Scripts only from this origin or with this response's nonce: review text can never run.
    response.headers.setdefault(
        "Content-Security-Policy",
        f"default-src 'self'; script-src 'self' 'nonce-{_nonce()}'; style-src 'self' "
        "'unsafe-inline'; img-src 'self' data:; object-src 'none'; base-uri 'self'; "
        "frame-ancestors 'none'; form-action 'self'",
    )
    if current_app.config.get("HTTPS_ONLY"):
        response.headers.setdefault("Strict-Transport-Security",
                                    f"max-age={HSTS_MAX_AGE}; includeSubDomains")
    signed_in = g.get("user") is not None or g.get("api_token") is not None
    if signed_in and request.endpoint != "static":
        # What a signed-in person or a token sees (a new token above all) stays out of
        # browser and proxy caches, so the next user of a shared machine cannot go Back to it.
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app: Flask) -> None:
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops:
        # Believe X-Forwarded-For/-Proto from exactly this many proxies in front of the app
        # (the client's address then feeds sign-in throttling); never the forwarded host:
        # absolute links come from PUBLIC_BASE_URL.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0,
                                x_prefix=0)
    app.before_request(load_current_user)
    app.after_request(_headers)
    app.jinja_env.globals["csp_nonce"] = _nonce
