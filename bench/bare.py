"""The yardstick: a bare Flask app that verifies the same signatures and inserts one row.

Same database, same engine settings (incidents.db.make_engine), nothing else: the floor any
real handler is compared with. Served in-process (Slack) or by gunicorn (PagerDuty):
`gunicorn "bench.bare:create_bare_app()"` reads DATABASE_URL and the two secrets.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from flask import Flask, abort, jsonify, request
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, func, insert

from incidents.db import make_engine

metadata = MetaData()
deliveries = Table(
    "bench_bare_deliveries", metadata,
    Column("id", Integer, primary_key=True),
    Column("sender", String(40)),
    Column("body", String),
    Column("received_at", DateTime(timezone=True), server_default=func.now()),
)


def create_bare_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update({name: os.environ.get(name, "") for name in (
        "DATABASE_URL", "SLACK_SIGNING_SECRET", "PAGERDUTY_WEBHOOK_SECRET")})
    app.config.update(config or {})
    engine = make_engine(app.config["DATABASE_URL"])
    metadata.create_all(engine)
    verifier = SignatureVerifier(app.config["SLACK_SIGNING_SECRET"])
    pagerduty_key = app.config["PAGERDUTY_WEBHOOK_SECRET"].encode()

    def record(sender: str) -> None:
        with engine.begin() as conn:
            conn.execute(insert(deliveries), {"sender": sender,
                                              "body": request.get_data(as_text=True)})

    @app.post("/bare/slack")
    def slack():
        if not verifier.is_valid_request(request.get_data(), dict(request.headers)):
            abort(401)
        record("slack")
        return jsonify(response_type="ephemeral", text="Noted.")

    @app.post("/bare/pagerduty")
    def pagerduty():
        expected = "v1=" + hmac.new(pagerduty_key, request.get_data(), hashlib.sha256).hexdigest()
        offered = request.headers.get("X-PagerDuty-Signature", "").split(",")
        if not any(hmac.compare_digest(expected, s.strip()) for s in offered):
            abort(401)
        record("pagerduty")
        return jsonify(status="ok"), 202

    @app.get("/login")  # the readiness probe the gunicorn harness polls
    def ready():
        return "ok"

    app.extensions["bench.engine"] = engine
    return app
