"""Work that runs after Slack has its answer: a small thread pool per app.

Each task runs in its own app context and opens its own short database sessions, so nothing
from the request that queued it (its session, its objects) is shared across threads.
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait

from flask import Flask, current_app

log = logging.getLogger(__name__)

WORKERS = 4
_lock = threading.Lock()


class _Pool:
    def __init__(self) -> None:
        self.executor = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="slack")
        self.pending: set[Future] = set()


def _pool(app: Flask) -> _Pool:
    with _lock:
        pool = app.extensions.get("slackbot.pool")
        if pool is None:
            pool = app.extensions["slackbot.pool"] = _Pool()
        return pool


def submit(fn, /, *args, **kwargs) -> Future:
    """Run `fn(*args, **kwargs)` after the response, inside an app context of its own."""
    app = current_app._get_current_object()
    pool = _pool(app)
    future = pool.executor.submit(_run, app, fn, args, kwargs)
    with _lock:
        pool.pending.add(future)
    future.add_done_callback(lambda done: _forget(pool, done))
    return future


def _forget(pool: _Pool, future: Future) -> None:
    with _lock:
        pool.pending.discard(future)


def _run(app: Flask, fn, args, kwargs) -> None:
    with app.app_context():
        try:
            fn(*args, **kwargs)
        except Exception:
            log.exception("background Slack task %s failed", getattr(fn, "__name__", fn))


def drain(app: Flask, timeout: float = 30) -> bool:
    """Wait for queued work to finish (tests, shutdown); False if some is still running."""
    pool = app.extensions.get("slackbot.pool")
    if pool is None:
        return True
    deadline = time.monotonic() + timeout
    while True:  # a task may queue another (a notice after a change), so wait until none is left
        with _lock:
            pending = set(pool.pending)
        if not pending:
            return True
        _, not_done = wait(pending, timeout=max(0.0, deadline - time.monotonic()))
        if not_done:
            return False
