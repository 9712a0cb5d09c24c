"""Absolute links to the app, from PUBLIC_BASE_URL only.

A link built from the request's Host header points wherever the sender of that header likes
(`Host: attacker.example`): an API client following such a `next` link would hand its bearer
token to that host. Every absolute link the app gives out is made here instead.
"""

from __future__ import annotations

from flask import current_app, has_request_context, request, url_for


def public_url(endpoint: str, **values) -> str:
    """The absolute URL of `endpoint` under PUBLIC_BASE_URL."""
    path = url_for(endpoint, **values)
    # url_for includes the mount point the request came through; PUBLIC_BASE_URL names it too.
    root = request.script_root if has_request_context() else ""
    if root and path.startswith(root):
        path = path[len(root):]
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path
