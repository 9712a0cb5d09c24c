"""Reading a hook delivery: the raw body within the size limit, then JSON; and the log of
deliveries a hook refused.

Every hook (paging tools, trackers, CI, changes) reads its body through here, so each refuses
an oversized, non-UTF-8 or malformed body the same way, before anything is written; and each
wraps its work in `rejections_logged(sender)`, so an admin sees why a sender's deliveries
never arrived (401, 400, 413…, with the reason and time) beside the accepted ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app, request
from sqlalchemy import delete, select
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, Unauthorized

from incidents.appdb import get_session
from incidents.db import utcnow
from incidents.errors import DomainError
from incidents.hooks import signatures
from incidents.hooks.events import BadPayload, clip
from incidents.inbox.models import RejectedDelivery

KEEP_REJECTED = 50  # per sender: the log shows what went wrong lately, it is no archive


def raw_body() -> bytes:
    """The request body; 413 past MAX_CONTENT_LENGTH, with or without a Content-Length."""
    raw = request.get_data(cache=True)  # 413 at once when Content-Length is over the limit
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    # Without a Content-Length (chunked), Werkzeug stops reading at the limit instead of
    # refusing: a body that fills the limit was cut short, so it is too large.
    if request.content_length is None and limit is not None and len(raw) >= limit:
        raise RequestEntityTooLarge()
    return raw


def parse_json(raw: bytes):
    """The body as JSON; BadPayload (400) naming what is wrong with it."""
    if not raw.strip():
        raise BadPayload("request body is empty; expected a JSON object", field="body")
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise BadPayload("request body is not UTF-8 text", field="body") from None
    except json.JSONDecodeError as exc:
        raise BadPayload(f"request body is not valid JSON: {exc.msg} at line {exc.lineno} "
                         f"column {exc.colno}", field="body") from None
    except ValueError as exc:  # e.g. an integer past Python's 4300-digit limit
        raise BadPayload(f"request body is not usable JSON: {exc}", field="body") from None
    except RecursionError:
        raise BadPayload("request body is nested too deeply", field="body") from None


@contextmanager
def rejections_logged(sender: str) -> Iterator[None]:
    """Run a hook's work; a refusal (an HTTP error or a domain error) is logged, then raised."""
    try:
        yield
    except HTTPException as exc:
        log_rejection(sender, exc.code or 400, exc.description or exc.name)
        raise
    except DomainError as exc:
        log_rejection(sender, exc.status, exc.message)
        raise


def log_rejection(sender: str, status: int, reason: str) -> None:
    """Record a refused delivery in its own short transaction, keeping the newest few.

    Whatever the request had begun is rolled back first: the refusal writes nothing else, and
    on SQLite this transaction must not wait on the request's own lock.
    """
    session = get_session()
    session.rollback()
    session.add(RejectedDelivery(sender=sender, status=status, received_at=utcnow(),
                                 reason=clip(reason.replace("\x00", ""), 300) or str(status)))
    session.flush()
    oldest_kept = (select(RejectedDelivery.id).where(RejectedDelivery.sender == sender)
                   .order_by(RejectedDelivery.id.desc()).offset(KEEP_REJECTED - 1).limit(1)
                   .scalar_subquery())
    session.execute(delete(RejectedDelivery).where(RejectedDelivery.sender == sender,
                                                   RejectedDelivery.id < oldest_kept))
    session.commit()


def rejected(*, session, sender: str, limit: int = 10) -> list[RejectedDelivery]:
    """The sender's most recent refused deliveries, newest first."""
    return list(session.scalars(select(RejectedDelivery).where(RejectedDelivery.sender == sender)
                                .order_by(RejectedDelivery.id.desc()).limit(limit)))


def json_object(raw: bytes) -> dict:
    """The body as a JSON object; BadPayload (400) for anything else."""
    body = parse_json(raw)
    if not isinstance(body, dict):
        raise BadPayload("body must be a JSON object", field="body")
    return body


def verify_hmac(raw: bytes, *, setting: str, header: str, prefix: str, sender: str) -> None:
    """Raise 401 unless `header` carries the HMAC-SHA256 of the body under a secret of the
    comma-separated `setting` (unset: every delivery is refused)."""
    configured = signatures.secrets(current_app.config.get(setting))
    if not configured:
        raise Unauthorized(f"{sender} deliveries are refused: {setting} is not set")
    offered = request.headers.get(header)
    if not offered:
        raise Unauthorized(f"missing {header}")
    digest = [offered[len(prefix):]] if offered.startswith(prefix) else []
    if not signatures.hmac_sha256_matches(configured, raw, digest):
        raise Unauthorized(f"{header} does not match this body under the configured secret")
