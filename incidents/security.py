"""Per-request user loading and the response headers every page carries."""

from __future__ import annotations

import secrets

from flask import Flask, g

from incidents.auth.permissions import load_current_user


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
    return response


def init_app(app: Flask) -> None:
    app.before_request(load_current_user)
    app.after_request(_headers)
    app.jinja_env.globals["csp_nonce"] = _nonce
