"""Tracker credentials at rest: encrypted with a key derived from SECRET_KEY.

A database dump alone yields no usable tracker token; the app server's SECRET_KEY is needed
too. Changing SECRET_KEY makes stored credentials unreadable: they must be entered again
(the admin page says so), or come from the environment instead.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from flask import current_app

# A fixed label keeps this key apart from any other use of SECRET_KEY.
_CONTEXT = b"linecheck tracker credentials v1"


def _fernet() -> Fernet:
    secret = current_app.config["SECRET_KEY"].encode()
    key = hashlib.sha256(_CONTEXT + b"\x00" + secret).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(plain: str) -> str:
    return _fernet().encrypt(plain.encode()).decode()


def open_(sealed: str) -> str | None:
    """The credential, or None when it was sealed under another SECRET_KEY."""
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None


def hint(plain: str) -> str:
    """Enough to recognise a credential in a list, never enough to use it."""
    return "…" + plain[-4:] if len(plain) >= 12 else "…"
