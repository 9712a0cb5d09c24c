"""Reads never hold writers up: a slow page (reading, or rendering after its request's work)
does not stall a hook delivery arriving meanwhile. On SQLite this is the write lock; the same
tests run on PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest
import requests
from flask import render_template_string
from sqlalchemy import func, select

from incidents.appdb import get_session
from incidents.db import utcnow
from incidents.incident.models import Incident
from incidents.line.models import Station

HOLD = 10  # the slow request holds this long at most; a stalled writer would wait as long


@pytest.fixture
def slow(app):
    """Test-only routes that park mid-request until released; `entered` says they got there."""
    state = {"entered": threading.Event(), "release": threading.Event()}

    def park() -> str:
        state["entered"].set()
        assert state["release"].wait(HOLD)
        return ""

    app.jinja_env.globals["park"] = park
    app.jinja_env.globals["stations"] = lambda: get_session().scalar(
        select(func.count()).select_from(Station))

    def slow_read():
        count = get_session().scalar(select(func.count()).select_from(Incident))
        park()
        return f"{count} incidents"

    def slow_form():
        get_session().scalar(select(func.count()).select_from(Station))  # a form's look-ups
        return render_template_string("form with errors {{ park() }}"), 400

    def slow_after_write():
        session = get_session()
        session.get(Station, 1).catches = f"edited {utcnow()}"
        session.commit()
        return render_template_string("saved; {{ stations() }} stations {{ park() }}")

    app.add_url_rule("/test/slow-read", view_func=slow_read)
    app.add_url_rule("/test/slow-form", view_func=slow_form, methods=["POST"])
    app.add_url_rule("/test/slow-after-write", view_func=slow_after_write, methods=["POST"])
    yield state
    state["release"].set()


@pytest.mark.parametrize("method, path", [("GET", "/test/slow-read"),
                                          ("POST", "/test/slow-form"),
                                          ("POST", "/test/slow-after-write")])
def test_a_slow_request_does_not_stall_a_hook_delivery(live_server, slow, make_token, session,
                                                       method, path):
    token = make_token("hooks")
    answers: list[int] = []
    parked = threading.Thread(target=lambda: answers.append(
        requests.request(method, live_server + path, timeout=HOLD + 5).status_code))
    parked.start()
    assert slow["entered"].wait(HOLD)
    started = time.monotonic()
    delivered = requests.post(f"{live_server}/hooks/generic", timeout=HOLD - 2, headers={
        "Authorization": f"Bearer {token}"}, json={
        "dedup_key": "while-slow", "status": "trigger", "title": "Arrived during a slow page"})
    took = time.monotonic() - started
    slow["release"].set()
    parked.join(HOLD + 5)
    assert delivered.status_code == 200, delivered.text
    assert took < 3, f"the delivery waited {took:.1f} s for the slow request"
    assert answers and answers[0] < 500
    session.rollback()
    assert session.scalar(select(Incident.title).where(Incident.dedup_key == "while-slow"))
