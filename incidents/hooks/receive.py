"""Reading a hook delivery: the raw body within the size limit, then JSON.

Every hook (paging tools, trackers, CI, changes) reads its body through here, so each refuses
an oversized, non-UTF-8 or malformed body the same way, before anything is written.
"""

from __future__ import annotations

import json

from flask import current_app, request
from werkzeug.exceptions import RequestEntityTooLarge

from incidents.hooks.events import BadPayload


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
